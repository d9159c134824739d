"""The job journal and its writer thread: what is recorded, what is refused and why, and
how a failed write is survived."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailkit_async._cli._exit import CliError
from mailkit_async._cli._input import parse_input
from mailkit_async._cli._journal import Journal
from mailkit_async._cli._writer import JournalWriter

PARAMS = {"command": "wipe", "protocol": "json", "endpoint": "emulator", "input_sha256": "aa"}


_OPEN: list[Journal] = []


@pytest.fixture(autouse=True)
def _close_journals() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def opened(path: Path) -> Journal:
    journal = Journal.open(str(path), durable=False)
    _OPEN.append(journal)
    return journal


def loaded(path: Path, text: str, params: dict[str, str] = PARAMS) -> Journal:
    journal = opened(path)
    journal.load(parse_input(io.StringIO(text)), lambda: params)
    return journal


def test_load_records_every_line_with_invalid_and_duplicates(tmp_path: Path) -> None:
    journal = loaded(tmp_path / "j", "a@example.com\nbad\nA@example.com\n7\n7\n")
    assert journal.states() == {"pending": 2, "invalid": 1, "duplicate": 2}
    problems = journal.problems(10)
    assert [(p.line, p.duplicate_of) for p in problems] == [(2, None), (3, 1), (5, 4)]
    stored = journal.params() or {}
    assert {key: stored[key] for key in PARAMS} == PARAMS
    rows = list(journal.rows())
    assert [(r.recipient, r.status) for r in rows] == [
        ("a@example.com", "pending"),
        ("bad", "invalid_input"),
        ("7", "pending"),
    ]


def test_a_failed_load_leaves_no_job(tmp_path: Path) -> None:
    def broken():  # type: ignore[no-untyped-def]
        yield from parse_input(io.StringIO("a@example.com\n"))
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad")

    journal = opened(tmp_path / "j")
    with pytest.raises(UnicodeDecodeError):
        journal.load(broken(), lambda: PARAMS)
    assert journal.params() is None
    assert journal.states() == {}


def test_check_refuses_other_parameters_and_input(tmp_path: Path) -> None:
    journal = loaded(tmp_path / "j", "a@example.com\n")
    journal.check(PARAMS)
    with pytest.raises(CliError, match="protocol is json there, xmlrpc here"):
        journal.check({**PARAMS, "protocol": "xmlrpc"})
    with pytest.raises(CliError, match=r"channel is \(none\) there, web here"):
        journal.check({**PARAMS, "channel": "web"})
    with pytest.raises(CliError, match="the input has changed"):
        journal.check({**PARAMS, "input_sha256": "bb"})


def test_claim_marks_dispatched_and_settle_decides_their_fate(tmp_path: Path) -> None:
    path = tmp_path / "j"
    journal = loaded(path, "".join(f"u{n}@example.com\n" for n in range(6)))
    first = journal.claim(2, 0)
    assert [item.line for item in first] == [1, 2]
    assert [item.line for item in journal.claim(2, 2)] == [3, 4]
    journal.begin()
    journal.record(1, "done", "queued", "OK", 5, None, 1)
    journal.record(2, "error", "error", None, None, "ConnectError: x", 4)
    journal.release([4])
    journal.commit()
    assert journal.states() == {"done": 1, "error": 1, "dispatched": 1, "pending": 3}

    # Another connection sees only committed work, as a rerun after a kill would.
    unsafe = opened(path)
    assert unsafe.settle(unsafe=True, retry_errors=True) == {"unknown": 1, "retried": 1}
    assert unsafe.states() == {"done": 1, "unknown": 1, "pending": 4}
    assert [r.status for r in unsafe.rows()][:3] == ["queued", "pending", "outcome_unknown"]


def test_safe_settle_sends_dispatched_items_again(tmp_path: Path) -> None:
    journal = loaded(tmp_path / "j", "a@example.com\nb@example.com\n")
    journal.claim(5, 0)
    assert journal.settle(unsafe=False, retry_errors=False) == {"resent": 2}
    assert journal.states() == {"pending": 2}


def test_attempts_add_up_across_runs(tmp_path: Path) -> None:
    journal = loaded(tmp_path / "j", "a@example.com\n")
    for state, attempts in (("error", 4), ("done", 2)):
        journal.begin()
        journal.record(1, state, None, None, None, None, attempts)
        journal.commit()
    assert next(journal.rows()).attempts == 6


def test_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just some text that is long enough" * 10)
    with pytest.raises(CliError, match=r"is not a journal of mailkit-async"):
        Journal.open(str(path), durable=False)


async def test_writer_commits_in_order_before_answering(tmp_path: Path) -> None:
    path = tmp_path / "j"
    loaded(path, "".join(f"u{n}@example.com\n" for n in range(600)))
    writer = JournalWriter(path, durable=False)
    try:
        claimed = await writer.claim(600, 0)
        for item in claimed[:550]:
            writer.record(item.line, "done", "queued", "OK", None, None, 1)
        writer.release([item.line for item in claimed[550:]])
        # An answer comes once everything queued before it is committed.
        states = await writer.call(lambda journal: journal.states())
        with contextlib.closing(sqlite3.connect(path)) as reader:
            committed = dict(reader.execute("SELECT state, COUNT(*) FROM items GROUP BY state"))
    finally:
        writer.close()
    assert states == committed == {"done": 550, "pending": 50}


async def test_writer_failure_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "j"
    loaded(path, "a@example.com\n")
    writer = JournalWriter(path, durable=True)

    def fail(journal: Journal) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    try:
        with pytest.raises(sqlite3.OperationalError):
            await writer.call(fail)
        with pytest.raises(sqlite3.OperationalError):  # and nothing more is done
            await writer.claim(1, 0)
    finally:
        writer.close()
    assert isinstance(writer.error, sqlite3.OperationalError)


def journal_with(path: Path, count: int) -> None:
    loaded(path, "".join(f"u{n}@example.com\n" for n in range(count))).close()


def damage(path: Path) -> None:
    """Overwrite one 4 KiB page in the middle of the items table, as a bad sector would."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            pages = db.execute("SELECT pageno FROM dbstat WHERE name = 'items' ORDER BY pageno")
            page = [row[0] for row in pages][10]
        except sqlite3.OperationalError:  # an SQLite built without the dbstat table
            page = path.stat().st_size // 4096 // 2
    with path.open("r+b") as file:
        file.seek((page - 1) * 4096)
        file.write(bytes(range(256)) * 16)


def empty_sqlite(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 7")  # a header, and no table


def other_application(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('keep me')")
        db.commit()


def newer_version(path: Path) -> None:
    journal_with(path, 3)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 2")


def other_schema_in_job(path: Path) -> None:
    journal_with(path, 3)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE job SET value = '0' WHERE key = 'schema'")
        db.commit()


@pytest.mark.parametrize(
    ("make", "refusal"),
    [
        (lambda path: path.write_bytes(b""), r"is empty: .* nothing was sent"),
        (lambda path: path.write_text("a note\n" * 1000), r"is not a journal of mailkit-async"),
        (empty_sqlite, r"is an empty SQLite database"),
        (other_application, r"is an SQLite database of something else"),
        (newer_version, r"another version of mailkit-async \(journal format 2"),
        (other_schema_in_job, r"another version of mailkit-async \(journal format 0"),
        (lambda path: (journal_with(path, 3000), damage(path)), r"is damaged \("),
    ],
    ids=["empty", "text", "empty-sqlite", "other-app", "newer", "older", "damaged"],
)
def test_what_is_not_a_usable_journal_is_refused_and_left_alone(
    tmp_path: Path, make: object, refusal: str
) -> None:
    path = tmp_path / "job.sqlite"
    make(path)  # type: ignore[operator]
    before = path.read_bytes()
    with pytest.raises(CliError, match=refusal) as caught:
        Journal.open(str(path), durable=False)
    assert "\n" not in str(caught.value)
    assert "--journal" in str(caught.value) or "version" in str(caught.value)
    assert path.read_bytes() == before


def test_a_new_journal_is_made_whole_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    old = os.umask(0)
    try:
        Journal.open(str(path), durable=False).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.sqlite"]  # no temporary left
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x4D4B616A
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"


def test_a_journal_from_before_the_application_id_is_still_one(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    journal_with(path, 5)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA application_id = 0")
        db.execute("PRAGMA user_version = 0")
    journal = opened(path)
    journal.check(PARAMS)
    assert journal.states() == {"pending": 5}


def test_a_scratch_journal_is_private_and_gone_on_close() -> None:
    journal = Journal.scratch()
    path = Path(journal.path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    journal.load(parse_input(io.StringIO("a@example.com\n")), lambda: PARAMS)
    assert journal.states() == {"pending": 1}
    journal.close()
    assert not path.exists()


async def test_a_failed_group_is_tried_again_and_claims_stop(tmp_path: Path) -> None:
    """Once a write fails, nothing more is claimed; what else is queued is still written."""
    path = tmp_path / "j"
    journal_with(path, 20)
    errors: list[BaseException] = []
    writer = JournalWriter(path, durable=False, on_error=errors.append)
    failures = iter([True])

    def flaky(journal: Journal) -> None:
        if next(failures, False):
            raise sqlite3.OperationalError("database or disk is full")

    try:
        claimed = await writer.claim(10, 0)
        await writer.call(flaky)  # fails, then succeeds when tried again
        for item in claimed[:5]:
            writer.record(item.line, "done", "queued", "OK", None, None, 1)
        writer.release([item.line for item in claimed[5:]])
        with pytest.raises(sqlite3.OperationalError):
            await writer.claim(10, 10)
        states = await writer.call(lambda journal: journal.states())
    finally:
        writer.close()
    assert states == {"done": 5, "pending": 15}
    assert [str(e) for e in errors] == ["database or disk is full"]  # reported once


def test_a_claim_returns_the_items_as_they_were_loaded(tmp_path: Path) -> None:
    values = ["a+tag@example.com", "12345678", "o'neil@example.com", "=1+1@example.com"]
    values += ["bad", "A+TAG@example.com", "z@x.cz"]
    text = "".join(f"{value}\n" for value in values)
    journal = loaded(tmp_path / "j", text)
    expected = journal.pending(10)
    assert [item.line for item in expected] == [1, 2, 3, 4, 7]
    claimed = journal.claim(3, 0) + journal.claim(10, 3)
    assert claimed == expected
    assert claimed[1].value == 12345678
    assert journal.claim(10, 0) == []
    assert journal.states() == {"dispatched": 5, "invalid": 1, "duplicate": 1}


async def test_buffered_outcomes_are_written_before_anything_that_follows(tmp_path: Path) -> None:
    path = tmp_path / "j"
    journal_with(path, 10)
    writer = JournalWriter(path, durable=False, buffer=100)
    try:
        claimed = await writer.claim(10, 0)
        for item in claimed[:4]:
            writer.record(item.line, "done", "queued", "OK", None, None, 1)
        # Still in the buffer; a call (as a claim, a release, close) hands it over first.
        states = await writer.call(lambda journal: journal.states())
        writer.record(claimed[4].line, "done", "queued", "OK", None, None, 1)
        await asyncio.sleep(0.2)  # longer than the buffer may hold an outcome
        with contextlib.closing(sqlite3.connect(path)) as reader:
            committed = dict(reader.execute("SELECT state, COUNT(*) FROM items GROUP BY state"))
    finally:
        writer.close()
    assert states == {"done": 4, "dispatched": 6}
    assert committed == {"done": 5, "dispatched": 5}
