"""What a job leaves behind: the per-recipient report file and the end-of-run summary."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final, TextIO

from ._exit import CliError
from ._journal import ReportRow

__all__ = [
    "COLUMNS",
    "NEEDS_ATTENTION",
    "Summary",
    "check_report_target",
    "check_target",
    "print_summary",
    "spreadsheet_safe",
    "write_report",
    "write_whole",
]

COLUMNS: Final = ("recipient", "status", "message", "id_email", "error", "attempts")
REPORT_SUFFIXES: Final = (".csv", ".jsonl")
# A spreadsheet takes a cell starting with one of these for a formula (OWASP, CSV Injection).
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
#: Report statuses that make the exit status 1.
NEEDS_ATTENTION: Final = frozenset(
    {"error", "outcome_unknown", "unknown", "invalid_input", "pending"}
)


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that a spreadsheet shows as the text it is, never runs as a formula.

    As OWASP recommends: text starting with `=`, `+`, `-`, `@`, TAB or CR gets a leading
    `'` (and every text cell is quoted, see `write_report`). Numbers are left as they are.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def check_report_target(path: str) -> None:
    """Prove, before anything is sent, that a report can be written at `path`."""
    check_target(path, "--report", REPORT_SUFFIXES)


def check_target(path: str, option: str, suffixes: tuple[str, ...]) -> None:
    """Prove, before anything is sent, that `option`'s file can be written at `path`."""
    if Path(path).suffix.lower() not in suffixes:
        raise CliError(f"{option} {path}: the name must end in {' or '.join(suffixes)}")
    if os.path.isdir(path):
        raise CliError(f"{option} {path} is a directory; name a file")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CliError(f"{option} {path}: no such directory")
    try:
        # The file is written to a temporary file in that directory, then renamed.
        handle, probe = tempfile.mkstemp(prefix=".report-", suffix=".probe", dir=directory)
    except OSError as exc:
        raise CliError(
            f"{option} {path}: cannot write in {directory} ({exc.strerror}): nothing was sent"
        ) from None
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def write_report(path: str, rows: Iterable[ReportRow]) -> int:
    """Write `rows` as CSV or JSON Lines (by `path`'s extension), replacing the file whole.

    Written to a temporary file (mode 0600) and renamed, so a reader never sees half a
    report. CSV cells are made safe for spreadsheets (`spreadsheet_safe`); JSON Lines keep
    every value as it is.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise CliError(f"--report {path}: the name must end in .csv or .jsonl")

    def write(file: TextIO) -> int:
        count = 0
        if suffix == ".csv":
            writer = csv.writer(file, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow(COLUMNS)
            for row in rows:
                writer.writerow([spreadsheet_safe(value) for value in row])
                count += 1
        else:
            for row in rows:
                file.write(json.dumps(row._asdict(), ensure_ascii=False) + "\n")
                count += 1
        return count

    return write_whole(path, write, "the report")


def write_whole(path: str, write: Callable[[TextIO], int], what: str) -> int:
    """Replace `path` whole with what `write(file)` writes; returns what `write` returns.

    Written to a temporary file (mode 0600, whatever the umask) in the same directory and
    renamed, so a reader never sees half a file.
    """
    directory = os.path.dirname(os.path.abspath(path))
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=".report-", suffix=Path(path).suffix.lower(), dir=directory
        )
        with os.fdopen(handle, "w", encoding="utf-8", errors="replace", newline="") as file:
            count = write(file)
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        raise CliError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    return count


@dataclass
class Summary:
    """The facts of a job at the end of one run (the whole job, plus this run's figures)."""

    command: str
    protocol: str
    endpoint: str
    journal: str
    report: str | None
    recipients: int  # distinct recipients in the input (each sent once)
    invalid_lines: int
    duplicate_lines: int
    statuses: dict[str, int]  # report status -> recipients (invalid lines included)
    output: str | None = None  # a job's own output (export's --output), once written
    sent_this_run: int = 0
    retries_this_run: int = 0
    elapsed: float = 0.0
    dry_run: bool = False
    would_send: int = 0
    interrupted: str | None = None  # "SIGINT" or "SIGTERM"
    exit_code: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def attention(self) -> int:
        """Recipients and lines that need a look (for a dry run, pending ones are expected)."""
        return sum(
            count
            for status, count in self.statuses.items()
            if status in NEEDS_ATTENTION and not (self.dry_run and status == "pending")
        )

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "attention": self.attention}, indent=2)


def print_summary(summary: Summary, out: TextIO) -> None:
    """The summary table."""
    target = "the built-in emulator" if summary.endpoint == "emulator" else summary.endpoint
    lines = [f"{summary.command} over {summary.protocol} to {target}"]
    lines.append(f"journal: {summary.journal}")
    if summary.report:
        lines.append(f"report:  {summary.report}")
    if summary.output:
        lines.append(f"output:  {summary.output}")
    counts = Counter(summary.statuses)
    width = max([len("status"), *(len(status) for status in counts)])
    lines.append(f"  {'status':<{width}}  {'count':>8}")
    for status, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])):
        lines.append(f"  {status:<{width}}  {count:>8,}")
    lines.append(f"  {'total':<{width}}  {sum(counts.values()):>8,}")
    facts = [
        f"{summary.recipients:,} recipient{'s' if summary.recipients != 1 else ''}",
        f"{summary.invalid_lines:,} invalid line{'s' if summary.invalid_lines != 1 else ''}",
        f"{summary.duplicate_lines:,} duplicate line{'s' if summary.duplicate_lines != 1 else ''}"
        " (sent once)",
    ]
    lines.append("input: " + ", ".join(facts))
    if summary.dry_run:
        lines.append(f"dry run: {summary.would_send:,} requests would be sent; nothing was sent")
    else:
        lines.append(
            f"this run: {summary.sent_this_run:,} requests answered, "
            f"{summary.retries_this_run:,} retries, {summary.elapsed:.1f} s"
        )
    lines.extend(summary.notes)
    if summary.interrupted:
        lines.append(f"stopped by {summary.interrupted}: rerun the same command to resume")
    elif summary.attention:
        where = "see the report" if summary.report else "--report PATH lists them"
        lines.append(f"{summary.attention:,} need attention ({where})")
    lines.append(f"exit status {summary.exit_code}")
    out.write("\n".join(lines) + "\n")
