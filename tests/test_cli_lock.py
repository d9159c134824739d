"""One writer per journal: a second run is refused at once, naming the holder, and two runs
started together never send anything twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mailkit_async._cli._exit import CliError
from mailkit_async._cli._lock import JournalLock
from mailkit_async.testing import MailkitEmulator

from ._cli_support import (
    CLIENT_ID,
    CLIENT_MD5,
    cli_command,
    cli_env,
    one_line_error,
    read_report,
    run_cli,
    served_emulator,
    start_cli,
)


def addresses(count: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}{n}@example.com" for n in range(count)]


def wait_for_pid(lock_file: Path, pid: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if lock_file.exists() and lock_file.read_text().strip() == str(pid):
            return
        time.sleep(0.01)
    raise AssertionError(f"{lock_file} never named process {pid}")


def test_a_second_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    journal = str(tmp_path / "job.sqlite")
    with JournalLock(journal) as held:
        assert Path(held.path).read_text() == f"{os.getpid()}\n"
        with pytest.raises(CliError, match=rf"job\.sqlite is in use by process {os.getpid()}"):
            JournalLock(journal).acquire()
    assert not Path(journal + ".lock").exists()  # removed on release
    with JournalLock(journal):  # and free again
        pass


def test_a_lock_file_left_by_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    journal = str(tmp_path / "job.sqlite")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from mailkit_async._cli._lock import JournalLock;"
            f"JournalLock({journal!r}).acquire(); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(CliError, match=f"in use by process {holder.pid}"):
        JournalLock(journal).acquire()
    holder.kill()
    holder.communicate()
    assert Path(journal + ".lock").read_text().strip() == str(holder.pid)  # left behind
    with JournalLock(journal) as taken:
        assert Path(taken.path).read_text() == f"{os.getpid()}\n"


def test_a_second_run_is_refused_while_the_first_reads_its_input(tmp_path: Path) -> None:
    """The lock comes before the input: a run still reading standard input holds it."""
    journal = tmp_path / "job.sqlite"
    wanted = addresses(200)
    with served_emulator() as server:
        options = ("--journal", str(journal), "--base-url", server.base_url, "--quiet")
        first = start_cli("wipe", "-", *options, stdin=subprocess.PIPE)
        assert first.stdin is not None
        first.stdin.write("".join(f"{a}\n" for a in wanted[:100]))
        first.stdin.flush()
        wait_for_pid(Path(f"{journal}.lock"), first.pid)

        second = run_cli("wipe", "-", *options, stdin="someone@example.com\n")
        assert second.returncode == 2
        line = one_line_error(second)
        assert f"the journal {journal} is in use by process {first.pid}" in line
        assert server.read(lambda emu: emu.calls) == []  # nothing sent by either yet

        first.stdin.write("".join(f"{a}\n" for a in wanted[100:]))
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        requests = server.read(lambda emu: emu.wipe_requests)
    assert sorted(requests.values()) == [1] * len(wanted)


def test_runs_started_together_never_send_twice(tmp_path: Path) -> None:
    """revalidate --no-agreement started three times at once, twice: one runs, the others are
    refused (or, started after it ended, find nothing to send); nobody gets two emails."""
    attempts = [addresses(300, prefix=f"lapsed{attempt}-") for attempt in range(2)]
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    for address in [a for wanted in attempts for a in wanted]:
        emulator.add_recipient(address, subscribed=False)
    outcomes: Counter[str] = Counter()
    with served_emulator(emulator) as server:
        for attempt, wanted in enumerate(attempts):
            source = tmp_path / f"in{attempt}.txt"
            source.write_text("".join(f"{a}\n" for a in wanted), encoding="utf-8")
            report = tmp_path / f"r{attempt}.csv"
            command = cli_command(
                "revalidate", str(source), "--no-agreement", "--base-url", server.base_url,
                "--quiet", "--report", str(report),
            )  # fmt: skip
            runs = [
                subprocess.Popen(
                    command,
                    env=cli_env(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(3)
            ]
            for run in runs:
                _, err = run.communicate(timeout=120)
                assert "Traceback" not in err
                if run.returncode == 2:
                    assert "is in use by process" in err
                    assert len(err.splitlines()) == 1
                    outcomes["refused"] += 1
                else:
                    assert run.returncode == 0, err
                    outcomes["ran"] += 1
            rows = read_report(report)
            assert [row["recipient"] for row in rows] == wanted
            assert {row["status"] for row in rows} == {"confirmation_sent"}
        confirmations = server.read(lambda emu: emu.confirmations_sent)
    assert sorted(confirmations.values()) == [1] * sum(map(len, attempts))  # never two
    assert outcomes["ran"] >= 2
    print(f"\n{dict(outcomes)}")


def test_a_killed_run_leaves_the_journal_free(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("".join(f"{a}\n" for a in addresses(2000)), encoding="utf-8")
    journal = tmp_path / "job.sqlite"
    with served_emulator() as server:
        options = ("--journal", str(journal), "--base-url", server.base_url, "--quiet")
        first = start_cli("wipe", str(source), *options)
        wait_for_pid(Path(f"{journal}.lock"), first.pid)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        again = run_cli("wipe", str(source), *options)
    assert again.returncode == 0, again.stderr
