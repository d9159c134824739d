"""The journal's one writer: a thread that owns the connection, fed through a queue.

Workers never wait on disk: outcomes are queued and written in group commits (whatever has
accumulated, up to `_GROUP` per transaction). Only claiming items waits, since an item must be
durably marked dispatched before it is sent.
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

_Op = Callable[[Journal], Any]


_Entry = tuple["_Op | _Alone", "concurrent.futures.Future[Any] | None"] | None


class JournalWriter:
    """Runs journal operations in order on its own thread, committing them in groups."""

    def __init__(self, path: str | Path, *, durable: bool) -> None:
        self._path = path
        self._durable = durable
        self._queue: queue.SimpleQueue[_Entry] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self._opened: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name="mailkit-journal", daemon=True)
        self._thread.start()
        self._opened.result()  # raises here if the file cannot be opened

    def record(self, *args: Any) -> None:
        """Queue an outcome (see `Journal.record`); it is written in the next group commit."""
        self._queue.put((lambda journal: journal.record(*args), None))

    def release(self, lines: list[int]) -> None:
        """Queue giving back items that were claimed but never handed over."""
        if lines:
            self._queue.put((lambda journal: journal.release(lines), None))

    async def claim(self, count: int, after: int) -> list[Item]:
        """Mark the next items dispatched and return them, once that is committed."""
        items: list[Item] = await self.call(
            lambda journal: journal.claim(count, after), own_transaction=True
        )
        return items

    async def call(self, op: _Op, *, own_transaction: bool = False) -> Any:
        """Run `op` on the writer's thread after what is queued, and wait for its result."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put((_Alone(op) if own_transaction else op, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Write everything queued, commit, close the file and end the thread."""
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
            in_transaction = False
            done: list[tuple[concurrent.futures.Future[Any], Any]] = []
            for entry in group:
                if entry is None:
                    closing = True
                    continue
                op, future = entry
                if self.error is not None:
                    # The journal can no longer be trusted: refuse further work.
                    if future is not None:
                        _settle(future, None, self.error)
                    continue
                try:
                    if isinstance(op, _Alone):
                        if in_transaction:
                            journal.commit()
                            in_transaction = False
                        result = op.op(journal)
                    else:
                        if not in_transaction:
                            journal.begin()
                            in_transaction = True
                        result = op(journal)
                except Exception as exc:
                    self.error = exc
                    if future is not None:
                        _settle(future, None, exc)
                    continue
                if future is not None:
                    done.append((future, result))
            if in_transaction:
                try:
                    journal.commit()
                except Exception as exc:
                    self.error = self.error or exc
            # Answers go out only once what came before them is committed.
            for future, result in done:
                _settle(future, result, self.error)


def _settle(
    future: concurrent.futures.Future[Any], result: Any, error: BaseException | None
) -> None:
    # The waiting task may have been cancelled meanwhile (an abort): nobody to tell.
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class _Alone:
    """An operation that runs its own transactions (claim, settle)."""

    def __init__(self, op: _Op) -> None:
        self.op = op
