"""One process per journal: an OS-level lock, taken before the input is read, held to the end.

The lock is on a file next to the journal (`JOURNAL.lock`, holding the holder's pid), not on
the journal itself: SQLite's own locks on the journal come and go with its connections. The
operating system drops the lock when its process ends, however it ends (`kill -9` included),
so a lock file left behind by a killed run is simply taken over by the next one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import TracebackType
from typing import Final

from ._exit import CliError

__all__ = ["JournalLock"]

_ATTEMPTS: Final = 20  # a file replaced under us this many times in a row: give up


class JournalLock:
    """An exclusive, non-blocking lock for the journal at `journal`."""

    def __init__(self, journal: str) -> None:
        self.journal = journal
        self.path = journal + ".lock"
        self._handle: int | None = None

    def __enter__(self) -> JournalLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise CliError at once, naming the holder's pid where known."""
        for _ in range(_ATTEMPTS):
            handle = self._open()
            if not _try_lock(handle):
                holder = _read_pid(handle)
                os.close(handle)
                raise CliError(self._busy(holder))
            # The last holder may have removed the file between our open and our lock: a
            # lock on a file that no longer has the name locks nothing. Then try again.
            try:
                current = os.stat(self.path)
            except OSError:
                current = None
            if current is not None and os.path.samestat(os.fstat(handle), current):
                self._handle = handle
                _write_pid(handle)
                return
            os.close(handle)
        raise CliError(f"cannot lock the journal {self.journal}: its lock file keeps changing")

    def release(self) -> None:
        """Remove the lock file and let go (removed first, so nobody locks a stale name)."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        if sys.platform != "win32":  # Windows cannot remove a file that is open
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        os.close(handle)
        if sys.platform == "win32":
            with contextlib.suppress(OSError):
                os.unlink(self.path)

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            return os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise CliError(
                f"cannot create the lock file {self.path} next to the journal: {exc.strerror}; "
                "the journal's directory must exist and be writable: nothing was sent"
            ) from None

    def _busy(self, holder: int | None) -> str:
        who = f"process {holder}" if holder else "another process"
        return (
            f"the journal {self.journal} is in use by {who} (another mailkit-async run): "
            "nothing was sent, since two runs of one job would send twice. Wait for it to "
            "end, or stop it, and rerun; or pass another --journal for another job."
        )


if sys.platform == "win32":
    import msvcrt

    _LOCK_AT: Final = 1 << 20  # a byte past the pid, so the pid can be read while locked

    def _try_lock(handle: int) -> bool:
        os.lseek(handle, _LOCK_AT, os.SEEK_SET)
        try:
            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(handle: int) -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:  # e.g. ENOLCK on a file system without locks
            os.close(handle)
            raise CliError(f"cannot lock the journal: {exc.strerror}; nothing was sent") from None
        return True


def _read_pid(handle: int) -> int | None:
    try:
        os.lseek(handle, 0, os.SEEK_SET)
        pid = int(os.read(handle, 32).strip() or b"0")
    except (OSError, ValueError):
        return None
    return pid if pid > 0 else None


def _write_pid(handle: int) -> None:
    # Only a courtesy to whoever is refused: the lock works without it (a full disk, say).
    with contextlib.suppress(OSError):
        os.ftruncate(handle, 0)
        os.lseek(handle, 0, os.SEEK_SET)
        os.write(handle, f"{os.getpid()}\n".encode("ascii"))
