"""Progress on stderr: a bar on a terminal (seen through a pseudo-terminal), lines otherwise."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path

from ._cli_support import cli_command, cli_env, run_cli


def sample(tmp_path: Path, count: int = 300) -> Path:
    source = tmp_path / "in.txt"
    source.write_text("".join(f"u{n}@example.com\n" for n in range(count)), encoding="utf-8")
    return source


def test_bar_on_a_terminal(tmp_path: Path) -> None:
    source = sample(tmp_path)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            cli_command("wipe", "--emulator", str(source)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            env=cli_env(credentials=False),
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                data = os.read(controller, 4096)
            except OSError:  # EIO: the command closed its end of the terminal
                break
            if not data:
                break
            chunks.append(data)
        stdout, _ = process.communicate(timeout=60)
    finally:
        os.close(controller)
    assert process.returncode == 0, stdout
    shown = b"".join(chunks).decode("utf-8", "replace")
    frames = [frame for frame in shown.split("\r") if frame.startswith("wipe ")]
    assert frames, shown
    # Redrawn in place, ending on the whole job: done/total, percent, rate, ETA, statuses.
    assert re.fullmatch(
        r"wipe [█#]{24} 300/300 100% [\d,]+/s ETA 0:00  queued 300\x1b\[K", frames[-1]
    )
    assert " 0/300 " in frames[0]
    assert len(frames) >= 2
    assert b"\r" not in stdout  # the summary is plain text on stdout
    assert b"queued" in stdout


def test_plain_lines_when_not_a_terminal_and_none_when_quiet(tmp_path: Path) -> None:
    source = sample(tmp_path, 20)
    plain = run_cli("wipe", "--emulator", str(source), "--journal", str(tmp_path / "a"))
    quiet = run_cli("wipe", "--emulator", str(source), "--journal", str(tmp_path / "b"), "--quiet")
    assert plain.returncode == quiet.returncode == 0
    assert "\r" not in plain.stderr
    assert plain.stderr.splitlines()[-1].startswith("wipe: 20/20 done (100%)")
    assert quiet.stderr == ""
    assert "queued" in quiet.stdout
