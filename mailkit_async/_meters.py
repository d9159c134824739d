"""Flow control for the batcher: meters that decide when the next call may start.

Shaped as aiometer's meters: a meter is a gate to wait at before starting, and a note when
what it let through has finished. `RateMeter` spaces attempts evenly (the batcher awaits it
before every attempt, so retries count against the rate); `AdaptiveLimit` bounds the items in
flight and adapts that bound to Mailkit's push-back.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Protocol

__all__ = ["AdaptiveLimit", "Meter", "RateMeter"]


class Meter(Protocol):
    """A gate: `wait_can_start()` before the work, `notify_finished()` after it."""

    async def wait_can_start(self) -> None: ...

    def notify_finished(self, *, throttled: bool) -> None:
        """The work let through has ended; `throttled`: Mailkit answered 429 or 503."""
        ...


class RateMeter:
    """At most `rate` starts per second, evenly spaced (no bursts after an idle spell)."""

    __slots__ = ("_interval", "_next")

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0

    async def wait_can_start(self) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)

    def notify_finished(self, *, throttled: bool) -> None:
        """Starts alone are paced; how the work ended changes nothing."""


class AdaptiveLimit:
    """AIMD: halve the in-flight limit when the service pushes back, regain +1 per window.

    Push-backs closer together than `cooldown` count once, so one burst of 503s does not
    collapse the limit to 1. Waiters are admitted first come, first served.
    """

    __slots__ = ("_ceiling", "_cooldown", "_in_flight", "_last_cut", "_limit", "_waiters")

    def __init__(self, ceiling: int, *, cooldown: float = 1.0) -> None:
        self._ceiling = ceiling
        self._limit = float(ceiling)
        self._in_flight = 0
        self._cooldown = cooldown
        self._last_cut = -math.inf
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> int:
        return max(1, int(self._limit))

    async def wait_can_start(self) -> None:
        if not self._waiters and self._in_flight < self.limit:
            self._in_flight += 1
            return
        admitted = asyncio.get_running_loop().create_future()
        self._waiters.append(admitted)
        try:
            await admitted
        except asyncio.CancelledError:
            if not admitted.cancelled():
                self._leave()  # admitted, then cancelled before it started: hand the slot on
            elif admitted in self._waiters:
                self._waiters.remove(admitted)
            raise

    def notify_finished(self, *, throttled: bool) -> None:
        if throttled:
            now = time.monotonic()
            if now - self._last_cut >= self._cooldown:
                self._limit = max(1.0, self._limit / 2)
                self._last_cut = now
        else:
            self._limit = min(float(self._ceiling), self._limit + 1.0 / self._limit)
        self._leave()

    def _leave(self) -> None:
        self._in_flight -= 1
        while self._waiters and self._in_flight < self.limit:
            admitted = self._waiters.popleft()
            if not admitted.done():  # a cancelled waiter leaves its place to the next
                self._in_flight += 1
                admitted.set_result(None)
