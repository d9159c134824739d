"""When the disk, the file system or the process fails under a job: a full disk (simulated
with RLIMIT_FSIZE, no root needed), unwritable outputs, kills under service faults, and the
modes of the files a job creates. Each failure is one line and exit 2, nothing is sent that
should not be, and rerunning the same command completes the job."""

from __future__ import annotations

import random
import signal
import stat
from collections import Counter
from pathlib import Path

import pytest

from mailkit_async._cli._journal import Journal
from mailkit_async.testing import Faults, MailkitEmulator

from ._cli_support import (
    CLIENT_ID,
    CLIENT_MD5,
    can_write_as_user,
    integrity,
    journal_states,
    one_line_error,
    read_report,
    run_cli,
    run_limited,
    served_emulator,
    start_cli,
    start_limited,
    wait_for_state,
)

UNSAFE = ("revalidate", "--no-agreement", "--language", "en")


def addresses(count: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}{n}@example.com" for n in range(count)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def lapsed(wanted: list[str]) -> MailkitEmulator:
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    for address in wanted:
        emulator.add_recipient(address, subscribed=False)
    return emulator


@pytest.mark.parametrize("command", [("wipe",), UNSAFE], ids=["wipe", "revalidate"])
def test_a_disk_full_midway_stops_in_one_line_and_the_rerun_completes(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    wanted = addresses(3_000)
    source = write_lines(tmp_path / "in.txt", wanted)
    journal = tmp_path / "job.sqlite"
    report = tmp_path / "report.csv"
    Journal.open(str(journal), durable=False).close()
    with served_emulator(lapsed(wanted)) as server:
        args = (*command, str(source), "--journal", str(journal), "--report", str(report))
        options = ("--base-url", server.base_url, "--quiet", "--concurrency", "8")
        loaded = run_cli(*args, *options, "--dry-run")  # loads the input into the journal
        assert loaded.returncode == 0, loaded.stderr
        assert server.read(lambda emu: emu.calls) == []
        # Room for the journal as loaded, and for a little of the run's writes.
        full = run_limited(*args, *options, file_size=journal.stat().st_size + 200_000)
        assert full.returncode == 2
        line = one_line_error(full)
        assert f"the journal {journal} could not be written" in line
        assert "rerun the same command to resume" in line
        assert integrity(journal) == "ok"
        states = journal_states(journal)
        assert states["done"] > 0
        assert states["pending"] > 0
        sent_before = server.read(lambda emu: len(emu.calls))
        assert sent_before < len(wanted)

        again = run_cli(*args, *options)
        assert again.returncode == 0, again.stderr
        rows = read_report(report)
        confirmations = server.read(lambda emu: dict(emu.confirmations_sent))
        requests = server.read(lambda emu: dict(emu.wipe_requests))
    assert [row["recipient"] for row in rows] == wanted  # each once, none lost
    if command[0] == "wipe":
        assert set(Counter(row["status"] for row in rows)) <= {"queued", "already_queued"}
        assert len(requests) == len(wanted)
    else:
        # The failed write was tried again once the log could start over: every outcome
        # in flight was recorded, every claimed but unsent item given back.
        assert {row["status"] for row in rows} == {"confirmation_sent"}
        assert sorted(confirmations.values()) == [1] * len(wanted)


def test_a_disk_full_while_loading_sends_nothing_and_the_rerun_completes(
    tmp_path: Path,
) -> None:
    wanted = addresses(3_000)
    source = write_lines(tmp_path / "in.txt", wanted)
    journal = tmp_path / "job.sqlite"
    with served_emulator() as server:
        args = ("wipe", str(source), "--journal", str(journal), "--base-url", server.base_url)
        for limit in (0, 100_000):  # nothing can be written at all; the input does not fit
            full = run_limited(*args, file_size=limit)
            assert full.returncode == 2
            line = one_line_error(full)
            assert str(journal) in line
            assert server.read(lambda emu: emu.calls) == []
        again = run_cli(*args, "--quiet")
        assert again.returncode == 0, again.stderr
        requests = server.read(lambda emu: emu.wipe_requests)
    assert sorted(requests.values()) == [1] * len(wanted)


def unwritable(directory: Path) -> Path:
    directory.mkdir()
    directory.chmod(0o555)
    if can_write_as_user(directory):
        pytest.skip("cannot make a directory unwritable here")
    return directory


def test_an_unwritable_report_directory_is_refused_before_sending(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(50))
    report = unwritable(tmp_path / "ro") / "report.csv"
    with served_emulator() as server:
        done = run_limited(
            "wipe", str(source), "--base-url", server.base_url, "--report", str(report),
            as_user=True,
        )  # fmt: skip
        assert server.read(lambda emu: emu.calls) == []
    assert done.returncode == 2
    assert f"--report {report}: cannot write in" in one_line_error(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "ro"]  # not even a journal


def test_an_unwritable_journal_directory_is_refused_before_sending(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(50))
    journal = unwritable(tmp_path / "ro") / "job.sqlite"
    with served_emulator() as server:
        done = run_limited(
            "wipe", str(source), "--base-url", server.base_url, "--journal", str(journal),
            as_user=True,
        )  # fmt: skip
        assert server.read(lambda emu: emu.calls) == []
    assert done.returncode == 2
    assert "the journal's directory must exist and be writable" in one_line_error(done)


def test_a_read_only_journal_is_refused_before_sending(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(50))
    journal = tmp_path / "job.sqlite"
    Journal.open(str(journal), durable=False).close()
    journal.chmod(0o444)
    if can_write_as_user(tmp_path) and journal.stat().st_mode & 0o200:
        pytest.skip("cannot make a file read-only here")
    with served_emulator() as server:
        done = run_limited(
            "wipe", str(source), "--base-url", server.base_url, "--journal", str(journal),
            as_user=True,
        )  # fmt: skip
        assert server.read(lambda emu: emu.calls) == []
    assert done.returncode == 2
    line = one_line_error(done)
    assert "read-only" in line
    assert "Nothing was sent" in line


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_files_holding_addresses_are_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    source = write_lines(tmp_path / "in.txt", addresses(40))
    journal = tmp_path / "job.sqlite"
    report = tmp_path / "report.csv"
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    emulator.faults = Faults(slow=1.0, slow_seconds=2.0)
    with served_emulator(emulator) as server:
        process = start_limited(
            "wipe", str(source), "--journal", str(journal), "--report", str(report),
            "--base-url", server.base_url, "--quiet", "--concurrency", "2", umask=umask,
        )  # fmt: skip
        wait_for_state(journal, process, lambda states: states["dispatched"] > 0)
        names = ["job.sqlite", "job.sqlite-wal", "job.sqlite-shm", "job.sqlite.lock"]
        modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in names}
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 143
    assert modes == dict.fromkeys(names, 0o600)
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def finished(states: Counter[str]) -> int:
    """Lines with an answer or a final state (neither to send nor to retry)."""
    return sum(n for state, n in states.items() if state not in ("pending", "error"))


def kill_and_resume(
    tmp_path: Path, command: tuple[str, ...], wanted: list[str], emulator: MailkitEmulator
) -> tuple[list[dict[str, str]], MailkitEmulator, Counter[str]]:
    """Kill -9 the job at random moments, then run it until nothing is left to retry."""
    source = write_lines(tmp_path / "in.txt", wanted)
    journal = tmp_path / "job.sqlite"
    report = tmp_path / "report.jsonl"
    chance = random.Random(11)
    kills: Counter[str] = Counter()
    with served_emulator(emulator) as server:
        args = (*command, str(source), "--journal", str(journal), "--report", str(report))
        options = ("--base-url", server.base_url, "--quiet", "--concurrency", "8")
        for _ in range(5):
            start = journal_states(journal) if journal.exists() else Counter()
            goal = finished(start) + chance.randint(1, 150)
            process = start_cli(*args, *options)
            try:
                wait_for_state(journal, process, lambda states, goal=goal: finished(states) >= goal)
            except AssertionError:
                process.communicate(timeout=30)  # it finished first: fine, nothing to kill
                kills["finished"] += 1
                continue
            process.kill()
            _, err = process.communicate(timeout=30)
            assert "Traceback" not in err
            kills["killed"] += 1
            assert integrity(journal) == "ok"
        server.read(lambda emu: setattr(emu, "faults", None))
        for _ in range(3):  # errors are retried by each rerun
            done = run_cli(*args, *options)
            assert "Traceback" not in done.stderr
            assert done.returncode in (0, 1), done.stderr
            if done.returncode == 0:
                break
    return read_report(report), emulator, kills


def test_kills_under_faults_never_send_a_second_confirmation(tmp_path: Path) -> None:
    wanted = addresses(1_200, prefix="lapsed")
    emulator = lapsed(wanted)
    emulator.faults = Faults(
        seed=3, http_503=0.03, http_502=0.02, drop_before=0.02, drop_after=0.02, truncate=0.01
    )
    rows, emulator, kills = kill_and_resume(tmp_path, UNSAFE, wanted, emulator)
    assert [row["recipient"] for row in rows] == wanted  # each once
    ids = {emulator.recipient(a).id_email: a for a in wanted}  # type: ignore[union-attr]
    confirmed = {ids[i]: n for i, n in emulator.confirmations_sent.items()}
    assert max(confirmed.values()) == 1  # nobody ever got a second email
    for row in rows:
        if row["status"] == "confirmation_sent":
            assert confirmed.get(row["recipient"]) == 1
        else:
            assert row["status"] == "outcome_unknown", row
    print(f"\n{dict(kills)}; {Counter(row['status'] for row in rows)}")


def test_kills_under_faults_queue_every_address_once(tmp_path: Path) -> None:
    wanted = addresses(1_200)
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    emulator.faults = Faults(seed=5, http_503=0.03, drop_after=0.03, truncate=0.02)
    rows, emulator, kills = kill_and_resume(tmp_path, ("wipe",), wanted, emulator)
    assert [row["recipient"] for row in rows] == wanted
    assert {row["status"] for row in rows} <= {"queued", "already_queued"}
    assert len(emulator.wipe_queue) == len(wanted)
    print(f"\n{dict(kills)}")
