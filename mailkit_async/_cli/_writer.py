"""The journal's one writer: a thread that owns the connection, fed through a queue.

Workers never wait on disk: outcomes are queued and written in group commits (whatever has
accumulated, up to `_GROUP` per transaction). Only claiming items waits, since an item must be
durably marked dispatched before it is sent.

A failed write (a full disk, say) is kept as `error` and reported once through `on_error`;
from then on no item is claimed, but outcomes and releases are still written where they can
be: a failed group is tried once more after a checkpoint, which lets the journal's write-ahead
log start over in the space it already has.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from ._journal import Item, Journal

__all__ = ["JournalWriter"]

_GROUP: Final = 500  # the most operations in one transaction

_LINGER: Final = 0.05  # seconds an outcome may wait in the buffer, at most

_Op = Callable[[Journal], Any]
_Records = list[tuple[Any, ...]]  # the arguments of Journal.record, written many at once
_Future = concurrent.futures.Future[Any]
_Entry = tuple["_Op | _Records | _Alone", "_Future | None"] | None


class JournalWriter:
    """Runs journal operations in order on its own thread, committing them in groups."""

    def __init__(
        self,
        path: str | Path,
        *,
        durable: bool,
        on_error: Callable[[BaseException], None] | None = None,
        buffer: int = 1,
    ) -> None:
        self._path = path
        self._durable = durable
        self._on_error = on_error
        # Outcomes are handed to the thread `buffer` at a time (or after _LINGER): a wake-up
        # and a commit per outcome would cost about as much CPU as sending it.
        self._buffer_size = buffer
        self._buffer: _Records = []
        self._timer: asyncio.TimerHandle | None = None
        try:
            self._event_loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._event_loop = None
        self._queue: queue.SimpleQueue[_Entry] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self._opened: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name="mailkit-journal", daemon=True)
        self._thread.start()
        self._opened.result()  # raises here if the file cannot be opened

    def record(self, *args: Any) -> None:
        """Queue an outcome (see `Journal.record`); it is written in a group commit soon."""
        self._buffer.append(args)
        if len(self._buffer) >= self._buffer_size:
            self.flush()
        elif self._timer is None and self._event_loop is not None:
            self._timer = self._event_loop.call_later(_LINGER, self.flush)

    def flush(self) -> None:
        """Hand the buffered outcomes to the thread (every other operation does so first)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._buffer:
            self._queue.put((self._buffer, None))
            self._buffer = []

    def release(self, lines: list[int]) -> None:
        """Queue giving back items that were claimed but never handed over."""
        self.flush()
        if lines:
            self._queue.put((lambda journal: journal.release(lines), None))

    async def claim(self, count: int, after: int) -> list[Item]:
        """Mark the next items dispatched and return them, once that is committed.

        Refused (raises the first error) once a write has failed.
        """
        self.flush()
        future: _Future = concurrent.futures.Future()
        self._queue.put((_Alone(lambda journal: journal.claim(count, after), claim=True), future))
        items: list[Item] = await asyncio.wrap_future(future)
        return items

    async def call(self, op: _Op, *, own_transaction: bool = False) -> Any:
        """Run `op` on the writer's thread after what is queued, and wait for its result."""
        self.flush()
        future: _Future = concurrent.futures.Future()
        self._queue.put((_Alone(op) if own_transaction else op, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Write everything queued, commit, close the file and end the thread."""
        self.flush()
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        try:
            journal = Journal(self._path, durable=self._durable)
        except BaseException as exc:
            self._opened.set_exception(exc)
            return
        self._opened.set_result(None)
        try:
            self._loop(journal)
        finally:
            with contextlib.suppress(Exception):  # never a thread's traceback on stderr
                journal.close()

    def _loop(self, journal: Journal) -> None:
        closing = False
        while not closing:
            group = [self._queue.get()]
            while len(group) < _GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            together: list[tuple[_Op | _Records, _Future | None]] = []
            for entry in group:
                if entry is None:
                    closing = True
                    continue
                op, future = entry
                if isinstance(op, _Alone):
                    self._commit(journal, together)
                    together = []
                    self._alone(journal, op, future)
                else:
                    together.append((op, future))
            self._commit(journal, together)

    def _commit(self, journal: Journal, ops: list[tuple[_Op | _Records, _Future | None]]) -> None:
        """Run `ops` in one transaction; their answers go out once it is committed."""
        if not ops:
            return
        try:
            results = self._together(journal, ops)
        except Exception as exc:
            self._failed(exc)
            try:
                # Where the disk is full, the space the journal already has may still do.
                journal.checkpoint()
                results = self._together(journal, ops)
            except Exception as again:
                for _, future in ops:
                    _settle(future, None, again)
                return
        for (_, future), result in zip(ops, results, strict=True):
            _settle(future, result, None)

    def _together(
        self, journal: Journal, ops: list[tuple[_Op | _Records, _Future | None]]
    ) -> list[Any]:
        results: list[Any] = []
        records: _Records = []  # consecutive outcomes, written in one executemany
        try:
            journal.begin()
            for op, _ in ops:
                if isinstance(op, list):
                    records.extend(op)
                    results.append(None)
                    continue
                if records:
                    journal.record_many(records)
                    records = []
                results.append(op(journal))
            if records:
                journal.record_many(records)
            journal.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                journal.rollback()
            raise
        return results

    def _alone(self, journal: Journal, op: _Alone, future: _Future | None) -> None:
        if op.claim and self.error is not None:
            _settle(future, None, self.error)  # nothing more goes out once a write failed
            return
        try:
            result = self._once(journal, op)
        except Exception as exc:
            self._failed(exc)
            if op.claim:  # the feeder stops: no need to claim anything more
                _settle(future, None, exc)
                return
            try:
                journal.checkpoint()
                result = self._once(journal, op)
            except Exception as again:
                _settle(future, None, again)
                return
        _settle(future, result, None)

    def _once(self, journal: Journal, op: _Alone) -> Any:
        try:
            return op.op(journal)
        except BaseException:
            with contextlib.suppress(Exception):
                journal.rollback()
            raise

    def _failed(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
            if self._on_error is not None:
                self._on_error(exc)


def _settle(future: _Future | None, result: Any, error: BaseException | None) -> None:
    # The waiting task may have been cancelled meanwhile (an abort): nobody to tell.
    if future is None:
        return
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class _Alone:
    """An operation that runs its own transactions (claim, settle)."""

    def __init__(self, op: _Op, *, claim: bool = False) -> None:
        self.op = op
        self.claim = claim
