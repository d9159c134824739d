"""Test support for the data-subject jobs (unsubscribe, export, adduser): inputs, accounts,
and a job killed with SIGKILL at random moments under the emulator's faults, then resumed."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from mailkit_async.testing import MailkitEmulator

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

PROTOCOLS = ("json", "xmlrpc")


def addresses(count: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}{n}@example.com" for n in range(count)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def account(subscribed: Sequence[str] = (), unsubscribed: Sequence[str] = ()) -> MailkitEmulator:
    """An emulator holding `subscribed` and `unsubscribed` on list 1 (no auto-create)."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    for address in subscribed:
        emulator.add_recipient(address)
    for address in unsubscribed:
        emulator.add_recipient(address, subscribed=False)
    return emulator


def read_lines(path: Path) -> list[dict[str, object]]:
    """A JSON Lines file, every line a JSON object (an empty line fails the test)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "", "the file must end with a line break"
    entries = [json.loads(line) for line in lines[:-1]]
    assert all(isinstance(entry, dict) and entry for entry in entries)
    return entries


def finished(states: Counter[str]) -> int:
    """Lines with an answer or a final state (neither to send nor to retry)."""
    return sum(n for state, n in states.items() if state not in ("pending", "error"))


class Killed(NamedTuple):
    rows: list[dict[str, str]]  # the report of the whole job, after the last run
    kills: Counter[str]  # how many runs were killed, how many finished first
    last_exit: int


def kill_and_resume(
    tmp_path: Path,
    command: tuple[str, ...],
    wanted: list[str],
    emulator: MailkitEmulator,
    *,
    protocol: str = "json",
    extra: tuple[str, ...] = (),
    kills: int = 5,
    seed: int = 11,
) -> Killed:
    """Kill -9 the job at random moments (under `emulator.faults`), then, faults cleared,
    rerun it until nothing is left to retry. `extra` is added to every run's arguments."""
    source = write_lines(tmp_path / "in.txt", wanted)
    journal = tmp_path / "job.sqlite"
    report = tmp_path / "report.jsonl"
    chance = random.Random(seed)
    counted: Counter[str] = Counter()
    with served_emulator(emulator) as server:
        args = (*command, str(source), "--journal", str(journal), "--report", str(report))
        options = (
            "--base-url", server.base_url, "--protocol", protocol, "--quiet",
            "--concurrency", "8", *extra,
        )  # fmt: skip
        for _ in range(kills):
            start = journal_states(journal) if journal.exists() else Counter()
            goal = finished(start) + chance.randint(1, 120)
            process = start_cli(*args, *options)
            try:
                wait_for_state(journal, process, lambda states, goal=goal: finished(states) >= goal)
            except AssertionError:
                process.communicate(timeout=30)  # it finished first: fine, nothing to kill
                counted["finished"] += 1
                continue
            process.kill()
            _, err = process.communicate(timeout=30)
            assert "Traceback" not in err
            counted["killed"] += 1
            assert integrity(journal) == "ok"
        server.read(lambda emu: setattr(emu, "faults", None))
        code = -1
        for _ in range(3):  # errors are retried by each rerun
            done = run_cli(*args, *options)
            assert "Traceback" not in done.stderr
            assert done.returncode in (0, 1), done.stderr
            code = done.returncode
            if code == 0:
                break
    return Killed(read_report(report), counted, code)
