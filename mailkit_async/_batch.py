"""Bounded fan-out: many calls, at most N in flight, one outcome per input, streamed.

A fixed set of workers pulls items from the input one at a time, so a million-line input
never means a million tasks or futures: memory is bounded by the window (in flight plus
waiting to be read), not by the input's length.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections import Counter, deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from typing import Any, Final, Generic, TypeVar

import attrs

from ._dispatch import BATCH_SCOPE, BatchScope, RetryEvent, new_trace
from ._errors import InvalidArgumentError, MailkitError, OutcomeUnknownError
from ._gate import Gate
from ._meters import AdaptiveLimit, RateMeter
from ._records import record_maker
from ._retry import is_rate_limit
from ._validate import check_count, check_instance, checked_arguments, describe

__all__ = ["Batch", "BatchSummary", "Outcome", "fan_out"]

I = TypeVar("I")  # noqa: E741 - the conventional name for an input item
R = TypeVar("R")
T = TypeVar("T")


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


#: Outcome's constructor without attrs' __init__ (one per item; see `record_maker`).
_outcome: Final = record_maker(Outcome)


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

    def __aiter__(self) -> AsyncIterator[Outcome[I, R]]:
        # The outcomes' own iterator: `async for` then resumes it directly, not through
        # __anext__, a coroutine less per outcome.
        return self._outcomes

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
    work: Callable[[I], Awaitable[R]],
    *,
    concurrency: int,
    rate: float | None = None,
    adaptive: bool = False,
    ordered: bool = False,
    on_outcome: Callable[[Outcome[I, R]], None] | None = None,
    on_retry: Callable[[RetryEvent], None] | None = None,
    summary: BatchSummary | None = None,
) -> AsyncIterator[Outcome[I, R]]:
    """Run `work` over `items` with at most `concurrency` in flight; yield each Outcome.

    A MailkitError from one item becomes that item's outcome; any other exception (a bug in
    the caller's iterable or hooks) ends the batch. Leaving the loop early, cancelling, or
    `aclose()` cancels in-flight calls and awaits every worker before returning.
    """
    run = _Run(
        _Source(items),
        work,
        window=2 * concurrency,
        pace=RateMeter(rate) if rate is not None else None,
        limit=AdaptiveLimit(concurrency) if adaptive else None,
        on_retry=on_retry,
        summary=summary if summary is not None else BatchSummary(),
    )
    workers = [asyncio.create_task(run.worker()) for _ in range(concurrency)]
    reorder: _Reorder[I, R] | None = _Reorder() if ordered else None
    try:
        while (got := await run.finished.get()) is not None:
            if isinstance(got, Exception):
                raise got
            for outcome in reorder.push(got) if reorder is not None else (got,):
                _count(run.summary, outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
                run.window.release()
                yield outcome
    finally:
        run.summary.finished = time.monotonic()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await run.source.aclose()


class _Later(enum.Enum):
    """`_Source.pull_now`'s answer for an async iterable: read it with `pull`."""

    LATER = enum.auto()


_LATER: Final = _Later.LATER


class _Source(Generic[I]):
    """The caller's items, read one at a time and numbered in input order."""

    __slots__ = ("_async", "_lock", "_next_index", "_plain")

    def __init__(self, items: Iterable[I] | AsyncIterable[I]) -> None:
        # A plain iterable is read with next(): no lock, since next() cannot be interleaved.
        # An async iterable needs one: an async generator cannot be advanced concurrently.
        self._plain = None if isinstance(items, AsyncIterable) else iter(items)
        self._async = _aiter(items) if isinstance(items, AsyncIterable) else None
        self._lock = asyncio.Lock()
        self._next_index = 0

    def pull_now(self) -> tuple[I, int] | _Later | None:
        """The next item of a plain iterable and its index, None once it is exhausted;
        `_LATER` for an async one, which `pull` reads."""
        if self._plain is None:
            return _LATER
        try:
            item = next(self._plain)
        except StopIteration:
            return None
        index = self._next_index
        self._next_index += 1
        return item, index

    async def pull(self) -> tuple[I, int] | None:
        """The next item of an async iterable and its index, or None once it is exhausted."""
        assert self._async is not None
        async with self._lock:
            try:
                item = await anext(self._async)
            except StopAsyncIteration:
                return None
        index = self._next_index
        self._next_index += 1
        return item, index

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()  # closes the caller's async generator, if it gave one


class _Run(Generic[I, R]):
    """One batch's shared state; each worker pulls an item, runs it and queues its outcome."""

    def __init__(
        self,
        source: _Source[I],
        work: Callable[[I], Awaitable[R]],
        *,
        window: int,
        pace: RateMeter | None,
        limit: AdaptiveLimit | None,
        on_retry: Callable[[RetryEvent], None] | None,
        summary: BatchSummary,
    ) -> None:
        self.source = source
        self.summary = summary
        # In flight plus finished-but-unread: the bound on memory, whatever the input's size.
        self.window = Gate(window)
        # An Outcome, the exception that ends the batch, or None once every worker is done.
        self.finished: _Inbox[Outcome[I, R] | Exception | None] = _Inbox()
        self._work = work
        self._pace = pace.wait_can_start if pace is not None else None
        self._limit = limit
        self._on_retry = on_retry
        self._workers = 0

    async def worker(self) -> None:
        self._workers += 1
        # An item's run is inlined here, not a coroutine of its own: one less to make, and to
        # pass through on every resume. The common path (a plain iterable, no adaptive
        # limit) makes no coroutine and no object per item beyond the call's and its Outcome.
        source, window, finished, limit = self.source, self.window, self.finished, self._limit
        # The calls `work` makes (typed methods, call()) find the item's trace and the rate
        # meter in BATCH_SCOPE, whatever function `work` is. The context is this task's own,
        # so one trace serves all its items, set once and zeroed per item: fewer objects
        # per item, and so fewer collections of the young generation. The adaptive limit
        # needs a trace per item.
        work, trace = self._work, new_trace(self.retried)
        scope = BatchScope(trace, self._pace) if limit is None else None
        BATCH_SCOPE.set(scope)
        try:
            while True:
                if not window.take():
                    await window.wait()
                pulled = source.pull_now()
                if pulled is _LATER:
                    # The caller's async iterable runs outside the scope: calls it makes are
                    # none of the batch's.
                    BATCH_SCOPE.set(None)
                    pulled = await source.pull()
                    BATCH_SCOPE.set(scope)
                if pulled is None:
                    window.release()
                    return
                item, index = pulled
                if limit is None:
                    trace.attempts = 0
                    try:
                        result = await work(item)
                    except MailkitError as error:
                        outcome = _outcome(item, None, error, index, trace.attempts)
                    else:
                        outcome = _outcome(item, result, None, index, trace.attempts)
                else:
                    outcome = await self._adapted(item, index)
                finished.put(outcome)
        except Exception as exc:  # the caller's iterable or work failed: end the batch with it
            finished.put(exc)
        finally:
            self._workers -= 1
            if not self._workers:
                finished.put(None)  # the consumer may stop waiting

    async def _adapted(self, item: I, index: int) -> Outcome[I, R]:
        """One item under the adaptive limit: a trace of its own, whose retries tell the
        limit whether Mailkit pushed back."""
        limit = self._limit
        assert limit is not None
        watch = _Watch(self)
        trace = new_trace(watch)
        await limit.wait_can_start()
        scope = BATCH_SCOPE.set(BatchScope(trace, self._pace))
        try:
            result = await self._work(item)
        except MailkitError as error:
            watch.throttled = watch.throttled or is_rate_limit(error)
            return _outcome(item, None, error, index, trace.attempts)
        else:
            return _outcome(item, result, None, index, trace.attempts)
        finally:
            BATCH_SCOPE.reset(scope)
            limit.notify_finished(throttled=watch.throttled)

    def retried(self, event: RetryEvent) -> None:
        self.summary.retries += 1
        if self._on_retry is not None:
            self._on_retry(event)


class _Inbox(Generic[T]):
    """The finished outcomes, for the batch's one consumer: a deque and its one waiter.

    `asyncio.Queue` allows many getters and tracks unfinished tasks; here a put is an append
    and, when the consumer waits, one wake-up.
    """

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: T) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> T:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


class _Watch:
    """One item's retry hook: counts each retry and notes whether Mailkit pushed back."""

    __slots__ = ("_run", "throttled")

    def __init__(self, run: _Run[Any, Any]) -> None:
        self._run = run
        self.throttled = False

    def __call__(self, event: RetryEvent) -> None:
        self.throttled = self.throttled or is_rate_limit(event.error)
        self._run.retried(event)


class _Reorder(Generic[I, R]):
    """Holds outcomes that finished early until every one before them has come."""

    __slots__ = ("_early", "_expected")

    def __init__(self) -> None:
        self._early: dict[int, Outcome[I, R]] = {}
        self._expected = 0

    def push(self, outcome: Outcome[I, R]) -> list[Outcome[I, R]]:
        """The outcomes now ready, in input order."""
        self._early[outcome.index] = outcome
        ready = []
        while self._expected in self._early:
            ready.append(self._early.pop(self._expected))
            self._expected += 1
        return ready


def _count(summary: BatchSummary, outcome: Outcome[I, R]) -> None:
    summary.outcomes += 1
    if outcome.error is not None:
        summary.errors[type(outcome.error).__name__] += 1
        if isinstance(outcome.error, OutcomeUnknownError):
            summary.outcome_unknown += 1
    else:
        # Typed results carry a status enum; other answers (call()'s) are not counted.
        status = getattr(outcome.result, "status", None)
        if isinstance(status, enum.Enum):
            summary.statuses[str(status.value)] += 1


async def _aiter(items: AsyncIterable[I]) -> AsyncGenerator[I, None]:
    # A generator of our own, so aclose() at the end reaches the caller's async generator.
    async for item in items:
        yield item
