"""The counting gate under the batch's window and the HTTP engine's connection slots."""

from __future__ import annotations

import asyncio

import pytest

from mailkit_async._gate import Gate


async def test_places_are_handed_over_in_order_and_a_cancelled_waiters_is_passed_on() -> None:
    gate = Gate(1)
    assert gate.take()
    assert not gate.take()  # full
    order: list[str] = []

    async def waiting(name: str) -> None:
        await gate.wait()
        order.append(name)

    first = asyncio.create_task(waiting("first"))
    second = asyncio.create_task(waiting("second"))
    third = asyncio.create_task(waiting("third"))
    await asyncio.sleep(0)
    gate.release()  # handed to the first waiter...
    first.cancel()  # ...which is cancelled before it runs: the place goes on to the second
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == ["second"]
    assert first.cancelled()
    gate.release()
    await asyncio.gather(second, third)
    assert order == ["second", "third"]
    gate.release()
    assert gate.take()  # the place came back to the free count
    assert not gate.take()


async def test_a_free_place_is_never_taken_ahead_of_a_waiter() -> None:
    gate = Gate(1)
    assert gate.take()
    waiter = asyncio.create_task(gate.wait())
    await asyncio.sleep(0)
    gate.release()  # handed to the waiter, not to the free count
    assert not gate.take()
    await waiter
    gate.release()
    assert gate.take()


@pytest.mark.parametrize("released_first", [False, True])
async def test_a_waiter_that_times_out_leaves_the_line(released_first: bool) -> None:
    """A timed-out waiter is gone from the line (no waiter piles up behind a busy gate),
    whether or not a release already passed it over; the count stays right."""
    gate = Gate(1)
    assert gate.take()
    for _ in range(50):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0):
                await gate.wait()
    waiter = asyncio.create_task(gate.wait())
    await asyncio.sleep(0)
    waiter.cancel()
    if released_first:
        gate.release()  # drops the cancelled waiter itself, and frees the place
    await asyncio.gather(waiter, return_exceptions=True)
    assert waiter.cancelled()
    assert len(gate._waiters) == 0
    if not released_first:
        gate.release()
    assert gate.take()
    assert not gate.take()
