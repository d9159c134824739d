"""Reading a job's input: a CSV export, plain text (one recipient a line), or standard input.

A CSV has a column `email` or `ID_email` (header detected, any other column ignored, `,`
`;` or tab separated, as spreadsheet exports in different locales are). Plain text has one
address or ID_email a line; blank lines and lines starting with `#` are skipped. Every line
keeps its number, so invalid and duplicate lines can be reported where they are.

Nothing in an input can take more than a bounded amount of memory or fold other lines into
itself: a physical line longer than `MAX_LINE` characters is read in pieces and reported
invalid, and a CSV record whose quote never closes (or spans more than `MAX_RECORD_LINES`
lines or `MAX_LINE` characters, or puts a line break in the recipient's cell) is reported
invalid at the line it starts on, the lines after it being read again as records of their own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Final, NamedTuple, Protocol, TextIO

from .._errors import InvalidArgumentError
from .._validate import check_id, check_recipient, is_phone
from ._exit import CliError

__all__ = [
    "MAX_LINE",
    "MAX_RECORD_LINES",
    "HashingReader",
    "InputLine",
    "addresses_only",
    "no_phones",
    "open_input",
    "parse_input",
    "physical_lines",
]

MAX_LINE: Final = 100_000  # characters in a line (CSV: in a record); csv's own cap is 131,072
MAX_RECORD_LINES: Final = 100  # physical lines one quoted CSV record may span
_READ: Final = MAX_LINE + 2  # a line, its CR LF, and one more: longer is too long
_EMAIL_COLUMN: Final = "email"
_ID_COLUMN: Final = "id_email"
_MAX_ID_DIGITS: Final = 19  # 2**63 - 1 has 19 digits; longer ones are refused before int()
_SHOWN: Final = 120  # longest raw text kept for an invalid line
_TOO_LONG: Final = f"a line longer than {MAX_LINE:,} characters"
_UNBALANCED: Final = 'a record whose quote (") does not close where it should'


class InputLine(NamedTuple):
    """One input line: a recipient, or the reason it is not one (`problem`)."""

    line: int
    raw: str
    recipient: str | None  # the address as given (trimmed), or the ID_email's digits
    kind: str | None  # "email" or "id"
    key: str | None  # what makes two lines the same recipient
    problem: str | None


# A physical line: its number, its text with the line break (only the first MAX_LINE + 2
# characters when too long), and whether it is too long. A plain tuple: it is made per line.
Line = tuple[int, str, bool]


class HashingReader(io.RawIOBase):
    """A binary stream that hashes what is read through it: the input's fingerprint."""

    def __init__(self, raw: BinaryIO, *, close_raw: bool = True) -> None:
        super().__init__()
        self._raw = raw
        self._close_raw = close_raw
        self.sha256 = hashlib.sha256()

    def close(self) -> None:
        if not self.closed and self._close_raw:
            self._raw.close()
        super().close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        self.sha256.update(data)
        buffer[: len(data)] = data
        return len(data)


def open_input(path: str) -> tuple[TextIO, HashingReader]:
    """The input as text (UTF-8, a byte order mark skipped), and the reader hashing it."""
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


class _Readable(Protocol):
    def readline(self, size: int, /) -> str: ...


def physical_lines(stream: _Readable) -> Iterator[Line]:
    """The lines of `stream` (opened with newline=""), each at most `_READ` characters.

    A line break is LF, CR LF or a lone CR, as in universal newlines mode.
    """
    readline = stream.readline
    number = 0
    piece = readline(_READ)
    while piece:
        number += 1
        if len(piece) < MAX_LINE:  # nearly every line: nothing to check
            yield number, piece, False
            piece = readline(_READ)
            continue
        too_long = len(piece.rstrip("\r\n")) > MAX_LINE
        cut_at_cr = False  # the size limit fell between a CR and its LF
        if len(piece) == _READ and piece[-1] != "\n":
            cut_at_cr = piece[-1] == "\r" or _skip_rest(readline)
        yield number, piece, too_long
        piece = readline(_READ)
        if cut_at_cr and piece == "\n":
            piece = readline(_READ)


def _skip_rest(readline: Callable[[int], str]) -> bool:
    """Read past the rest of a too-long line; True if it ended in a CR at the size limit."""
    while True:
        piece = readline(_READ)
        if not piece or piece[-1] == "\n":
            return False
        if piece[-1] == "\r":
            return len(piece) == _READ
        if len(piece) < _READ:
            return False  # the end of the input


def parse_input(lines: TextIO | Iterable[str], *, csv_hint: bool = False) -> Iterator[InputLine]:
    """Classify each line of `lines` (read with newline="" so CSV quoting survives).

    A first meaningful line naming an `email` or `ID_email` column makes it a CSV; so does
    `csv_hint` (a .csv file name) without such a header, taking the first column.
    """
    stream: _Readable = lines if isinstance(lines, io.TextIOBase) else _Joined(lines)
    source = physical_lines(stream)
    head: list[Line] = []
    for line in source:
        head.append(line)
        stripped = line[1].strip()
        if not line[2] and stripped and not stripped.startswith("#"):
            break
    everything = itertools.chain(head, source)
    first = head[-1] if head and not head[-1][2] else None
    text = first[1] if first else ""
    delimiter = _delimiter(text)
    cells = [cell.strip().lower() for cell in next(csv.reader([text], delimiter=delimiter), [])]
    if first and (_EMAIL_COLUMN in cells or _ID_COLUMN in cells):
        yield from _Records(everything, delimiter, cells, header_line=first[0])
    elif csv_hint:
        yield from _Records(everything, delimiter, None, header_line=0)
    else:
        yield from _text_lines(everything)


class _Joined:
    """Lines given as strings (in tests, say), read as a stream."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._rest = ""

    def readline(self, limit: int, /) -> str:
        if not self._rest:
            self._rest = next(self._lines, "")
        if len(self._rest) <= limit:
            piece, self._rest = self._rest, ""
        else:
            piece, self._rest = self._rest[:limit], self._rest[limit:]
        return piece


def _delimiter(line: str) -> str:
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _text_lines(lines: Iterable[Line]) -> Iterator[InputLine]:
    for number, text, too_long in lines:
        if too_long:
            yield _invalid(number, text, _TOO_LONG)
            continue
        value = text.strip()
        if value and not value.startswith("#"):
            yield classify(number, value, emails=True, ids=True)


class _UnbalancedError(Exception):
    """A quoted record ran past where a quote can reasonably close."""


class _Records:
    """The records of a CSV, one InputLine each, at the line each starts on."""

    def __init__(
        self, lines: Iterator[Line], delimiter: str, header: list[str] | None, header_line: int
    ) -> None:
        self._lines = lines
        self._again: deque[Line] = deque()  # lines to read again after a broken record
        self._delimiter = delimiter
        self._header_line = header_line
        self._email_at = _column(header, _EMAIL_COLUMN) if header else 0
        self._id_at = _column(header, _ID_COLUMN) if header else None
        self._ids = header is None  # a headerless CSV's first column may hold either
        self._reader: Iterator[list[str]] | None = None
        self._taken: list[Line] = []  # the lines of the quoted record being read
        self._size = 0
        self._starting = False

    def _next(self) -> Line | None:
        if self._again:
            return self._again.popleft()
        return next(self._lines, None)

    def __iter__(self) -> Iterator[InputLine]:
        again, lines, delimiter = self._again, self._lines, self._delimiter
        while True:
            line = again.popleft() if again else next(lines, None)
            if line is None:
                return
            number, text, too_long = line
            if number <= self._header_line:
                continue
            if too_long:
                item: InputLine | None = _invalid(number, text, _TOO_LONG)
            elif '"' not in text:
                # No quote: the cells are what lies between the delimiters.
                item = self._record(number, text.rstrip("\r\n").split(delimiter))
            else:
                item = self._quoted(line)
            if item is not None:
                yield item

    def _quoted(self, first: Line) -> InputLine | None:
        self._taken = [first]
        self._size = len(first[1])
        self._starting = True
        if self._reader is None:
            self._reader = csv.reader(self._feed(), delimiter=self._delimiter)
        try:
            row = next(self._reader, [])
            broken = len(self._taken) > 1 and any(
                "\n" in cell or "\r" in cell for cell in self._keys(row)
            )
        except (_UnbalancedError, csv.Error):
            self._reader = None  # it stopped inside a quoted cell: start afresh
            broken = True
        if broken:
            self._again.extendleft(reversed(self._taken[1:]))
            return _invalid(first[0], first[1].rstrip("\r\n"), _UNBALANCED)
        return self._record(first[0], row)

    def _feed(self) -> Iterator[str]:
        # What csv reads: a record's first line, then more lines only while a quoted cell
        # is open, within the bounds past which the quote is taken as broken.
        while True:
            if self._starting:
                self._starting = False
                yield self._taken[0][1]
                continue
            line = self._next()
            if line is None:
                raise _UnbalancedError  # the input ended inside quotes
            if line[2] or len(self._taken) >= MAX_RECORD_LINES:
                self._again.appendleft(line)
                raise _UnbalancedError
            self._size += len(line[1])
            if self._size > MAX_LINE:
                self._again.appendleft(line)
                raise _UnbalancedError
            self._taken.append(line)
            yield line[1]

    def _keys(self, row: list[str]) -> list[str]:
        return [_cell(row, self._email_at), _cell(row, self._id_at)]

    def _record(self, number: int, row: list[str]) -> InputLine | None:
        if not any(cell.strip() for cell in row):
            return None
        email = _cell(row, self._email_at)
        if email:
            return classify(number, email, emails=True, ids=self._ids)
        if self._id_at is not None and _cell(row, self._id_at):
            return classify(number, _cell(row, self._id_at), emails=False, ids=True)
        raw = _shown(self._delimiter.join(row))
        return InputLine(number, raw, None, None, None, "no recipient")


def _column(header: list[str], name: str) -> int | None:
    return header.index(name) if name in header else None


def _cell(row: list[str], at: int | None) -> str:
    return row[at].strip() if at is not None and at < len(row) else ""


def classify(number: int, value: str, *, emails: bool, ids: bool) -> InputLine:
    """One value: an address (when `emails`), a positive ID_email (when `ids`), or neither."""
    if value.isascii() and value.isdigit():
        if not ids:
            return _invalid(number, value, "a number where an email address belongs")
        try:
            if len(value) > _MAX_ID_DIGITS:
                raise InvalidArgumentError("too long")
            id_email = check_id(int(value), name="ID_email")
        except InvalidArgumentError:
            return _invalid(number, value, "not a valid ID_email")
        return InputLine(number, value, str(id_email), "id", f"#{id_email}", None)
    if not emails:
        return _invalid(number, value, "not an ID_email")
    try:
        # A phone number is taken here; jobs whose function takes none refuse it after
        # (`no_phones`), with their name in the reason.
        _, address = check_recipient(value, phone=True)
    except InvalidArgumentError:
        what = "an email address or ID_email" if ids else "an email address"
        return _invalid(number, value, f"not {what}")
    # Mailkit matches addresses without regard to case: Jane@ and jane@ are one recipient.
    return InputLine(number, value, address, "email", address.lower(), None)


def _invalid(number: int, value: str, problem: str) -> InputLine:
    return InputLine(number, _shown(value), None, None, None, problem)


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"


def no_phones(lines: Iterable[InputLine], what: str) -> Iterator[InputLine]:
    """`lines` with each phone number made invalid: for a job whose function takes none.

    `what` names the job in the reason ("wipe").
    """
    for line in lines:
        if line.kind == "email" and line.recipient is not None and is_phone(line.recipient):
            yield _invalid(line.line, line.raw, f"a phone number, which {what} does not take")
        else:
            yield line


def addresses_only(lines: Iterable[InputLine], what: str) -> Iterator[InputLine]:
    """`lines` with each ID_email made invalid: for a job whose function needs an address.

    `what` names the job in the reason ("adduser").
    """
    for line in lines:
        if line.kind == "id":
            yield _invalid(line.line, line.raw, f"an ID_email where {what} needs an email address")
        else:
            yield line
