"""`mailkit-async adduser` (re-consent) against the emulator on loopback, on both protocols
(XML-RPC answers `data`/`status` ints, JSON `ID_email`/`status` strings): double opt-in by
default and never a second confirmation email, whatever kills under faults and resumes do;
`--no-double-opt-in` re-subscribes and resumes to every recipient on the list; ID_email
lines are invalid input, and a --list naming no list is refused before anything is sent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mailkit_async.testing import Faults

from ._cli_support import one_line_error, read_report, run_cli, served_emulator
from ._gdpr_support import PROTOCOLS, account, addresses, kill_and_resume, write_lines

ADDUSER = "mailkit.mailinglist.adduser"
FAULTS = {
    "http_503": 0.03,
    "http_502": 0.02,
    "drop_before": 0.02,
    "drop_after": 0.03,
    "truncate": 0.01,
}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_double_opt_in_emails_each_once_and_a_rerun_sends_nothing(
    tmp_path: Path, protocol: str
) -> None:
    lapsed = addresses(3, prefix="lapsed")
    emulator = account(unsubscribed=lapsed)
    old = emulator.recipient(lapsed[0])
    assert old is not None
    lines = [*lapsed, "new@example.com", str(old.id_email), "LAPSED0@example.com"]
    source = write_lines(tmp_path / "consent.txt", lines)
    report = tmp_path / "report.csv"
    with served_emulator(emulator) as server:
        args = (
            "adduser", str(source), "--list", "1", "--report", str(report), "--protocol",
            protocol, "--base-url", server.base_url,
        )  # fmt: skip
        first = run_cli(*args)
        again = run_cli(*args)
        confirmations = server.read(lambda emu: emu.confirmations_sent)
        calls = server.read(lambda emu: [function for _, function in emu.calls])
        ids = server.read(
            lambda emu: [emu.recipient(a).id_email for a in [*lapsed, "new@example.com"]]
        )  # type: ignore[union-attr]
    assert first.returncode == 1, first.stderr  # the ID_email line needs attention
    assert "adduser (double opt-in)" in first.stderr
    assert (
        f"line 5: '{old.id_email}' is an ID_email where adduser needs an email address; not sent"
        in first.stderr
    )
    rows = read_report(report)
    assert [(row["recipient"], row["status"]) for row in rows] == [
        *((a, "confirmation_sent") for a in [*lapsed, "new@example.com"]),
        (str(old.id_email), "invalid_input"),
    ]
    assert confirmations == dict.fromkeys(ids, 1)  # one email each, the rerun sent none
    assert again.returncode == 1
    # The list is checked once a run with something to send; then one adduser a recipient.
    assert calls == ["mailkit.mailinglist.list", *[ADDUSER] * 4]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_double_opt_in_subscribes_at_once_and_sends_no_email(
    tmp_path: Path, protocol: str
) -> None:
    emulator = account(subscribed=["here@example.com"], unsubscribed=["lapsed@example.com"])
    source = write_lines(
        tmp_path / "in.txt", ["here@example.com", "lapsed@example.com", "new@example.com"]
    )
    report = tmp_path / "report.jsonl"
    with served_emulator(emulator) as server:
        done = run_cli(
            "adduser", str(source), "--list", "1", "--no-double-opt-in", "--report",
            str(report), "--protocol", protocol, "--base-url", server.base_url, "--quiet",
        )  # fmt: skip
        subscribers = server.read(lambda emu: emu.subscribers(1))
        confirmations = server.read(lambda emu: emu.confirmations_sent)
        ids = server.read(
            lambda emu: [
                emu.recipient(a).id_email
                for a in ("here@example.com", "lapsed@example.com", "new@example.com")
            ]
        )  # type: ignore[union-attr]
    assert done.returncode == 0, done.stderr
    rows = read_report(report)
    assert [(row["status"], row["id_email"]) for row in rows] == [
        ("updated", ids[0]),
        ("updated_unsubscribed", ids[1]),
        ("inserted", ids[2]),
    ]
    assert subscribers == {"here@example.com", "lapsed@example.com", "new@example.com"}
    assert confirmations == {}


def test_a_list_that_does_not_exist_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(5))
    with served_emulator(account()) as server:
        done = run_cli(
            "adduser", str(source), "--list", "77", "--base-url", server.base_url, "--quiet"
        )
        calls = server.read(lambda emu: [function for _, function in emu.calls])
        confirmations = server.read(lambda emu: emu.confirmations_sent)
    assert done.returncode == 2
    line = one_line_error(done)
    assert "--list 77: the account has no such mailing list (it has 1 (Default))" in line
    assert "nothing was sent" in line
    assert "new --journal" in line
    assert calls == ["mailkit.mailinglist.list"]
    assert confirmations == {}


def test_after_a_wrong_list_the_right_one_runs_on_a_new_journal(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(3))
    with served_emulator(account()) as server:
        wrong = run_cli(
            "adduser", str(source), "--list", "77", "--base-url", server.base_url, "--quiet"
        )
        right = run_cli(
            "adduser", str(source), "--list", "1", "--base-url", server.base_url, "--quiet",
            "--journal", str(tmp_path / "right.journal.sqlite"),
        )  # fmt: skip
        confirmations = server.read(lambda emu: emu.confirmations_sent)
    assert wrong.returncode == 2
    assert right.returncode == 0, right.stderr
    assert sorted(confirmations.values()) == [1, 1, 1]


def test_bad_list_ids_are_usage_errors(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(1))
    for bad in ("0", "-3", "1.5", "x", "\u0661", "9" * 20):
        done = run_cli("adduser", str(source), "--list", bad, "--emulator")
        assert done.returncode == 2
        assert "expected a mailing list ID" in one_line_error(done)
    missing = run_cli("adduser", str(source), "--emulator")
    assert missing.returncode == 2
    assert "--list" in one_line_error(missing)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_kills_under_faults_never_send_a_second_confirmation(tmp_path: Path, protocol: str) -> None:
    wanted = addresses(600, prefix="lapsed")
    emulator = account(unsubscribed=wanted)
    emulator.faults = Faults(seed=4, functions={ADDUSER}, **FAULTS)
    killed = kill_and_resume(
        tmp_path, ("adduser", "--list", "1"), wanted, emulator, protocol=protocol
    )
    rows = killed.rows
    assert [row["recipient"] for row in rows] == wanted  # each once
    ids = {emulator.recipient(a).id_email: a for a in wanted}  # type: ignore[union-attr]
    confirmed = {ids[i]: n for i, n in emulator.confirmations_sent.items()}
    assert max(confirmed.values()) == 1  # nobody ever got a second email
    statuses = Counter(row["status"] for row in rows)
    assert set(statuses) == {"confirmation_sent", "outcome_unknown"}
    for row in rows:
        if row["status"] == "confirmation_sent":
            assert confirmed.get(row["recipient"]) == 1
    assert killed.last_exit == 1
    print(f"\n{dict(killed.kills)}; {dict(statuses)}")


def test_kills_under_faults_without_double_opt_in_put_everyone_on_the_list(
    tmp_path: Path,
) -> None:
    wanted = addresses(600, prefix="lapsed")
    emulator = account(unsubscribed=wanted)
    emulator.faults = Faults(seed=6, functions={ADDUSER}, **FAULTS)
    killed = kill_and_resume(
        tmp_path, ("adduser", "--list", "1", "--no-double-opt-in"), wanted, emulator
    )
    assert [row["recipient"] for row in killed.rows] == wanted
    # A repeat after a lost answer finds the recipient subscribed already: "updated".
    assert {row["status"] for row in killed.rows} <= {"updated_unsubscribed", "updated"}
    assert killed.last_exit == 0
    assert emulator.subscribers(1) == set(wanted)
    assert emulator.confirmations_sent == {}
    print(f"\n{dict(killed.kills)}")
