"""Reading a job's input: a CSV export, plain text (one recipient a line), or standard input.

A CSV has a column `email` or `ID_email` (header detected, any other column ignored, `,`
`;` or tab separated, as spreadsheet exports in different locales are). Plain text has one
address or ID_email a line; blank lines and lines starting with `#` are skipped. Every line
keeps its number, so invalid and duplicate lines can be reported where they are.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Final, NamedTuple

from .._errors import InvalidArgumentError
from .._validate import check_id, check_recipient

__all__ = ["HashingReader", "InputLine", "parse_input"]

_EMAIL_COLUMN: Final = "email"
_ID_COLUMN: Final = "id_email"
_MAX_ID_DIGITS: Final = 19  # 2**63 - 1 has 19 digits; longer ones are refused before int()
_SHOWN: Final = 120  # longest raw text kept for an invalid line


class InputLine(NamedTuple):
    """One input line: a recipient, or the reason it is not one (`problem`)."""

    line: int
    raw: str
    recipient: str | None  # the address as given (trimmed), or the ID_email's digits
    kind: str | None  # "email" or "id"
    key: str | None  # what makes two lines the same recipient
    problem: str | None


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


def parse_input(lines: Iterable[str], *, csv_hint: bool = False) -> Iterator[InputLine]:
    """Classify each line of `lines` (read with newline="" so CSV quoting survives).

    A first meaningful line naming an `email` or `ID_email` column makes it a CSV; so does
    `csv_hint` (a .csv file name) without such a header, taking the first column.
    """
    numbered = enumerate(lines, start=1)
    head: list[tuple[int, str]] = []
    for number, text in numbered:
        head.append((number, text))
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            break
    everything = itertools.chain(head, numbered)
    first = head[-1][1] if head else ""
    delimiter = _delimiter(first)
    cells = [cell.strip().lower() for cell in next(csv.reader([first], delimiter=delimiter), [])]
    if _EMAIL_COLUMN in cells or _ID_COLUMN in cells:
        yield from _csv_rows(everything, delimiter, cells, header_line=head[-1][0])
    elif csv_hint:
        yield from _csv_rows(everything, delimiter, None, header_line=0)
    else:
        yield from _text_lines(everything)


def _delimiter(line: str) -> str:
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _text_lines(lines: Iterable[tuple[int, str]]) -> Iterator[InputLine]:
    for number, text in lines:
        value = text.strip()
        if value and not value.startswith("#"):
            yield classify(number, value, emails=True, ids=True)


def _csv_rows(
    lines: Iterable[tuple[int, str]], delimiter: str, header: list[str] | None, header_line: int
) -> Iterator[InputLine]:
    current = 0

    def feed() -> Iterator[str]:
        nonlocal current
        for number, text in lines:
            current = number
            yield text

    email_at = header.index(_EMAIL_COLUMN) if header and _EMAIL_COLUMN in header else None
    id_at = header.index(_ID_COLUMN) if header and _ID_COLUMN in header else None
    if header is None:
        email_at = 0
    reader = csv.reader(feed(), delimiter=delimiter)
    start = 1
    for row in reader:
        # A quoted cell may span lines: the row is reported at the line it starts on.
        number, start = start, current + 1
        if number <= header_line or not any(cell.strip() for cell in row):
            continue
        email = _cell(row, email_at)
        if email:
            yield classify(number, email, emails=True, ids=header is None)
        elif id_at is not None and _cell(row, id_at):
            yield classify(number, _cell(row, id_at), emails=False, ids=True)
        else:
            yield InputLine(number, _shown(delimiter.join(row)), None, None, None, "no recipient")


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
        _, address = check_recipient(value)
    except InvalidArgumentError:
        what = "an email address or ID_email" if ids else "an email address"
        return _invalid(number, value, f"not {what}")
    # Mailkit matches addresses without regard to case: Jane@ and jane@ are one recipient.
    return InputLine(number, value, address, "email", address.lower(), None)


def _invalid(number: int, value: str, problem: str) -> InputLine:
    return InputLine(number, _shown(value), None, None, None, problem)


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"
