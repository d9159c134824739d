"""A job's sending phase: claimed items stream from the journal into the batch, outcomes back.

Items are claimed in blocks, each durably marked dispatched before it is handed over; only
the writer thread touches the journal while requests are in flight. A signal, a refusal of
the credentials or a failed journal write stops the feeding; what is in flight may finish
within the grace, and what was claimed but never handed over is given back.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import Counter, deque
from collections.abc import AsyncIterator
from typing import Any, Final

from .._batch import Batch, Outcome
from .._client import MailkitClient
from .._errors import AuthenticationError, InvalidArgumentError
from ._exit import CliError, ExitCode
from ._job import Job
from ._journal import Item, describe, report_status
from ._progress import Progress
from ._signals import Stopper
from ._writer import JournalWriter

__all__ = ["JournalWriteError", "send"]

_SAFE_BLOCK: Final = 128  # items claimed per transaction when a resend is harmless
_SAFE_BUFFER: Final = 64  # outcomes handed to the journal thread at once, when likewise
_NOT_RECIPIENTS: Final = frozenset({"invalid_input", "duplicate"})


class _Feeder:
    """Streams pending items from the journal, claiming a block at a time."""

    def __init__(self, writer: JournalWriter, block: int) -> None:
        self._writer = writer
        self._block = block
        self._claimed: deque[Item] = deque()
        self._next_index = 0
        self.lines: dict[int, int] = {}  # outcome index -> input line, for items in flight
        self.stopped = False

    async def items(self) -> AsyncIterator[str | int]:
        after = 0
        while not self.stopped:
            try:
                block = await self._writer.claim(self._block, after)
            except Exception:
                return  # the journal failed: the writer keeps the error, the run reports it
            if not block:
                return
            after = block[-1].line
            self._claimed.extend(block)
            while self._claimed and not self.stopped:
                item = self._claimed.popleft()
                # The batcher numbers items in the order this generator yields them.
                self.lines[self._next_index] = item.line
                self._next_index += 1
                yield item.value

    def unsent(self) -> list[int]:
        """Lines claimed but never handed over (the job stopped first)."""
        return [item.line for item in self._claimed]


class _Sender:
    """One run's sending: the feeder, the stopper, the writer, and where outcomes go."""

    def __init__(self, job: Job, counts: Counter[str]) -> None:
        args = job.args
        self.job = job
        self.args = args
        self.kind = job.kind
        self.unsafe = job.unsafe
        self.summary = job.summary
        self.code = ExitCode.OK
        self.live = Counter({s: n for s, n in counts.items() if s not in _NOT_RECIPIENTS})
        self.total = sum(self.live.values())
        self.pending = self.live.pop("pending", 0)
        self.progress = Progress(
            job.err, self.kind.label(args), self.total, enabled=not args.quiet and self.pending > 0
        )
        self.stopper = Stopper(args.grace, self._on_signal)
        loop = asyncio.get_running_loop()

        def on_error(exc: BaseException) -> None:  # called on the writer's thread
            with contextlib.suppress(RuntimeError):  # the loop has ended: nothing to stop
                loop.call_soon_threadsafe(self._on_journal_error, exc)

        # An unsafe job records each outcome at once: one not yet written when the process is
        # killed is reported outcome_unknown. A safe one is sent again: it may wait a little.
        self.writer = JournalWriter(
            job.journal,
            durable=self.unsafe,
            on_error=on_error,
            buffer=1 if self.unsafe else _SAFE_BUFFER,
        )
        # Unsafe items claimed but not yet sent become "unknown" after a kill: claim few.
        self.feeder = _Feeder(self.writer, args.concurrency if self.unsafe else _SAFE_BLOCK)
        self.batch: Batch[str | int, Any] | None = None

    async def run(self, client: MailkitClient) -> ExitCode:
        self.stopper.install()
        try:
            async with client:
                if self.kind.precheck is not None and self.pending:
                    await self.kind.precheck(client, self.args)
                try:
                    self.batch = self.kind.start(client, self.feeder.items(), self.args)
                except InvalidArgumentError as exc:  # before anything is sent
                    raise CliError(f"cannot start the job: {exc}") from None
                self.progress.start(self.total - self.pending, self.live)
                await self._drain(self.batch)
        finally:
            await self._wind_down()
        return self._exit_code()

    async def _drain(self, batch: Batch[str | int, Any]) -> None:
        try:
            async with asyncio.timeout(None) as deadline:
                self.stopper.guard(deadline)
                async with batch:
                    async for outcome in batch:
                        self._file(outcome)
        except TimeoutError:
            if not self.stopper.stopping:
                raise

    def _file(self, outcome: Outcome[str | int, Any]) -> None:
        """Queue an outcome's record, and count it."""
        line = self.feeder.lines.pop(outcome.index)
        record = self.kind.record(outcome, self.unsafe)
        self.writer.record(line, *record)
        if record.state == "pending":
            if isinstance(outcome.error, AuthenticationError):
                self._refused(outcome.error)
            return
        self.progress.done += 1
        self.live[report_status(record.state, record.status)] += 1

    def _refused(self, error: AuthenticationError) -> None:
        if self.code != ExitCode.USAGE:
            self.feeder.stopped = True
            self.code = ExitCode.USAGE
            self.summary.notes.append(
                f"Mailkit refused the credentials ({error}): nothing more was sent"
            )

    def _on_signal(self, name: str) -> None:
        self.feeder.stopped = True
        if not self.args.quiet:
            self.progress.note(
                f"{name}: taking no new items; waiting up to {self.args.grace:g} s for those "
                "in flight (again to stop now)"
            )

    def _on_journal_error(self, exc: BaseException) -> None:
        self.feeder.stopped = True
        self.stopper.stop()
        if not self.args.quiet:
            self.progress.note(
                f"the journal cannot be written ({_reason(exc)}): taking no new items"
            )

    async def _wind_down(self) -> None:
        """Give back what was never sent, settle the journal, close it: whatever happened."""
        await self.progress.stop()
        self.writer.release(self.feeder.unsent())
        try:
            with contextlib.suppress(Exception):  # kept as writer.error, reported by _exit_code
                await self.writer.call(
                    lambda journal: journal.settle(unsafe=self.unsafe, retry_errors=False),
                    own_transaction=True,
                )
        finally:
            self.writer.close()
            self.stopper.uninstall()
        if self.batch is not None:
            self.summary.sent_this_run = self.batch.summary.outcomes
            self.summary.retries_this_run = self.batch.summary.retries
            self.summary.elapsed = self.batch.summary.elapsed

    def _exit_code(self) -> ExitCode:
        if self.writer.error is not None:
            raise JournalWriteError(self.job.journal, self.writer.error, unsafe=self.unsafe)
        if self.stopper.exit_code is not None:
            self.summary.interrupted = self.stopper.received.name if self.stopper.received else None
            return ExitCode(self.stopper.exit_code)
        return self.code


class JournalWriteError(CliError):
    """The journal could not be written during the run: the run stopped early."""

    def __init__(self, path: str, error: BaseException, *, unsafe: bool) -> None:
        again = (
            "nothing that may have reached Mailkit is sent again"
            if unsafe
            else "what has a final answer is not sent again"
        )
        super().__init__(
            f"the journal {path} could not be written ({_reason(error)}), so nothing more "
            f"was sent; it is consistent. Free some space (or make it writable) and rerun the "
            f"same command to resume: {again}."
        )


def _reason(exc: BaseException) -> str:
    return describe(exc) if isinstance(exc, sqlite3.Error) else str(exc)


async def send(job: Job, client: MailkitClient, counts: Counter[str]) -> ExitCode:
    """Send every pending item of `job`; returns OK, or why the run ended early.

    `counts` are the journal's lines per report status as the run begins.
    """
    return await _Sender(job, counts).run(client)
