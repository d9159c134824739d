"""The export job's output: one JSON Line per recipient, made from the journal.

Each answer's typed record is kept in the journal (its `data` column) as the answer comes,
and the output is written whole from the journal at the end of every run, as the report is:
one line per recipient of the whole job, earlier runs included, in input order, and never a
line twice however often the job was stopped and resumed. A recipient Mailkit does not know
is a line with `"status": "not_found"`; one not answered (yet) says why in `status` and
`error`; no line is ever empty.
"""

from __future__ import annotations

import datetime
import enum
import json
from collections.abc import Iterable, Mapping
from typing import Final, TextIO

import attrs

from ._journal import DataRow
from ._report import check_target, write_whole

__all__ = ["OUTPUT_SUFFIXES", "check_output_target", "export_line", "jsonable", "write_export"]

OUTPUT_SUFFIXES: Final = (".jsonl",)


def jsonable(value: object) -> object:
    """`value` as plain JSON data: a result's fields by name, an enum by its value.

    For the frozen result classes of the typed methods (attrs classes of str, int, bool,
    enums, dates, tuples and mappings); anything else becomes its `str`.
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    cls = type(value)
    if attrs.has(cls):
        return {field.name: jsonable(getattr(value, field.name)) for field in attrs.fields(cls)}
    if isinstance(value, datetime.date):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [jsonable(item) for item in value]
    return str(value)


def check_output_target(path: str) -> None:
    """Prove, before anything is sent, that the export can be written at `path`."""
    check_target(path, "--output", OUTPUT_SUFFIXES)


def export_line(row: DataRow) -> str:
    """One recipient's line: where it was in the input, who, the status, what Mailkit holds.

    The fields the job kept (`records`, and `history` where asked) come between `status`
    and `error`; `error` is null unless the line has no answer (why is said there).
    """
    entry: dict[str, object] = {"line": row.line, "recipient": row.recipient, "status": row.status}
    if row.data is not None:
        kept = json.loads(row.data)
        if isinstance(kept, dict):
            entry.update((key, value) for key, value in kept.items() if key not in entry)
    entry["error"] = row.error
    return json.dumps(entry, ensure_ascii=False)


def write_export(path: str, rows: Iterable[DataRow]) -> int:
    """Write one line per row to `path` (replaced whole, mode 0600); returns the count."""

    def write(file: TextIO) -> int:
        count = 0
        for row in rows:
            file.write(export_line(row) + "\n")
            count += 1
        return count

    return write_whole(path, write, "the export")
