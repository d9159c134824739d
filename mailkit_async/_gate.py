"""A counting gate: at most N holders, the rest served first come, first served.

`asyncio.Semaphore` does the same with a coroutine per acquire and a scan of its waiters
per check. The batch (a place per item) and the HTTP engine (a connection slot per call)
take and give one per call, so this takes one at once when one is free, with no
coroutine, and makes a future only when none is.
"""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Gate"]


class Gate:
    """`take()` a place, or `await wait()` for one; `release()` gives it back."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def take(self) -> bool:
        """Take a free place at once; False when there is none (then `wait`).

        Never ahead of a waiter: a place that comes free goes to the first in line.
        """
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    async def wait(self) -> None:
        """Wait until a place is handed over by `release`."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a place just as it was cancelled: pass it on
            elif waiter in self._waiters:  # a release may have dropped it already
                self._waiters.remove(waiter)  # out of the line (a timeout, say)
            raise

    def release(self) -> None:
        """Give a place back: to the first waiter still waiting, or to the free count."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1
