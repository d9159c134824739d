"""Running the `mailkit-async` command as a subprocess against an emulator on loopback.

`served_emulator` serves a `MailkitEmulator` on 127.0.0.1 from a thread of the test process
with its own event loop, so the emulator outlives a CLI killed with SIGKILL and its state can
be inspected afterwards (`ServedEmulator.read`, run on the server's loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from mailkit_async.testing import MailkitEmulator, serve

T = TypeVar("T")

CLIENT_ID = "4242"
# Distinctive, so a test can prove it never shows up in any output or file.
CLIENT_MD5 = "c0ffee5ecret5ecret5ecret5ecret42"


class ServedEmulator:
    """An emulator served on loopback by a background thread's event loop."""

    def __init__(self, emulator: MailkitEmulator) -> None:
        self.emulator = emulator
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with serve(self.emulator) as server:
            self.base_url = server.base_url
            self._ready.set()
            await self._stop.wait()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the emulator server did not start")

    def read(self, fn: Callable[[MailkitEmulator], T]) -> T:
        """Run `fn(emulator)` on the server's loop: no request is half-handled meanwhile."""

        async def call() -> T:
            return fn(self.emulator)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)

    def close(self) -> None:
        stop = self._stop
        if stop is not None:
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(30)


@contextlib.contextmanager
def served_emulator(emulator: MailkitEmulator | None = None) -> Iterator[ServedEmulator]:
    server = ServedEmulator(emulator or MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True))
    server.start()
    try:
        yield server
    finally:
        server.close()


def cli_env(*, credentials: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILKIT_")}
    if credentials:
        env["MAILKIT_CLIENT_ID"] = CLIENT_ID
        env["MAILKIT_CLIENT_MD5"] = CLIENT_MD5
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mailkit_async", *args]


def run_cli(
    *args: str,
    stdin: str | None = None,
    credentials: bool = True,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        input=stdin,
        env=cli_env(credentials=credentials),
        timeout=timeout,
        check=False,
    )


def start_cli(*args: str, **options: Any) -> subprocess.Popen[str]:
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(cli_command(*args), text=True, env=cli_env(), **options)


def journal_states(path: Path) -> Counter[str]:
    """Lines per state, read as another process would (read-only)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return Counter(dict(db.execute("SELECT state, COUNT(*) FROM items GROUP BY state")))


def wait_for_state(
    path: Path, process: subprocess.Popen[str], ready: Callable[[Counter[str]], bool]
) -> Counter[str]:
    """Poll the journal until `ready(states)`; fails if the process ends first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the CLI ended first (exit {process.returncode})")
        if path.exists():
            with contextlib.suppress(sqlite3.Error):  # the schema may not be there yet
                states = journal_states(path)
                if ready(states):
                    return states
        time.sleep(0.01)
    raise AssertionError("the journal never reached the expected state")


def read_report(path: Path) -> list[dict[str, str]]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


# Run in the child before the command, since a preexec_fn is unsafe with the server's thread.
_DROP_DAC = """
import ctypes, os
if os.geteuid() == 0:  # root writes anywhere: drop what lets it, to meet permissions as users do
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    class Data(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint32) for name in ("effective", "permitted", "inheritable")]
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = Header(0x20080522, 0), (Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise SystemExit(99)
    keep = ~0b1110 & 0xFFFFFFFF  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
    for field in ("effective", "permitted", "inheritable"):
        setattr(data[0], field, getattr(data[0], field) & keep)
    if libc.capset(ctypes.byref(header), data) != 0:
        raise SystemExit(99)
"""


def limited_command(
    *args: str,
    file_size: int | None = None,
    umask: int | None = None,
    as_user: bool = False,
    code: str = "",
) -> list[str]:
    """The command, run by a child that first limits itself.

    `file_size`: no file may grow past it (RLIMIT_FSIZE: a full disk, without root).
    `umask`: the child's umask. `as_user`: permission bits hold even for root.
    `code`: anything else to run first.
    """
    setup = ["import os, sys"]
    if file_size is not None:
        limit = f"({file_size}, {file_size})"
        setup.append(f"import resource; resource.setrlimit(resource.RLIMIT_FSIZE, {limit})")
    if umask is not None:
        setup.append(f"os.umask({umask})")
    if as_user:
        setup.append(_DROP_DAC)
    setup.append(code)
    setup.append("from mailkit_async._cli import main; sys.exit(main(sys.argv[1:]))")
    return [sys.executable, "-c", "\n".join(setup), *args]


def run_limited(
    *args: str, timeout: float = 120, **limits: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        limited_command(*args, **limits),
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=timeout,
        check=False,
    )


def can_write_as_user(directory: Path) -> bool:
    """Whether a child limited with `as_user=True` could create a file in `directory`."""
    probe = f"import tempfile; os.unlink(tempfile.mkstemp(dir={str(directory)!r})[1])"
    done = subprocess.run(
        [sys.executable, "-c", "import os\n" + _DROP_DAC + "\n" + probe],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a failure prints on stderr (asserting there is exactly one, no traceback)."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mailkit-async"), lines[0]
    return lines[0]


def start_limited(*args: str, **limits: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        limited_command(*args, **limits),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
