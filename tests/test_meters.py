"""The batcher's meters: AIMD limits adapt to push-back, admit waiters in order, and a
cancelled waiter never keeps or loses a slot; the rate meter spaces starts."""

from __future__ import annotations

import asyncio
import time

import pytest

from mailkit_async._meters import AdaptiveLimit, RateMeter


def test_adaptive_limit_halves_on_pushback_and_climbs_back() -> None:
    """AIMD: one cut per cooldown, +1/limit per success, never below 1 or above the ceiling."""

    async def scenario() -> list[int]:
        limit = AdaptiveLimit(16, cooldown=10.0)
        seen = []
        for throttled in (True, True, False, False, False):
            await limit.wait_can_start()
            limit.notify_finished(throttled=throttled)
            seen.append(limit.limit)
        return seen

    assert asyncio.run(scenario()) == [8, 8, 8, 8, 8]
    many = AdaptiveLimit(4, cooldown=0.0)

    async def cut_and_grow() -> tuple[int, int]:
        for _ in range(5):
            await many.wait_can_start()
            many.notify_finished(throttled=True)
        low = many.limit
        for _ in range(100):
            await many.wait_can_start()
            many.notify_finished(throttled=False)
        return low, many.limit

    assert asyncio.run(cut_and_grow()) == (1, 4)


async def test_waiters_are_admitted_first_come_first_served() -> None:
    """With the limit reached, slots go to waiters in the order they arrived."""
    limit = AdaptiveLimit(2)
    await limit.wait_can_start()
    await limit.wait_can_start()
    admitted: list[int] = []

    async def wait(n: int) -> None:
        await limit.wait_can_start()
        admitted.append(n)

    waiters = [asyncio.create_task(wait(n)) for n in range(5)]
    await asyncio.sleep(0)
    assert admitted == []
    for _ in range(5):
        limit.notify_finished(throttled=False)
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    assert admitted == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("when", ["waiting", "admitted"])
async def test_a_cancelled_waiter_hands_its_place_on(when: str) -> None:
    """Cancelled while waiting, or admitted and cancelled before it ran: the next one runs."""
    limit = AdaptiveLimit(1)
    await limit.wait_can_start()
    first = asyncio.create_task(limit.wait_can_start())
    second = asyncio.create_task(limit.wait_can_start())
    await asyncio.sleep(0)
    if when == "admitted":
        limit.notify_finished(throttled=False)  # admits `first`, which has not resumed yet
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    if when == "waiting":
        limit.notify_finished(throttled=False)
    await asyncio.wait_for(second, timeout=1)
    # Exactly one in flight now (`second`): a new caller must wait until it finishes.
    third = asyncio.create_task(limit.wait_can_start())
    await asyncio.sleep(0)
    assert not third.done()
    limit.notify_finished(throttled=False)
    await asyncio.wait_for(third, timeout=1)


async def test_rate_meter_spaces_starts_evenly() -> None:
    """rate=200: ten starts take at least 9 intervals, however fast they are asked for."""
    meter = RateMeter(200)
    started = time.monotonic()
    for _ in range(10):
        await meter.wait_can_start()
    assert time.monotonic() - started >= 9 / 200 * 0.9
