"""A job run, phase by phase: check the outputs, lock the journal, load or check the input,
send what is pending (`_send`), and leave a report and a summary.

The whole input is recorded in the journal before anything is sent, and nothing is sent
before every output has been proven writable and the journal is known to be this job's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Final, TextIO

from .._client import MailkitClient
from ._connect import endpoint, make_client
from ._exit import CliError, ExitCode
from ._input import InputLine, addresses_only, no_phones, open_input, parse_input
from ._job import Job
from ._journal import Journal, describe
from ._kinds import KINDS
from ._lock import JournalLock
from ._report import Summary, check_report_target, print_summary, write_report
from ._send import send

__all__ = ["run_job"]

_SHOWN_PROBLEMS: Final = 20
_PREVIEW: Final = 5


def run_job(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run `args.command` over `args.input`; returns the exit status."""
    job = _job(args, err)
    if args.report:
        check_report_target(args.report)  # found out before anything is sent, not after
    if job.output is not None and job.kind.output is not None and not args.dry_run:
        job.kind.output.check(job.output)
    client = make_client(args, concurrency=args.concurrency)  # credentials are checked first
    try:
        with _locked(job):
            with _before_sending(job):
                journal = _prepare(job)
                try:
                    counts = _dry_run(job, journal) if args.dry_run else _settle(job, journal)
                finally:
                    journal.close()
            code = ExitCode.OK if args.dry_run else _send_and_report(job, client, counts)
    finally:
        asyncio.run(client.aclose())  # a no-op once the sending phase closed it
    if code == ExitCode.OK and job.summary.attention:
        code = ExitCode.ATTENTION
    job.summary.exit_code = int(code)
    if args.json:
        out.write(job.summary.as_json() + "\n")
    else:
        print_summary(job.summary, out)
    return int(code)


def _job(args: argparse.Namespace, err: TextIO) -> Job:
    if args.journal == ":memory:":
        raise CliError("--journal :memory: would forget the job at once; name a file")
    journal = args.journal or f"{args.input}.journal.sqlite"
    kind = KINDS[args.command]
    output = kind.output.path(args) if kind.output is not None else None
    taken = {os.path.abspath(journal), os.path.abspath(args.input)}
    if args.report and os.path.abspath(args.report) in taken:
        raise CliError(f"--report {args.report} would replace the job's input or journal")
    if output is not None and kind.output is not None:
        if args.report:
            taken.add(os.path.abspath(args.report))
        if os.path.abspath(output) in taken:
            raise CliError(
                f"{kind.output.option} {output} would replace the job's input, journal or report"
            )
    summary = Summary(
        command=args.command,
        protocol=args.protocol,
        endpoint=endpoint(args),
        journal=journal,
        report=None if args.dry_run else args.report,
        recipients=0,
        invalid_lines=0,
        duplicate_lines=0,
        statuses={},
        dry_run=args.dry_run,
    )
    return Job(args, kind, journal, summary, err, output)


@contextlib.contextmanager
def _locked(job: Job) -> Iterator[None]:
    """The journal's lock, for the whole run (a dry run without a journal needs none)."""
    if job.args.dry_run and not os.path.lexists(job.journal):
        job.summary.journal = f"{job.journal} (not created by a dry run)"
        yield
        return
    with JournalLock(job.journal):
        yield


@contextlib.contextmanager
def _before_sending(job: Job) -> Iterator[None]:
    """A journal that fails before anything is sent: one line, saying so."""
    try:
        yield
    except sqlite3.Error as exc:
        raise CliError(
            f"the journal {job.journal} failed: {describe(exc)}. Nothing was sent; free some "
            "space (or make it writable) and rerun the same command."
        ) from None


def _prepare(job: Job) -> Journal:
    """Open the journal (for a dry run without one, a scratch copy), then load or check."""
    args = job.args
    if args.dry_run and not os.path.lexists(job.journal):
        journal = Journal.scratch()
    else:
        journal = Journal.open(job.journal, durable=job.unsafe)
    try:
        if not args.dry_run:
            journal.begin_run()  # proves the journal writable before the input is read
        params = {
            "command": args.command,
            "protocol": args.protocol,
            "endpoint": endpoint(args),
            **job.kind.params(args),
        }
        text, hashing = open_input(args.input)
        with text:
            if journal.params() is None:
                csv_hint = Path(args.input).suffix.lower() == ".csv"
                lines = _decoded(parse_input(text, csv_hint=csv_hint), args.input)
                if not job.kind.ids:
                    lines = addresses_only(lines, job.kind.name)
                if not job.kind.phones:
                    lines = no_phones(lines, job.kind.name)
                journal.load(lines, lambda: {**params, "input_sha256": hashing.sha256.hexdigest()})
                _problems(journal, journal.counts(), job.err)
            else:
                while hashing.read(1 << 16):
                    pass
                journal.check({**params, "input_sha256": hashing.sha256.hexdigest()})
                job.summary.notes.append("resumed: lines with a final answer were not sent again")
    except BaseException:
        journal.close()
        raise
    return journal


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


def _settle(job: Job, journal: Journal) -> Counter[str]:
    """Decide what the last run left in flight; returns the lines per status to start from."""
    changed = journal.settle(unsafe=job.unsafe, retry_errors=True)
    if changed.get("unknown"):
        job.summary.notes.append(
            f"{changed['unknown']:,} items in flight when the last run stopped may have "
            "reached Mailkit: reported outcome_unknown, not sent again"
        )
    again = changed.get("resent", 0) + changed.get("retried", 0)
    if again:
        job.summary.notes.append(f"{again:,} items unfinished or failed last time were sent again")
    return journal.counts()


def _dry_run(job: Job, journal: Journal) -> Counter[str]:
    states = journal.states()
    summary = job.summary
    resent = 0 if job.unsafe else states["dispatched"]
    summary.would_send = states["pending"] + states["error"] + resent
    if job.unsafe and states["dispatched"]:
        summary.notes.append(
            f"{states['dispatched']:,} items in flight when the last run stopped would be "
            "reported outcome_unknown, not sent again"
        )
    preview = journal.pending(_PREVIEW)
    if preview:
        shown = ", ".join(f"line {item.line} {_show(item.recipient)}" for item in preview)
        summary.notes.append(f"first to send: {shown}")
    counts = journal.counts()
    _fill(summary, counts)
    return counts


def _fill(summary: Summary, counts: Counter[str]) -> None:
    counts = Counter(counts)
    summary.duplicate_lines = counts.pop("duplicate", 0)
    summary.invalid_lines = counts["invalid_input"]
    summary.recipients = sum(counts.values()) - summary.invalid_lines
    summary.statuses = {status: count for status, count in counts.items() if count}


def _send_and_report(job: Job, client: MailkitClient, counts: Counter[str]) -> ExitCode:
    """The sending phase, then (whatever happened) the report of the whole job."""
    try:
        code = asyncio.run(send(job, client, counts))
    except CliError as exc:
        # The journal failed: still leave the report, as far as the journal can give it.
        try:
            _report(job)
        except (CliError, OSError, sqlite3.Error):
            raise CliError(f"{exc} The report was not written.", exc.code) from None
        raise
    except BaseException:
        with contextlib.suppress(CliError, OSError, sqlite3.Error):
            _report(job)
        raise
    _report(job)
    return code


def _report(job: Job) -> None:
    journal = Journal(job.journal, durable=job.unsafe)
    try:
        _fill(job.summary, journal.counts())
        if job.args.report:
            write_report(job.args.report, journal.rows())
        if job.output is not None and job.kind.output is not None:
            job.kind.output.write(job.output, journal.data_rows())
            job.summary.output = job.output
    except sqlite3.Error as exc:
        raise CliError(
            f"the journal {job.journal} could not be read for the report ({describe(exc)}); "
            "rerun the same command to write it: nothing more is sent for what is done"
        ) from None
    finally:
        journal.close()
