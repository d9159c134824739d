"""Whole jobs: the CLI as a subprocess against the emulator served on loopback.

Kills and signals come when the journal shows a given state (polled from this process), so
the tests wait on facts, not on timings.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path

from mailkit_async.testing import Faults, MailkitEmulator

from ._cli_support import (
    CLIENT_ID,
    CLIENT_MD5,
    integrity,
    journal_states,
    read_report,
    run_cli,
    served_emulator,
    start_cli,
    wait_for_state,
)

CONCURRENCY = 8


def addresses(count: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}{n}@example.com" for n in range(count)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_sigkill_midway_then_resume_sends_each_once(tmp_path: Path) -> None:
    """10,000 wipes: kill -9 midway, rerun; every recipient reported and queued once."""
    wanted = addresses(10_000)
    source = write_lines(tmp_path / "erase.txt", wanted)
    journal = tmp_path / "erase.journal.sqlite"
    report = tmp_path / "erase.csv"
    args = ("wipe", str(source), "--journal", str(journal), "--report", str(report))
    with served_emulator() as server:
        options = ("--base-url", server.base_url, "--concurrency", str(CONCURRENCY), "--quiet")
        first = start_cli(*args, *options)
        at_kill = wait_for_state(journal, first, lambda states: states["done"] >= 2_000)
        first.kill()
        first.communicate(timeout=30)
        assert first.returncode == -signal.SIGKILL
        after_kill = journal_states(journal)
        assert integrity(journal) == "ok"
        assert after_kill["done"] >= at_kill["done"]
        assert after_kill["pending"] > 0
        assert sum(after_kill.values()) == len(wanted)

        second = run_cli(*args, *options)
        assert second.returncode == 0, second.stderr
        rows = read_report(report)
        requests = server.read(lambda emu: emu.wipe_requests)
        queue = server.read(lambda emu: emu.wipe_queue)
        ids = server.read(lambda emu: {a: emu.recipient(a).id_email for a in wanted})  # type: ignore[union-attr]

    assert [row["recipient"] for row in rows] == wanted  # each exactly once, in input order
    statuses = Counter(row["status"] for row in rows)
    assert set(statuses) <= {"queued", "already_queued"}
    assert queue == set(ids.values())  # every address queued, once: the queue is a set
    resent = sorted(n for n in requests.values() if n > 1)
    assert sum(requests.values()) == len(wanted) + len(resent)
    assert set(resent) <= {2}
    # Sent twice: only what was in flight (dispatched, not yet recorded) at the kill.
    assert len(resent) == statuses["already_queued"] <= after_kill["dispatched"]
    assert after_kill["dispatched"] <= 3 * CONCURRENCY + 256
    # "Email has already been inserted" carries no ID_email; "OK" does.
    assert all(row["id_email"] == str(ids[row["recipient"]]) for row in rows if row["id_email"])
    print(
        f"\nkilled at {after_kill['done']} done, {after_kill['dispatched']} dispatched; "
        f"sent twice: {len(resent)}"
    )


def test_sigint_stops_cleanly_and_resume_completes(tmp_path: Path) -> None:
    """SIGINT: exit 130, nothing left dispatched, in-flight finished; the rerun completes."""
    wanted = addresses(3_000)
    source = write_lines(tmp_path / "in.txt", wanted)
    journal = tmp_path / "in.journal.sqlite"
    report = tmp_path / "report.jsonl"
    args = ("wipe", str(source), "--journal", str(journal), "--report", str(report))
    with served_emulator() as server:
        options = ("--base-url", server.base_url, "--concurrency", "4")
        first = start_cli(*args, *options)
        wait_for_state(journal, first, lambda states: states["done"] >= 300)
        first.send_signal(signal.SIGINT)
        out, err = first.communicate(timeout=30)
        assert first.returncode == 130, err
        assert "SIGINT" in err
        assert "stopped by SIGINT" in out
        states = journal_states(journal)
        assert integrity(journal) == "ok"
        assert set(states) == {"done", "pending"}
        assert states["pending"] > 0
        interrupted = read_report(report)
        assert len(interrupted) == len(wanted)
        assert Counter(row["status"] for row in interrupted) == {
            "queued": states["done"],
            "pending": states["pending"],
        }

        second = run_cli(*args, *options)
        assert second.returncode == 0, second.stderr
        requests = server.read(lambda emu: emu.wipe_requests)
    rows = read_report(report)
    assert [row["recipient"] for row in rows] == wanted
    assert {row["status"] for row in rows} == {"queued"}
    # A graceful stop lets in-flight requests finish and records them: nothing sent twice.
    assert sorted(requests.values()) == [1] * len(wanted)


def test_second_signal_stops_at_once(tmp_path: Path) -> None:
    """SIGTERM, then SIGTERM again: in-flight requests are abandoned, the journal stays sound."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    emulator.faults = Faults(slow=1.0, slow_seconds=3.0)  # every answer takes 3 s
    source = write_lines(tmp_path / "in.txt", addresses(50))
    journal = tmp_path / "j.sqlite"
    with served_emulator(emulator) as server:
        process = start_cli(
            "wipe", str(source), "--journal", str(journal), "--base-url", server.base_url,
            "--concurrency", "4", "--grace", "60",
        )  # fmt: skip
        wait_for_state(journal, process, lambda states: states["dispatched"] > 0)
        process.send_signal(signal.SIGTERM)
        assert process.stderr is not None
        for line in process.stderr:  # wait until the first signal has been taken
            if "taking no new items" in line:
                break
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 143
    assert "stopped by SIGTERM" in out
    # Had it waited for the slow answers, those items would be done; they are pending again.
    assert journal_states(journal) == {"pending": 50}
    assert integrity(journal) == "ok"


def test_no_agreement_resume_never_resends_a_dispatched_item(tmp_path: Path) -> None:
    """Unsafe job killed midway: what was dispatched is outcome_unknown, never re-sent."""
    wanted = addresses(1_500, prefix="lapsed")
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    for address in wanted:
        emulator.add_recipient(address, subscribed=False)
    source = write_lines(tmp_path / "in.txt", wanted)
    journal = tmp_path / "j.sqlite"
    report = tmp_path / "r.csv"
    args = (
        "revalidate", str(source), "--no-agreement", "--language", "en",
        "--journal", str(journal), "--report", str(report), "--quiet",
    )  # fmt: skip
    with served_emulator(emulator) as server:
        options = ("--base-url", server.base_url, "--concurrency", str(CONCURRENCY))
        first = start_cli(*args, *options)
        wait_for_state(journal, first, lambda states: states["done"] >= 300)
        first.kill()
        first.communicate(timeout=30)
        dispatched = journal_states(journal)["dispatched"]
        assert dispatched > 0

        second = run_cli(*args, *options)
        assert second.returncode == 1, second.stderr  # outcome_unknown needs attention
        assert f"{dispatched} items in flight" in second.stdout
        confirmations = server.read(lambda emu: emu.confirmations_sent)
        ids = server.read(lambda emu: {a: emu.recipient(a).id_email for a in wanted})  # type: ignore[union-attr]
        third = run_cli(*args, *options)  # a further rerun sends nothing at all
        assert server.read(lambda emu: emu.confirmations_sent) == confirmations

    assert third.returncode == 1
    rows = read_report(report)
    assert [row["recipient"] for row in rows] == wanted
    statuses = Counter(row["status"] for row in rows)
    assert statuses == {
        "confirmation_sent": len(wanted) - dispatched,
        "outcome_unknown": dispatched,
    }
    assert max(confirmations.values()) == 1  # nobody got a second email
    for row in rows:
        sent = confirmations.get(ids[row["recipient"]], 0)
        assert sent == (1 if row["status"] == "confirmation_sent" else sent)


def test_invalid_and_duplicate_lines_reported_never_sent(tmp_path: Path) -> None:
    lines = [
        "email,name",  # 1: header
        "jane@example.com,Jane",  # 2
        "not-an-address,Bob",  # 3
        "JANE@example.com,Jane again",  # 4: the same recipient
        "",  # 5
        "12345,a number in the email column",  # 6
        "john@example.org,John",  # 7
        "john@example.org,John",  # 8
    ]
    source = write_lines(tmp_path / "export.csv", lines)
    report = tmp_path / "r.csv"
    with served_emulator() as server:
        done = run_cli(
            "wipe", str(source), "--base-url", server.base_url, "--report", str(report),
        )  # fmt: skip
        calls = server.read(lambda emu: emu.calls)
        requests = server.read(lambda emu: emu.wipe_requests)
    assert done.returncode == 1
    assert "line 3: 'not-an-address' is not an email address; not sent" in done.stderr
    assert "line 4: JANE@example.com repeats line 2 (sent once)" in done.stderr
    assert "line 6: '12345' is a number where an email address belongs; not sent" in done.stderr
    assert "line 8: john@example.org repeats line 7 (sent once)" in done.stderr
    assert len(calls) == 2
    assert sorted(requests.values()) == [1, 1]
    rows = read_report(report)
    assert [(row["recipient"], row["status"]) for row in rows] == [
        ("jane@example.com", "queued"),
        ("not-an-address", "invalid_input"),
        ("12345", "invalid_input"),
        ("john@example.org", "queued"),
    ]
    assert rows[1]["error"] == "line 3: not an email address"
    assert (tmp_path / "export.csv.journal.sqlite").exists()  # the default journal


def test_credentials_never_appear(tmp_path: Path) -> None:
    """Not in output, report or journal, also when the service refuses them."""
    source = write_lines(tmp_path / "in.txt", addresses(20))
    md5_file = tmp_path / "md5"
    md5_file.write_text("wrong" + CLIENT_MD5 + "\n", encoding="utf-8")
    with served_emulator() as server:
        good = run_cli(
            "wipe", str(source), "--base-url", server.base_url, "--report",
            str(tmp_path / "r.jsonl"),
        )  # fmt: skip
        refused = run_cli(
            "wipe", str(source), "--journal", str(tmp_path / "other.sqlite"), "--base-url",
            server.base_url, "--client-id", CLIENT_ID, "--client-md5-file", str(md5_file),
        )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert refused.returncode == 2
    assert "refused the credentials" in refused.stdout
    assert journal_states(tmp_path / "other.sqlite") == {"pending": 20}
    texts = [good.stdout, good.stderr, refused.stdout, refused.stderr]
    files = [p.read_bytes() for p in tmp_path.iterdir() if p.name != "md5"]
    for secret in (CLIENT_MD5, "wrong" + CLIENT_MD5):
        assert not any(secret in text for text in texts)
        assert not any(secret.encode() in blob for blob in files)


def test_resume_with_other_parameters_is_refused(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(3))
    with served_emulator() as server:
        first = run_cli("wipe", str(source), "--base-url", server.base_url)
        assert first.returncode == 0, first.stderr
        other = run_cli("wipe", str(source), "--base-url", server.base_url, "--protocol", "xmlrpc")
        source.write_text("someone@example.com\n", encoding="utf-8")
        changed = run_cli("wipe", str(source), "--base-url", server.base_url)
        assert len(server.read(lambda emu: emu.calls)) == 3
    assert other.returncode == 2
    assert "belongs to another job: protocol is json there, xmlrpc here" in other.stderr
    assert changed.returncode == 2
    assert "the input has changed" in changed.stderr


def test_dry_run_sends_nothing_and_creates_no_journal(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", [*addresses(4), "oops", "user1@example.com"])
    clean = write_lines(tmp_path / "clean.txt", addresses(3))
    with served_emulator() as server:
        done = run_cli("wipe", str(source), "--base-url", server.base_url, "--dry-run", "--json")
        fine = run_cli("wipe", str(clean), "--base-url", server.base_url, "--dry-run")
        assert server.read(lambda emu: emu.calls) == []
    assert done.returncode == 1, done.stderr  # an invalid line needs attention
    assert not (tmp_path / "in.txt.journal.sqlite").exists()
    summary = json.loads(done.stdout)
    assert summary["would_send"] == 4
    assert summary["invalid_lines"] == summary["duplicate_lines"] == 1
    assert "line 5: 'oops'" in done.stderr
    assert fine.returncode == 0, fine.stderr
    assert "dry run: 3 requests would be sent; nothing was sent" in fine.stdout
    assert "first to send: line 1 user0@example.com" in fine.stdout
