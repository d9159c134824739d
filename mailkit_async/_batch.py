"""Bounded fan-out: many calls, at most N in flight, one outcome per input, streamed.

A fixed set of workers pulls items from the input one at a time, so a million-line input
never means a million tasks or futures: memory is bounded by the window (in flight plus
waiting to be read), not by the input's length.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from typing import Any, Generic, TypeVar

import attrs

from ._dispatch import CallTrace, RetryEvent, new_trace
from ._errors import InvalidArgumentError, MailkitError, OutcomeUnknownError
from ._retry import is_rate_limit
from ._validate import check_count, check_instance, checked_arguments, describe

__all__ = ["Batch", "BatchSummary", "Outcome", "fan_out"]

I = TypeVar("I")  # noqa: E741 - the conventional name for an input item
R = TypeVar("R")


@attrs.frozen
class Outcome(Generic[I, R]):
    """What became of one input item: exactly one of `result` and `error` is set."""

    item: I
    result: R | None
    error: MailkitError | None
    index: int  # the item's position in the input, from 0
    attempts: int  # HTTP attempts made (0 when refused before sending)

    @property
    def ok(self) -> bool:
        """True when the call produced a result (whatever its status)."""
        return self.error is None


@attrs.define
class BatchSummary:
    """Running counts of a batch; final once the batch is exhausted."""

    outcomes: int = 0
    statuses: Counter[str] = attrs.field(factory=Counter)
    errors: Counter[str] = attrs.field(factory=Counter)  # by exception class name
    retries: int = 0
    outcome_unknown: int = 0
    started: float = attrs.field(factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started


class Batch(AsyncIterator[Outcome[I, R]]):
    """The outcomes of a batch, as they complete: `async for outcome in batch`.

    `summary` counts them as they are read. Breaking out of the loop cancels what is in
    flight; `async with batch:` (or `aclose()`) makes that cleanup finish before moving on.
    """

    @checked_arguments
    def __init__(self, outcomes: AsyncIterator[Outcome[I, R]], summary: BatchSummary) -> None:
        check_instance(outcomes, AsyncIterator, name="outcomes", what="an async iterator")
        check_instance(summary, BatchSummary, name="summary", what="a BatchSummary")
        self._outcomes = outcomes
        self._summary = summary

    @property
    def summary(self) -> BatchSummary:
        return self._summary

    def __aiter__(self) -> Batch[I, R]:
        return self

    async def __anext__(self) -> Outcome[I, R]:
        return await anext(self._outcomes)

    @checked_arguments
    async def aclose(self) -> None:
        """Stop: cancel in-flight calls and wait for the workers to finish."""
        aclose = getattr(self._outcomes, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> Batch[I, R]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _Pacer:
    """A smooth rate limit: attempts start at most `rate` per second, evenly spaced."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0

    async def __call__(self) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class _AdaptiveLimit:
    """AIMD: halve the in-flight limit when the service pushes back, regain +1 per window.

    Throttle signals closer together than `cooldown` count once, so one burst of 503s does
    not collapse the limit to 1.
    """

    def __init__(self, ceiling: int, *, cooldown: float = 1.0) -> None:
        self._ceiling = ceiling
        self._limit = float(ceiling)
        self._in_flight = 0
        self._cooldown = cooldown
        self._last_cut = -math.inf
        self._changed = asyncio.Condition()

    @property
    def limit(self) -> int:
        return max(1, int(self._limit))

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._in_flight < self.limit)
            self._in_flight += 1

    async def release(self, *, throttled: bool) -> None:
        async with self._changed:
            self._in_flight -= 1
            now = time.monotonic()
            if throttled:
                if now - self._last_cut >= self._cooldown:
                    self._limit = max(1.0, self._limit / 2)
                    self._last_cut = now
            else:
                self._limit = min(float(self._ceiling), self._limit + 1.0 / self._limit)
            self._changed.notify_all()


def check_batch_options(
    items: object, concurrency: object, rate: object, ceiling: int, *, items_name: str = "items"
) -> None:
    """Refuse bad batch arguments before any work starts."""
    if not isinstance(items, Iterable | AsyncIterable) or isinstance(items, str | bytes):
        raise InvalidArgumentError(
            f"{items_name} must be an iterable or async iterable, not {type(items).__name__}"
        )
    count = check_count(concurrency, name="concurrency")
    if count > ceiling:
        # More waiters than pooled connections is where httpcore leaks slots on cancellation.
        raise InvalidArgumentError(
            f"concurrency {count} exceeds the client's max_concurrency {ceiling}; "
            f"create the client with max_concurrency={count}"
        )
    if rate is not None and not 0 < _per_second(rate) < math.inf:
        raise InvalidArgumentError(
            f"rate must be a positive number of requests/s, got {describe(rate)}"
        )


def _per_second(rate: object) -> float:
    """`rate` as a float: NaN when it is no number, infinity when no float holds it."""
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        return math.nan
    try:
        return float(rate)
    except OverflowError:
        return math.inf


async def fan_out(
    items: Iterable[I] | AsyncIterable[I],
    work: Callable[[I, CallTrace, Callable[[], Awaitable[None]] | None], Awaitable[R]],
    *,
    concurrency: int,
    rate: float | None = None,
    adaptive: bool = False,
    ordered: bool = False,
    status_of: Callable[[R], str] | None = None,
    on_outcome: Callable[[Outcome[I, R]], None] | None = None,
    on_retry: Callable[[RetryEvent], None] | None = None,
    summary: BatchSummary | None = None,
) -> AsyncIterator[Outcome[I, R]]:
    """Run `work` over `items` with at most `concurrency` in flight; yield each Outcome.

    A MailkitError from one item becomes that item's outcome; anything else (a bug in the
    caller's iterable or hooks) ends the batch. Leaving the loop early, cancelling, or
    `aclose()` cancels in-flight calls and awaits every worker before returning.
    """
    # A plain iterable is read with next(): no async generator and no lock around it, since
    # next() cannot be interleaved. Only an async iterable needs both.
    plain = None if isinstance(items, AsyncIterable) else iter(items)
    source = _aiter(items) if isinstance(items, AsyncIterable) else None
    summary = summary if summary is not None else BatchSummary()
    pace = _Pacer(rate) if rate is not None else None
    limit = _AdaptiveLimit(concurrency) if adaptive else None
    # In flight plus finished-but-unread: the bound on memory, whatever the input's size.
    window = asyncio.Semaphore(2 * concurrency)
    finished: asyncio.Queue[Outcome[I, R] | BaseException | None] = asyncio.Queue()
    pull_lock = asyncio.Lock()
    next_index = 0

    def retried(event: RetryEvent) -> None:
        summary.retries += 1
        if on_retry is not None:
            on_retry(event)

    async def run_one(item: I, index: int) -> Outcome[I, R]:
        throttled = False  # did Mailkit push back (429/503) at any attempt of this item?

        def retried_here(event: RetryEvent) -> None:
            nonlocal throttled
            throttled = throttled or is_rate_limit(event.error)
            retried(event)

        trace = new_trace(retried_here)
        if limit is not None:
            await limit.acquire()
        try:
            result = await work(item, trace, pace)
        except MailkitError as error:
            throttled = throttled or is_rate_limit(error)
            return Outcome(item, None, error, index, trace.attempts)
        finally:
            if limit is not None:
                await limit.release(throttled=throttled)
        return Outcome(item, result, None, index, trace.attempts)

    async def worker() -> None:
        nonlocal next_index
        try:
            while True:
                await window.acquire()
                if plain is not None:
                    try:
                        item = next(plain)
                    except StopIteration:
                        window.release()
                        return
                else:
                    assert source is not None
                    async with pull_lock:  # an async generator cannot be advanced concurrently
                        try:
                            item = await anext(source)
                        except StopAsyncIteration:
                            window.release()
                            return
                index = next_index
                next_index += 1
                finished.put_nowait(await run_one(item, index))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the caller's iterable failed: end the batch with it
            finished.put_nowait(exc)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    done_signal = asyncio.ensure_future(_after_all(workers, finished))
    buffered: dict[int, Outcome[I, R]] = {}
    expected = 0
    try:
        while True:
            got = await finished.get()
            if got is None:
                break
            if isinstance(got, BaseException):
                raise got
            ready = [got]
            if ordered:
                buffered[got.index] = got
                ready = []
                while expected in buffered:
                    ready.append(buffered.pop(expected))
                    expected += 1
            for outcome in ready:
                _count(summary, outcome, status_of)
                if on_outcome is not None:
                    on_outcome(outcome)
                window.release()
                yield outcome
    finally:
        summary.finished = time.monotonic()
        done_signal.cancel()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, done_signal, return_exceptions=True)
        if source is not None:
            await source.aclose()  # closes the caller's async generator, if it gave one


async def _after_all(workers: list[asyncio.Task[None]], finished: asyncio.Queue[Any]) -> None:
    await asyncio.gather(*workers, return_exceptions=True)
    finished.put_nowait(None)  # every worker is done: the consumer may stop waiting


def _count(
    summary: BatchSummary, outcome: Outcome[I, R], status_of: Callable[[R], str] | None
) -> None:
    summary.outcomes += 1
    if outcome.error is not None:
        summary.errors[type(outcome.error).__name__] += 1
        if isinstance(outcome.error, OutcomeUnknownError):
            summary.outcome_unknown += 1
    elif status_of is not None and outcome.result is not None:
        summary.statuses[status_of(outcome.result)] += 1


async def _aiter(items: AsyncIterable[I]) -> AsyncGenerator[I, None]:
    # A generator of our own, so aclose() at the end reaches the caller's async generator.
    async for item in items:
        yield item
