"""What the data-subject jobs add to the job machinery: the journal keeps each answer's data
(also in a journal made before it had the column), the export's JSON Lines are made from the
journal (one line per recipient, never an empty one, the file 0600 and replaced whole),
results become plain JSON, ID_email lines are invalid input for a job that needs an address,
and a kind's output is proven writable and kept apart from the job's other files."""

from __future__ import annotations

import contextlib
import datetime
import enum
import io
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from mailkit_async._cli._exit import CliError
from mailkit_async._cli._export import (
    check_output_target,
    export_line,
    jsonable,
    write_export,
)
from mailkit_async._cli._input import addresses_only, parse_input
from mailkit_async._cli._journal import DataRow, Journal
from mailkit_async._cli._writer import JournalWriter

from ._cli_support import read_report, run_cli

PARAMS = {"command": "export", "protocol": "json", "endpoint": "emulator", "input_sha256": "aa"}
_OPEN: list[Journal] = []


@pytest.fixture(autouse=True)
def _close_journals() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def loaded(path: Path, text: str) -> Journal:
    journal = Journal.open(str(path), durable=False)
    _OPEN.append(journal)
    journal.load(parse_input(io.StringIO(text)), lambda: PARAMS)
    journal.begin_run()
    return journal


def test_the_journal_keeps_each_answers_data_for_the_rows(tmp_path: Path) -> None:
    journal = loaded(tmp_path / "j", "a@example.com\nbad\nb@example.com\nA@example.com\n")
    journal.begin()
    journal.record(1, "done", "found", None, 7, None, 1, '{"records": [{"EMAIL": "a"}]}')
    journal.record(3, "done", "not_found", None, None, None, 2)  # no data: it stays NULL
    journal.commit()
    rows = list(journal.data_rows())
    assert rows == [
        DataRow(1, "a@example.com", "found", '{"records": [{"EMAIL": "a"}]}', None),
        DataRow(2, "bad", "invalid_input", None, "line 2: not an email address or ID_email"),
        DataRow(3, "b@example.com", "not_found", None, None),
    ]  # the duplicate on line 4 folds into line 1, as in the report


async def test_the_writer_records_data_in_group_commits(tmp_path: Path) -> None:
    path = tmp_path / "j"
    loaded(path, "".join(f"u{n}@example.com\n" for n in range(300)))
    writer = JournalWriter(path, durable=False, buffer=64)
    try:
        claimed = await writer.claim(300, 0)
        for item in claimed:
            writer.record(item.line, "done", "found", None, None, None, 1, f'{{"n": {item.line}}}')
        await writer.call(lambda journal: None)
    finally:
        writer.close()
    with contextlib.closing(sqlite3.connect(path)) as db:
        data = [row[0] for row in db.execute("SELECT data FROM items ORDER BY line")]
    assert data == [f'{{"n": {n}}}' for n in range(1, 301)]


def test_a_journal_from_before_the_data_column_gains_it_on_the_next_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    journal = loaded(path, "a@example.com\nb@example.com\n")
    journal.close()
    _OPEN.remove(journal)
    with contextlib.closing(sqlite3.connect(path)) as db:  # as the previous version made it
        db.execute("ALTER TABLE items DROP COLUMN data")
        db.commit()
    old = Journal.open(str(path), durable=False)
    _OPEN.append(old)
    old.check(PARAMS)  # still this job's journal
    assert [row.status for row in old.rows()] == ["pending", "pending"]
    old.begin_run()
    old.begin()
    old.record(1, "done", "found", None, None, None, 1, "{}")
    old.commit()
    assert [row.data for row in old.data_rows()] == ["{}", None]


def test_an_export_line_is_never_empty_and_says_what_became_of_the_recipient() -> None:
    found = DataRow(1, "jane@example.com", "found", '{"records": [{"EMAIL": "jane"}]}', None)
    missing = DataRow(2, "gone@example.com", "not_found", '{"records": []}', None)
    bad = DataRow(3, "oops", "invalid_input", None, "line 3: not an email address")
    lost = DataRow(4, "x@example.com", "error", None, "ConnectError: refused")
    lines = [json.loads(export_line(row)) for row in (found, missing, bad, lost)]
    assert lines == [
        {"line": 1, "recipient": "jane@example.com", "status": "found",
         "records": [{"EMAIL": "jane"}], "error": None},
        {"line": 2, "recipient": "gone@example.com", "status": "not_found", "records": [],
         "error": None},
        {"line": 3, "recipient": "oops", "status": "invalid_input",
         "error": "line 3: not an email address"},
        {"line": 4, "recipient": "x@example.com", "status": "error",
         "error": "ConnectError: refused"},
    ]  # fmt: skip
    # What the job kept never overwrites the line's own facts.
    sly = DataRow(5, "a@example.com", "found", '{"status": "x", "recipient": "y"}', None)
    assert json.loads(export_line(sly))["recipient"] == "a@example.com"


def test_the_export_is_written_whole_and_0600_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "export.jsonl"
    target.write_text("an older export\n" * 50, encoding="utf-8")
    target.chmod(0o644)
    rows = [DataRow(n, f"u{n}@example.com", "found", '{"records": []}', None) for n in (1, 2)]
    previous = os.umask(0o022)
    try:
        assert write_export(str(target), rows) == 2
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [json.loads(line)["line"] for line in target.read_text().splitlines()] == [1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.jsonl"]  # no temporary left


def test_an_export_that_cannot_be_written_is_one_line_and_leaves_the_old_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "export.jsonl"
    target.write_text("kept\n", encoding="utf-8")

    def broken() -> Iterator[DataRow]:
        yield DataRow(1, "a@example.com", "found", None, None)
        raise OSError(28, "No space left on device")

    with pytest.raises(CliError, match=r"cannot write the export .*No space left on device"):
        write_export(str(target), broken())
    assert target.read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.jsonl"]


def test_the_output_target_is_checked_before_anything_is_sent(tmp_path: Path) -> None:
    check_output_target(str(tmp_path / "fine.jsonl"))
    with pytest.raises(CliError, match=r"--output .*out.csv: the name must end in .jsonl"):
        check_output_target(str(tmp_path / "out.csv"))
    with pytest.raises(CliError, match="no such directory"):
        check_output_target(str(tmp_path / "missing" / "out.jsonl"))
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(CliError, match="is a directory"):
        check_output_target(str(tmp_path / "dir.jsonl"))


class _Colour(enum.Enum):
    RED = "red"


@attrs.frozen(kw_only=True)
class _Entry:
    when: datetime.datetime
    day: datetime.date
    colour: _Colour
    counts: tuple[int, ...]
    extra: dict[str, object]


@attrs.frozen(kw_only=True)
class _Result:
    status: _Colour
    message: str | None
    entries: tuple[_Entry, ...]


def test_results_become_plain_json_by_field_name() -> None:
    entry = _Entry(
        when=datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC),
        day=datetime.date(2024, 5, 2),
        colour=_Colour.RED,
        counts=(1, 2),
        extra={"k": frozenset({3}), 4: None},
    )
    result = _Result(status=_Colour.RED, message=None, entries=(entry,))
    assert jsonable(result) == {
        "status": "red",
        "message": None,
        "entries": [
            {
                "when": "2024-05-01T12:30:00+00:00",
                "day": "2024-05-02",
                "colour": "red",
                "counts": [1, 2],
                "extra": {"k": [3], "4": None},
            }
        ],
    }
    assert jsonable(object.__new__(object)).startswith("<object")  # anything else: its str
    json.dumps(jsonable(result))  # and it is JSON


def test_an_id_email_is_invalid_input_for_a_job_that_needs_an_address() -> None:
    lines = list(addresses_only(parse_input(io.StringIO("a@example.com\n12345\nbad\n")), "adduser"))
    assert [(line.line, line.kind, line.problem) for line in lines] == [
        (1, "email", None),
        (2, None, "an ID_email where adduser needs an email address"),
        (3, None, "not an email address or ID_email"),
    ]
    assert lines[1].key is None  # never a duplicate of anything, never sent


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
@pytest.mark.parametrize(
    ("job", "status"),
    [
        (("unsubscribe",), "unsubscribed"),
        (("unsubscribe", "--send-optout"), "unsubscribed"),
        (("export", "--history"), "found"),
        (("adduser", "--list", "1"), "confirmation_sent"),
        (("adduser", "--list", "1", "--no-double-opt-in"), "inserted"),
    ],
    ids=["unsubscribe", "optout", "export", "adduser", "consented"],
)
def test_each_job_runs_against_the_in_process_emulator(
    tmp_path: Path, job: tuple[str, ...], status: str, protocol: str
) -> None:
    source = tmp_path / "in.txt"
    source.write_text("".join(f"u{n}@example.com\n" for n in range(30)), encoding="utf-8")
    report = tmp_path / "report.jsonl"
    output = ("--output", str(tmp_path / "out.jsonl")) if job[0] == "export" else ()
    done = run_cli(
        *job, str(source), "--emulator", "--protocol", protocol, "--report", str(report),
        *output,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {row["status"] for row in read_report(report)} == {status}
    assert f"{job[0]} over {protocol} to the built-in emulator" in done.stdout
