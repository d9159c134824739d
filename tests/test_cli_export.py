"""`mailkit-async export` (access) against the emulator on loopback: one JSON Line per
recipient of the whole job, in input order, from the journal, the same from both protocols
(JSON answers strings, XML-RPC ints), the not-found answer typed, never an empty line, the
file 0600 whatever the umask, proven writable before anything is sent, not written by a dry
run, and whole and never doubled after kills under faults, a SIGINT and resumes."""

from __future__ import annotations

import json
import signal
import stat
from pathlib import Path

import pytest

from mailkit_async.testing import Faults, MailkitEmulator

from ._cli_support import (
    CLIENT_ID,
    CLIENT_MD5,
    journal_states,
    one_line_error,
    run_cli,
    run_limited,
    served_emulator,
    start_cli,
    wait_for_state,
)
from ._gdpr_support import PROTOCOLS, account, addresses, kill_and_resume, read_lines, write_lines

GETSTATUS = "mailkit.email.getstatus"
HISTORY = "mailkit.email.getstatus.history"


def send_campaign(emulator: MailkitEmulator, campaign: int, address: str) -> None:
    body = json.dumps(
        {
            "function": "mailkit.sendmail",
            "id": CLIENT_ID,
            "md5": CLIENT_MD5,
            "parameters": {
                "mailinglist_id": 1,
                "campaign_id": campaign,
                "main": {"send_to": address},
            },
        }
    ).encode()
    assert emulator.handle("/json.fcgi", body).status == 200


def rich_account() -> MailkitEmulator:
    """Jane on two lists with a name and two campaigns sent; John unsubscribed."""
    emulator = account()
    emulator.add_recipient("jane@example.com", profile={"FIRST_NAME": "Jana", "CITY": "Brno"})
    news = emulator.add_mailing_list("News")
    emulator.add_recipient("jane@example.com", mailing_list_id=news)
    emulator.add_recipient("john@example.com", subscribed=False)
    campaign = emulator.add_campaign("Welcome", subject="Hello")
    send_campaign(emulator, campaign, "jane@example.com")
    send_campaign(emulator, campaign, "jane@example.com")
    emulator.clear_calls()
    return emulator


def test_export_on_both_protocols_gives_the_same_lines(tmp_path: Path) -> None:
    emulator = rich_account()
    john = emulator.recipient("john@example.com")
    assert john is not None
    lines = [
        "jane@example.com", "nobody@example.com", str(john.id_email), "oops", "JANE@example.com",
    ]  # fmt: skip
    source = write_lines(tmp_path / "request.txt", lines)
    outputs = {}
    with served_emulator(emulator) as server:
        for protocol in PROTOCOLS:
            output = tmp_path / f"{protocol}.jsonl"
            done = run_limited(
                "export", str(source), "--history", "--output", str(output),
                "--journal", str(tmp_path / f"{protocol}.sqlite"), "--protocol", protocol,
                "--base-url", server.base_url, "--quiet", umask=0o022,
            )  # fmt: skip
            assert done.returncode == 1, done.stderr  # the invalid line needs attention
            assert f"output:  {output}" in done.stdout
            assert stat.S_IMODE(output.stat().st_mode) == 0o600
            outputs[protocol] = read_lines(output)
        calls = server.read(lambda emu: emu.calls)
    assert outputs["json"] == outputs["xmlrpc"]  # the same typed records from either
    jane, nobody, by_id, oops = outputs["json"]  # one line per recipient: the duplicate folds
    assert (jane["line"], jane["recipient"], jane["status"], jane["error"]) == (
        1, "jane@example.com", "found", None,
    )  # fmt: skip
    records = jane["records"]
    assert isinstance(records, list)
    assert [(r["id_mailing_list"], r["first_name"], r["city"]) for r in records] == [
        (1, "Jana", "Brno"),
        (2, "", ""),
    ]
    history = jane["history"]
    assert isinstance(history, dict)
    assert history["status"] == "found"
    assert [e["subject"] for e in history["entries"]] == ["Hello", "Hello"]
    # Not found: a typed line, with no records and no history to ask for.
    assert nobody == {
        "line": 2, "recipient": "nobody@example.com", "status": "not_found", "message": "",
        "records": [], "history": None, "error": None,
    }  # fmt: skip
    assert (by_id["status"], [r["status"] for r in by_id["records"]]) == ("found", ["unsubscribe"])  # type: ignore[union-attr]
    assert oops == {
        "line": 4, "recipient": "oops", "status": "invalid_input",
        "error": "line 4: not an email address or ID_email",
    }  # fmt: skip
    # Per protocol: three lookups, and a history only for the two recipients found.
    functions = [function for _, function in calls]
    assert functions.count(GETSTATUS) == 6
    assert functions.count(HISTORY) == 4


def test_without_history_there_is_no_history_field(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", ["jane@example.com"])
    output = tmp_path / "out.jsonl"
    with served_emulator(rich_account()) as server:
        done = run_cli(
            "export", str(source), "--output", str(output), "--base-url", server.base_url,
        )  # fmt: skip
        functions = {function for _, function in server.read(lambda emu: emu.calls)}
    assert done.returncode == 0, done.stderr
    [line] = read_lines(output)
    assert "history" not in line
    assert functions == {GETSTATUS}


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("out.csv", "--output {path}: the name must end in .jsonl"),
        ("in.txt.jsonl", "would replace the job's input, journal or report"),
        ("missing/out.jsonl", "--output {path}: no such directory"),
    ],
)
def test_an_output_that_cannot_be_used_is_refused_before_sending(
    tmp_path: Path, output: str, message: str
) -> None:
    source = write_lines(tmp_path / "in.txt.jsonl", ["jane@example.com"])
    path = tmp_path / output
    with served_emulator(rich_account()) as server:
        done = run_cli("export", str(source), "--output", str(path), "--base-url", server.base_url)
        assert server.read(lambda emu: emu.calls) == []
    assert done.returncode == 2
    assert message.format(path=path) in one_line_error(done)


def test_a_dry_run_writes_no_output(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", ["jane@example.com", "john@example.com"])
    output = tmp_path / "out.jsonl"
    with served_emulator(rich_account()) as server:
        done = run_cli(
            "export", str(source), "--output", str(output), "--dry-run", "--base-url",
            server.base_url,
        )  # fmt: skip
        assert server.read(lambda emu: emu.calls) == []
    assert done.returncode == 0, done.stderr
    assert "dry run: 2 requests would be sent" in done.stdout
    assert not output.exists()


def test_kills_under_faults_leave_one_line_per_recipient(tmp_path: Path) -> None:
    wanted = addresses(600)
    emulator = account(subscribed=wanted[::2])  # every other one is not found
    emulator.faults = Faults(seed=9, http_503=0.04, drop_after=0.04, truncate=0.02)
    output = tmp_path / "export.jsonl"
    killed = kill_and_resume(
        tmp_path, ("export", "--history"), wanted, emulator, extra=("--output", str(output))
    )
    assert killed.last_exit == 0
    assert killed.kills["killed"] > 0
    lines = read_lines(output)
    assert [line["recipient"] for line in lines] == wanted  # each once, in input order
    assert [line["status"] for line in lines] == ["found", "not_found"] * 300
    for line in lines[::2]:
        assert line["records"][0]["email"] == line["recipient"]  # type: ignore[index]
        assert line["history"] == {"status": "found", "message": "", "entries": []}
    assert [line["recipient"] for line in killed.rows] == wanted  # the report agrees
    print(f"\n{dict(killed.kills)}")


def test_sigint_leaves_every_line_and_the_resume_completes_them(tmp_path: Path) -> None:
    wanted = addresses(2_000)
    source = write_lines(tmp_path / "in.txt", wanted)
    journal = tmp_path / "j.sqlite"
    output = tmp_path / "out.jsonl"
    with served_emulator(account(subscribed=wanted)) as server:
        args = ("export", str(source), "--journal", str(journal), "--output", str(output))
        options = ("--base-url", server.base_url, "--concurrency", "4", "--quiet")
        first = start_cli(*args, *options)
        wait_for_state(journal, first, lambda states: states["done"] >= 200)
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)
        assert first.returncode == 130
        states = journal_states(journal)
        interrupted = read_lines(output)
        second = run_cli(*args, *options)
    assert [line["recipient"] for line in interrupted] == wanted  # pending ones have a line
    assert sum(line["status"] == "found" for line in interrupted) == states["done"]
    assert {line["status"] for line in interrupted} == {"found", "pending"}
    assert second.returncode == 0, second.stderr
    lines = read_lines(output)
    assert [line["recipient"] for line in lines] == wanted  # replaced whole, never appended
    assert {line["status"] for line in lines} == {"found"}
