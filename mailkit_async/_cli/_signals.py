"""SIGINT/SIGTERM during a job: stop taking items, give in-flight requests a grace period.

A second signal ends the grace at once. Either way the job's own cleanup still runs (the
batch is closed, the journal flushed), so the journal is consistent whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

__all__ = ["Stopper"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopper:
    """Turns the first signal into a graceful stop and the second into an immediate one."""

    def __init__(self, grace: float, on_stop: Callable[[str], None]) -> None:
        self._grace = grace
        self._on_stop = on_stop
        self.received: signal.Signals | None = None
        self.stopping = False  # a signal came, or stop() was called
        self.aborted = False
        self._deadline: asyncio.Timeout | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def exit_code(self) -> int | None:
        """128 + the signal's number, as shells report a process ended by it."""
        return None if self.received is None else 128 + int(self.received)

    def install(self) -> None:
        self._loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                self._loop.add_signal_handler(sig, self._received, sig)

    def uninstall(self) -> None:
        if self._loop is not None:
            for sig in _SIGNALS:
                with contextlib.suppress(NotImplementedError):
                    self._loop.remove_signal_handler(sig)

    def guard(self, deadline: asyncio.Timeout) -> None:
        """The timeout around the in-flight work, rescheduled by signals."""
        self._deadline = deadline
        if self.stopping:
            self._reschedule(0 if self.aborted else self._grace)

    def stop(self) -> None:
        """Stop as on a first signal, for a reason of the job's own (its journal failed)."""
        if not self.stopping:
            self.stopping = True
            self._reschedule(self._grace)

    def _reschedule(self, seconds: float) -> None:
        if self._deadline is not None and self._loop is not None:
            # RuntimeError: the guarded block has ended already; nothing left to cut short.
            with contextlib.suppress(RuntimeError):
                self._deadline.reschedule(self._loop.time() + seconds)

    def _received(self, sig: signal.Signals) -> None:
        if self.received is None:
            self.received = sig
            self._on_stop(sig.name)
            if not self.stopping:
                self.stopping = True
                self._reschedule(self._grace)
        else:
            self.aborted = True
            self._reschedule(0)
