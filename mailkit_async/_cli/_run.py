"""A wipe or revalidate job: load the input into the journal, send what is pending, report.

The whole input is recorded first; items then stream from the journal into the batcher in
claimed blocks, each durably marked dispatched before it is handed over. Only the writer
thread touches the journal while requests are in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sqlite3
import sys
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO, Final, NamedTuple, TextIO

from .._batch import Batch, Outcome
from .._client import MailkitClient
from .._errors import (
    AuthenticationError,
    HTTPStatusError,
    OutcomeUnknownError,
    ProtocolError,
    TransportError,
)
from .._results import RevalidateResult, WipeResult
from ._connect import endpoint, make_client
from ._exit import CliError, ExitCode
from ._input import HashingReader, InputLine, parse_input
from ._journal import Item, Journal, report_status
from ._progress import Progress
from ._report import Summary, print_summary, write_report
from ._signals import Stopper
from ._writer import JournalWriter

__all__ = ["Record", "classify_outcome", "run_job"]

_SAFE_BLOCK: Final = 256  # items claimed per transaction when a resend is harmless
_SHOWN_PROBLEMS: Final = 20
_PREVIEW: Final = 5
_NOT_RECIPIENTS: Final = frozenset({"invalid_input", "duplicate"})


class Record(NamedTuple):
    """What the journal keeps of one outcome."""

    state: str
    status: str | None
    message: str | None
    id_email: int | None
    error: str | None
    attempts: int


def classify_outcome(
    outcome: Outcome[str | int, WipeResult] | Outcome[str | int, RevalidateResult],
    *,
    unsafe: bool,
) -> Record:
    """The journal state of an outcome: final, retried by the next run, or unknown."""
    result, error = outcome.result, outcome.error
    if result is not None:
        id_email = result.id_email
        if id_email is None and isinstance(outcome.item, int):
            id_email = outcome.item
        return Record("done", result.status.value, result.message, id_email, None, outcome.attempts)
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, OutcomeUnknownError):
        state = "unknown"
    elif isinstance(error, AuthenticationError):
        state = "pending"  # not the recipient's doing; sent again once credentials work
    elif isinstance(error, TransportError):
        never_acted = not error.request_sent or (
            isinstance(error, HTTPStatusError) and error.status_code in (429, 503)
        )
        state = "error" if never_acted or not unsafe else "unknown"
    elif isinstance(error, ProtocolError):
        # Mailkit answered something unreadable: it may have acted.
        state = "unknown" if unsafe else "error"
    else:
        state = "failed"
    status = None if state == "pending" else report_status(state, None)
    return Record(state, status, None, None, text, outcome.attempts)


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
            block = await self._writer.claim(self._block, after)
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


def _open_input(path: str) -> tuple[TextIO, HashingReader]:
    raw: BinaryIO
    if path == "-":
        raw = sys.stdin.buffer
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed by the text wrapper
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror}") from None
    hashing = HashingReader(raw, close_raw=path != "-")
    # utf-8-sig: spreadsheet exports often begin with a byte order mark.
    text = io.TextIOWrapper(io.BufferedReader(hashing), encoding="utf-8-sig", newline="")
    return text, hashing


def _decoded(lines: Iterator[InputLine], name: str) -> Iterator[InputLine]:
    last = 0
    try:
        for line in lines:
            last = line.line
            yield line
    except UnicodeDecodeError:
        raise CliError(
            f"{name} is not UTF-8 text (after line {last}); save or export it as UTF-8"
        ) from None


def _job_params(args: argparse.Namespace) -> dict[str, str]:
    params = {"command": args.command, "protocol": args.protocol, "endpoint": endpoint(args)}
    if args.command == "revalidate":
        params["agreement"] = "yes" if args.agreement else "no"
        params["channel"] = args.channel or ""
        params["language"] = args.language or ""
    return params


def _show(text: str) -> str:
    # An input line may hold anything, terminal escapes included: show controls escaped.
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def _problems(journal: Journal, counts: Counter[str], err: TextIO) -> None:
    problems = journal.problems(_SHOWN_PROBLEMS)
    for problem in problems:
        if problem.duplicate_of is not None:
            err.write(
                f"line {problem.line}: {_show(problem.raw)} repeats line {problem.duplicate_of}"
                " (sent once)\n"
            )
        else:
            reason = (problem.problem or "").partition(": ")[2] or "not a recipient"
            err.write(f"line {problem.line}: {_show(problem.raw)!r} is {reason}; not sent\n")
    more = counts["invalid_input"] + counts["duplicate"] - len(problems)
    if more > 0:
        err.write(f"... and {more:,} more invalid or duplicate lines (see the report)\n")


def _prepare(
    args: argparse.Namespace, journal_path: str, err: TextIO, *, unsafe: bool
) -> tuple[Journal, list[str]]:
    """Open (or, for a dry run, imitate) the journal, loading the input or checking it."""
    params = _job_params(args)
    notes: list[str] = []
    exists = journal_path != ":memory:" and os.path.exists(journal_path)
    if args.dry_run and not exists:
        journal = Journal(":memory:")
    else:
        journal = Journal(journal_path, durable=unsafe)
    text, hashing = _open_input(args.input)
    try:
        with text:
            if journal.params() is None:
                csv_hint = Path(args.input).suffix.lower() == ".csv"
                lines = _decoded(parse_input(text, csv_hint=csv_hint), args.input)
                journal.load(lines, lambda: {**params, "input_sha256": hashing.sha256.hexdigest()})
                _problems(journal, journal.counts(), err)
            else:
                while hashing.read(1 << 16):
                    pass
                journal.check({**params, "input_sha256": hashing.sha256.hexdigest()})
                notes.append("resumed: lines with a final answer were not sent again")
    except BaseException:
        journal.close()
        raise
    return journal, notes


def run_job(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `args.command` over `args.input`; returns the exit status."""
    unsafe = args.command == "revalidate" and not args.agreement
    journal_path = args.journal or f"{args.input}.journal.sqlite"
    if args.report and Path(args.report).suffix.lower() not in (".csv", ".jsonl"):
        raise CliError(f"--report {args.report}: the name must end in .csv or .jsonl")
    if args.report and not os.path.isdir(os.path.dirname(os.path.abspath(args.report))):
        # Found out before anything is sent, not after the job.
        raise CliError(f"--report {args.report}: no such directory")
    client = make_client(args, concurrency=args.concurrency)  # credentials are checked first
    summary = Summary(
        command=args.command,
        protocol=args.protocol,
        endpoint=endpoint(args),
        journal=journal_path,
        report=None if args.dry_run else args.report,
        recipients=0,
        invalid_lines=0,
        duplicate_lines=0,
        statuses={},
        dry_run=args.dry_run,
    )
    if args.dry_run and not os.path.exists(journal_path):
        summary.journal = f"{journal_path} (not created by a dry run)"
    try:
        journal, summary.notes = _prepare(args, journal_path, err, unsafe=unsafe)
    except BaseException:
        asyncio.run(client.aclose())
        raise
    try:
        if args.dry_run:
            _dry_run(journal, summary, unsafe=unsafe)
            _fill(summary, journal)
        else:
            _settle(journal, summary, unsafe=unsafe)
            counts = journal.counts()
    finally:
        journal.close()
    if args.dry_run:
        asyncio.run(client.aclose())
        code = ExitCode.OK
    else:
        try:
            code = asyncio.run(_send(args, client, journal_path, counts, summary, err, unsafe))
        finally:
            # Whatever happened, the report covers the whole job as the journal has it.
            journal = Journal(journal_path, durable=unsafe)
            try:
                _fill(summary, journal)
                if args.report:
                    write_report(args.report, journal.rows())
            finally:
                journal.close()
    if code == ExitCode.OK and summary.attention:
        code = ExitCode.ATTENTION
    summary.exit_code = int(code)
    if args.json:
        out.write(summary.as_json() + "\n")
    else:
        print_summary(summary, out)
    return int(code)


def _settle(journal: Journal, summary: Summary, *, unsafe: bool) -> None:
    changed = journal.settle(unsafe=unsafe, retry_errors=True)
    if changed.get("unknown"):
        summary.notes.append(
            f"{changed['unknown']:,} items in flight when the last run stopped may have "
            "reached Mailkit: reported outcome_unknown, not sent again"
        )
    again = changed.get("resent", 0) + changed.get("retried", 0)
    if again:
        summary.notes.append(f"{again:,} items unfinished or failed last time were sent again")


def _fill(summary: Summary, journal: Journal) -> None:
    counts = journal.counts()
    summary.duplicate_lines = counts.pop("duplicate", 0)
    summary.invalid_lines = counts["invalid_input"]
    summary.recipients = sum(counts.values()) - summary.invalid_lines
    summary.statuses = {status: count for status, count in counts.items() if count}


def _dry_run(journal: Journal, summary: Summary, *, unsafe: bool) -> None:
    states = journal.states()
    resent = 0 if unsafe else states["dispatched"]
    summary.would_send = states["pending"] + states["error"] + resent
    if unsafe and states["dispatched"]:
        summary.notes.append(
            f"{states['dispatched']:,} items in flight when the last run stopped would be "
            "reported outcome_unknown, not sent again"
        )
    preview = journal.pending(_PREVIEW)
    if preview:
        shown = ", ".join(f"line {item.line} {_show(item.recipient)}" for item in preview)
        summary.notes.append(f"first to send: {shown}")


async def _send(
    args: argparse.Namespace,
    client: MailkitClient,
    journal_path: str,
    counts: Counter[str],
    summary: Summary,
    err: TextIO,
    unsafe: bool,
) -> ExitCode:
    """Send every pending item; returns OK, or why the run ended early."""
    live = Counter({s: n for s, n in counts.items() if s not in _NOT_RECIPIENTS})
    total = sum(live.values())
    pending = live.pop("pending", 0)
    label = args.command if not unsafe else "revalidate (no agreement)"
    progress = Progress(err, label, total, enabled=not args.quiet and pending > 0)
    writer = JournalWriter(journal_path, durable=unsafe)
    # Unsafe items claimed but not yet sent become "unknown" after a kill: claim few.
    feeder = _Feeder(writer, args.concurrency if unsafe else _SAFE_BLOCK)

    def on_stop(name: str) -> None:
        feeder.stopped = True
        if not args.quiet:
            progress.note(
                f"{name}: taking no new items; waiting up to {args.grace:g} s for those in "
                "flight (again to stop now)"
            )

    stopper = Stopper(args.grace, on_stop)
    stopper.install()
    code = ExitCode.OK
    batch: Batch[str | int, WipeResult] | Batch[str | int, RevalidateResult] | None = None
    try:
        async with client:
            if args.command == "wipe":
                batch = client.wipe_many(
                    feeder.items(), concurrency=args.concurrency, rate=args.rate
                )
            else:
                batch = client.revalidate_many(
                    feeder.items(),
                    agreement=args.agreement,
                    channel=args.channel,
                    language=args.language,
                    concurrency=args.concurrency,
                    rate=args.rate,
                )
            progress.start(total - pending, live)
            try:
                async with asyncio.timeout(None) as deadline:
                    stopper.guard(deadline)
                    async with batch:
                        async for outcome in batch:
                            line = feeder.lines.pop(outcome.index)
                            record = classify_outcome(outcome, unsafe=unsafe)
                            writer.record(line, *record)
                            if record.state == "pending":
                                if isinstance(outcome.error, AuthenticationError):
                                    feeder.stopped = True
                                    code = ExitCode.USAGE
                                    summary.notes.append(
                                        f"Mailkit refused the credentials ({outcome.error}): "
                                        "nothing more was sent"
                                    )
                                continue
                            progress.done += 1
                            live[report_status(record.state, record.status)] += 1
            except TimeoutError:
                if stopper.received is None:
                    raise
            except sqlite3.Error as exc:  # the journal failed under the feeder
                raise CliError(f"the journal could not be written: {exc}") from None
    finally:
        await progress.stop()
        writer.release(feeder.unsent())
        try:
            await writer.call(
                lambda journal: journal.settle(unsafe=unsafe, retry_errors=False),
                own_transaction=True,
            )
        finally:
            writer.close()
            stopper.uninstall()
        if batch is not None:
            summary.sent_this_run = batch.summary.outcomes
            summary.retries_this_run = batch.summary.retries
            summary.elapsed = batch.summary.elapsed
    if writer.error is not None:
        raise CliError(f"the journal could not be written: {writer.error}")
    if stopper.exit_code is not None:
        summary.interrupted = stopper.received.name if stopper.received else None
        return ExitCode(stopper.exit_code)
    return code
