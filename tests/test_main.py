"""`python -m mailkit_async`: the README's first command, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "examples" / "recipients.txt"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILKIT_")}
    return subprocess.run(
        [sys.executable, "-m", "mailkit_async", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=60,
        check=False,
    )


def test_wipe_sample_against_emulator_both_protocols() -> None:
    """Each address once queued, the duplicate already queued, the bad line reported."""
    for protocol in ("json", "xmlrpc"):
        done = run("wipe", "--emulator", "--protocol", protocol, str(SAMPLE))
        rows = [line.split("\t") for line in done.stdout.splitlines()]
        statuses = sorted(row[1] for row in rows)
        assert statuses == ["already_queued", "invalid_input"] + ["queued"] * 7, done.stdout
        assert ["not-an-address", "invalid_input", "line 12 is not an address or ID"] in rows
        assert done.returncode == 1  # a line needs attention
        assert "done: 9 lines" in done.stderr


def test_all_good_input_exits_zero() -> None:
    """Standard input, every line fine: exit 0."""
    done = run("wipe", "--emulator", "-", stdin="a@example.com\nb@example.com\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["a@example.com\tqueued\tOK", "b@example.com\tqueued\tOK"]


def test_missing_credentials_say_how_to_give_them() -> None:
    """Without --emulator and without credentials: exit 2 and a clear message."""
    done = run("wipe", str(SAMPLE))
    assert done.returncode == 2
    assert "MAILKIT_CLIENT_ID" in done.stderr
    assert "Traceback" not in done.stderr
