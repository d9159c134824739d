"""`mailkit-async unsubscribe` (objection) against the emulator on loopback, on both protocols
(XML-RPC answers a bare ID, JSON a struct): what is unsubscribed and reported, that no
opt-out email goes out unless asked, that with `--send-optout` each recipient gets at most
one however the job is killed under faults and resumed, and that without it a killed job
resumes to every recipient unsubscribed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mailkit_async.testing import Faults

from ._cli_support import read_report, run_cli, served_emulator
from ._gdpr_support import PROTOCOLS, account, addresses, kill_and_resume, write_lines

UNSUBSCRIBE = "mailkit.email.unsubscribe"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unsubscribe_reports_each_recipient_and_sends_no_email(
    tmp_path: Path, protocol: str
) -> None:
    people = addresses(3)
    emulator = account(subscribed=people)
    john = emulator.recipient(people[1])
    assert john is not None
    lines = [
        people[0],
        "nobody@example.com",
        str(john.id_email),
        "oops",
        people[0].upper(),
        people[2],
    ]
    source = write_lines(tmp_path / "objection.txt", lines)
    report = tmp_path / "report.csv"
    with served_emulator(emulator) as server:
        done = run_cli(
            "unsubscribe", str(source), "--report", str(report), "--protocol", protocol,
            "--base-url", server.base_url, "--quiet",
        )  # fmt: skip
        unsubscribed = server.read(lambda emu: emu.unsubscribed)
        optouts = server.read(lambda emu: emu.optouts_sent)
        calls = server.read(lambda emu: emu.calls)
        ids = server.read(lambda emu: [emu.recipient(a).id_email for a in people])  # type: ignore[union-attr]
    assert done.returncode == 1, done.stderr  # the invalid line needs attention
    assert "line 4: 'oops' is not an email address or ID_email; not sent" in done.stderr
    rows = read_report(report)
    assert [(row["recipient"], row["status"]) for row in rows] == [
        (people[0], "unsubscribed"),
        ("nobody@example.com", "invalid_recipient"),
        (str(john.id_email), "unsubscribed"),
        ("oops", "invalid_input"),
        (people[2], "unsubscribed"),
    ]
    assert [rows[n]["id_email"] for n in (0, 2, 4)] == [str(i) for i in ids]
    assert unsubscribed == set(ids)
    assert optouts == {}  # no opt-out email unless asked
    assert len(calls) == 4  # the duplicate and the invalid line were never sent
    assert {function for _, function in calls} == {UNSUBSCRIBE}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_send_optout_emails_each_once_and_a_rerun_sends_nothing(
    tmp_path: Path, protocol: str
) -> None:
    people = addresses(20)
    source = write_lines(tmp_path / "in.txt", people)
    with served_emulator(account(subscribed=people)) as server:
        args = (
            "unsubscribe", str(source), "--send-optout", "--protocol", protocol,
            "--base-url", server.base_url,
        )  # fmt: skip
        first = run_cli(*args)
        again = run_cli(*args)
        optouts = server.read(lambda emu: emu.optouts_sent)
        calls = server.read(lambda emu: len(emu.calls))
    assert first.returncode == 0, first.stderr
    assert "unsubscribe (opt-out email)" in first.stderr  # progress names the unsafe job
    assert again.returncode == 0, again.stderr
    assert sorted(optouts.values()) == [1] * len(people)
    assert calls == len(people)
    other = run_cli("unsubscribe", str(source), "--emulator")  # the same journal, no email now
    assert other.returncode == 2
    assert "send_optout is yes there, no here" in other.stderr


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(5))
    with served_emulator(account(subscribed=addresses(5))) as server:
        done = run_cli(
            "unsubscribe", str(source), "--send-optout", "--dry-run", "--base-url",
            server.base_url,
        )  # fmt: skip
        assert server.read(lambda emu: emu.calls) == []
    assert done.returncode == 0, done.stderr
    assert "dry run: 5 requests would be sent; nothing was sent" in done.stdout
    assert not (tmp_path / "in.txt.journal.sqlite").exists()


FAULTS = {
    "http_503": 0.03,
    "http_502": 0.02,
    "drop_before": 0.02,
    "drop_after": 0.03,
    "truncate": 0.01,
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_kills_under_faults_never_send_a_second_optout(tmp_path: Path, protocol: str) -> None:
    wanted = addresses(600)
    emulator = account(subscribed=wanted)
    emulator.faults = Faults(seed=7, **FAULTS)
    killed = kill_and_resume(
        tmp_path, ("unsubscribe", "--send-optout"), wanted, emulator, protocol=protocol
    )
    rows = killed.rows
    assert [row["recipient"] for row in rows] == wanted  # each once
    ids = {emulator.recipient(a).id_email: a for a in wanted}  # type: ignore[union-attr]
    optouts = {ids[i]: n for i, n in emulator.optouts_sent.items()}
    assert max(optouts.values()) == 1  # nobody ever got a second opt-out email
    statuses = Counter(row["status"] for row in rows)
    assert set(statuses) <= {"unsubscribed", "outcome_unknown"}
    assert statuses["outcome_unknown"] > 0  # the kills and drops did leave some in doubt
    for row in rows:
        if row["status"] == "unsubscribed":
            assert optouts.get(row["recipient"]) == 1
    assert killed.last_exit == 1  # outcome_unknown needs a person
    print(f"\n{dict(killed.kills)}; {dict(statuses)}")


def test_kills_under_faults_without_optout_unsubscribe_everyone(tmp_path: Path) -> None:
    wanted = addresses(600)
    emulator = account(subscribed=wanted)
    emulator.faults = Faults(seed=8, **FAULTS)
    killed = kill_and_resume(tmp_path, ("unsubscribe",), wanted, emulator)
    assert [row["recipient"] for row in killed.rows] == wanted
    assert {row["status"] for row in killed.rows} == {"unsubscribed"}  # safe: all resent
    assert killed.last_exit == 0
    assert emulator.unsubscribed == {emulator.recipient(a).id_email for a in wanted}  # type: ignore[union-attr]
    assert emulator.optouts_sent == {}
    print(f"\n{dict(killed.kills)}")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_sms_recipients_are_unsubscribed_by_phone_number_and_no_other_job_takes_one(
    tmp_path: Path, protocol: str
) -> None:
    """The unsubscribe page takes a phone number where an address goes; wipe's does not."""
    emulator = account(subscribed=addresses(1))
    sms = emulator.add_recipient("+420777123456")
    source = write_lines(tmp_path / "in.txt", [addresses(1)[0], "+420777123456", "+420 777"])
    report = tmp_path / "report.csv"
    with served_emulator(emulator) as server:
        done = run_cli(
            "unsubscribe", str(source), "--report", str(report), "--protocol", protocol,
            "--base-url", server.base_url, "--quiet",
        )  # fmt: skip
        wiped = run_cli(
            "wipe", str(source), "--journal", str(tmp_path / "wipe.journal"), "--protocol",
            protocol, "--base-url", server.base_url, "--quiet",
        )  # fmt: skip
        unsubscribed = server.read(lambda emu: emu.unsubscribed)
        calls = server.read(lambda emu: emu.calls)
    assert done.returncode == 1, done.stderr  # "+420 777" needs attention
    rows = read_report(report)
    assert [(row["recipient"], row["status"]) for row in rows] == [
        (addresses(1)[0], "unsubscribed"),
        ("'+420777123456", "unsubscribed"),  # the CSV report defuses a leading "+"
        ("'+420 777", "invalid_input"),
    ]
    assert sms.id_email in unsubscribed
    assert "line 2: '+420777123456' is a phone number, which wipe does not take" in wiped.stderr
    assert [function for _, function in calls].count("mailkit.email.wipe") == 1  # the address
