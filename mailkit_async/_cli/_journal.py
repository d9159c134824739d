"""The job journal: one SQLite file holding a job's parameters and every input line's state.

Line states: `pending` (to send), `dispatched` (handed to the batcher: it may be in flight),
`done` (Mailkit answered; `status` holds the answer), `error` (a failure that is safe to
retry: the next run sends it again), `failed` (a final error), `unknown` (the request may
have acted and repeating it is unsafe), `invalid` (not a recipient, never sent) and
`duplicate` (the same recipient as an earlier line, which alone is sent).

An item is marked `dispatched` in a committed transaction before it is handed over, so after
a crash the next run knows what may have reached Mailkit: a wipe (or a revalidate with
agreement) is simply sent again, a revalidate without agreement becomes "outcome unknown".

A journal is made whole (built under a temporary name, mode 0600, then linked into place)
and marked with an application_id. Whatever else `--journal` names is refused, never taken
over or started afresh: an empty file, a file that is not SQLite, another application's
database, one from another version, or a damaged one (`PRAGMA quick_check`).
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import os
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple

from ._exit import CliError
from ._input import InputLine

__all__ = [
    "DataRow",
    "Item",
    "Journal",
    "Problem",
    "Record",
    "ReportRow",
    "describe",
    "report_status",
]

SCHEMA_VERSION: Final = "1"
# Marks an SQLite file as a journal of this command (the header's application_id: "MKaj").
APPLICATION_ID: Final = 0x4D4B616A
UNKNOWN_AFTER_STOP: Final = (
    "the request may have reached Mailkit before the run stopped; not sent again"
)
_TABLES: Final = frozenset({"job", "items"})
_RECORDS: Final = 100  # outcomes in one UPDATE (8 parameters each; old SQLite allows 999)
_RECORD_FIELDS: Final = 8  # line and the fields of a Record
_RECORD_MANY: Final = (
    "WITH outcome (line, state, status, message, id_email, error, attempts, data) AS "
    "(VALUES {values}) "
    "UPDATE items SET (state, status, message, id_email, error, attempts, data) = ("
    "SELECT outcome.state, outcome.status, outcome.message, outcome.id_email, outcome.error, "
    "items.attempts + outcome.attempts, outcome.data FROM outcome "
    "WHERE outcome.line = items.line) "
    "WHERE line IN (SELECT line FROM outcome)"
)
_START_OVER: Final = "pass a new --journal to start the job over, which sends every recipient again"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS job (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    line INTEGER PRIMARY KEY,     -- the input line (a CSV row: the line it starts on)
    raw TEXT NOT NULL,            -- the value as read
    recipient TEXT,               -- the address, or the ID_email's digits; NULL when invalid
    kind TEXT,                    -- 'email' or 'id'
    key TEXT,                     -- duplicate detection: lower-cased address or '#ID'
    state TEXT NOT NULL,
    status TEXT,                  -- what the report says (see report_status)
    message TEXT,                 -- Mailkit's raw answer
    id_email INTEGER,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    duplicate_of INTEGER,
    data TEXT                     -- what a job keeps of the answer (export: its JSON record)
);
"""
_INDEXES: Final = """
CREATE INDEX IF NOT EXISTS items_key ON items (key);
CREATE INDEX IF NOT EXISTS items_state ON items (state, line);
"""


def describe(exc: sqlite3.Error) -> str:
    """What an SQLite error means for the file, in words (the error's own text kept)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_FULL":
        return f"the disk is full ({exc})"
    if name.startswith("SQLITE_IOERR"):
        return f"a read or write failed: the disk may be full or failing ({exc})"
    if name.startswith("SQLITE_READONLY"):
        return f"it cannot be written: a read-only file or file system ({exc})"
    if name.startswith("SQLITE_CANTOPEN"):
        return f"it cannot be opened ({exc})"
    return str(exc)


class Item(NamedTuple):
    """An item to send."""

    line: int
    recipient: str
    kind: str

    @property
    def value(self) -> str | int:
        """What the client takes: an int is an ID_email, a str an address."""
        return int(self.recipient) if self.kind == "id" else self.recipient


class Problem(NamedTuple):
    """An input line that is not sent: invalid, or a duplicate of `duplicate_of`."""

    line: int
    raw: str
    problem: str | None
    duplicate_of: int | None


class Record(NamedTuple):
    """What the journal keeps of one outcome (`data`: a job's own JSON of the answer)."""

    state: str
    status: str | None
    message: str | None
    id_email: int | None
    error: str | None
    attempts: int
    data: str | None = None


class DataRow(NamedTuple):
    """A recipient's line with the data its job kept of the answer (see `Journal.data_rows`)."""

    line: int
    recipient: str
    status: str
    data: str | None
    error: str | None


class ReportRow(NamedTuple):
    recipient: str
    status: str
    message: str | None
    id_email: int | None
    error: str | None
    attempts: int


def report_status(state: str, status: str | None) -> str:
    """The report's status of a line: Mailkit's answer, or what became of the line."""
    if state == "done" and status:
        return status
    return {
        "pending": "pending",
        "dispatched": "pending",
        "error": "error",
        "failed": "error",
        "unknown": "outcome_unknown",
        "invalid": "invalid_input",
        "duplicate": "duplicate",
    }.get(state, state)


class Journal:
    """One connection to a journal file; use it from one thread only.

    `Journal(path)` opens a journal already known to be one (see `Journal.open`).
    """

    def __init__(self, path: str | Path, *, durable: bool = False) -> None:
        self.path = str(path)
        self._remove: str | None = None
        try:
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE ... COMMIT).
            db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise CliError(f"cannot open the journal {self.path}: {describe(exc)}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # A committed transaction survives a killed process with NORMAL; FULL (an fsync
            # per commit) also survives a power cut, which unsafe jobs pay for.
            db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            db.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as exc:
            db.close()
            raise CliError(f"cannot use the journal {self.path}: {describe(exc)}") from None
        self._db = db

    @classmethod
    def open(cls, path: str, *, durable: bool) -> Journal:
        """The journal at `path`, created (mode 0600) if there is none; refuses anything else.

        Refused, with what to do: a file that is not a journal of this command, an empty
        one, one written by an incompatible version, and a damaged one.
        """
        if _identify(path):
            journal = cls(path, durable=durable)
            try:
                journal._verify()
            except BaseException:
                journal.close()
                raise
            return journal
        _create(path)
        return cls(path, durable=durable)

    @classmethod
    def scratch(cls) -> Journal:
        """A journal for a dry run: a temporary file (mode 0600), deleted on close.

        On disk rather than in memory, so a dry run of a huge input stays small.
        """
        try:
            handle, path = tempfile.mkstemp(prefix="mailkit-async-dry-run-", suffix=".sqlite")
        except OSError as exc:
            raise CliError(f"cannot create a temporary file for the dry run: {exc}") from None
        os.close(handle)
        journal = cls.__new__(cls)
        journal.path = path
        journal._remove = path
        try:
            journal._db = sqlite3.connect(path, isolation_level=None)
            # Nothing to keep across a crash: no fsync, the rollback journal in memory.
            journal._db.executescript(
                "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;" + _SCHEMA + _INDEXES
            )
        except sqlite3.Error as exc:
            journal.close()
            reason = describe(exc)
            raise CliError(f"cannot create a temporary file for the dry run: {reason}") from None
        return journal

    def _verify(self) -> None:
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            stored = self.params()
            schema = stored.get("schema") if stored else SCHEMA_VERSION
            if version > int(SCHEMA_VERSION) or schema != SCHEMA_VERSION:
                raise CliError(
                    f"the journal {self.path} was written by another version of mailkit-async "
                    f"(journal format {schema if schema != SCHEMA_VERSION else version}, this "
                    f"version reads {SCHEMA_VERSION}): nothing was sent. Finish that job with "
                    f"the version that started it, or {_START_OVER}."
                )
            problems = [row[0] for row in self._db.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            raise CliError(
                f"the journal {self.path} is damaged ({'; '.join(problems)}): nothing was "
                f"sent. Restore it from a backup to resume the job, or {_START_OVER}."
            )

    def close(self) -> None:
        with contextlib.suppress(AttributeError):  # a scratch journal that never opened
            self._db.close()
        if self._remove is not None:
            for suffix in ("", "-journal"):
                with contextlib.suppress(OSError):
                    os.unlink(self._remove + suffix)

    # -- the job's parameters ---------------------------------------------------------------

    def params(self) -> dict[str, str] | None:
        """The stored parameters, or None when no job was ever fully loaded into this file."""
        rows = dict(self._db.execute("SELECT key, value FROM job").fetchall())
        return rows if "command" in rows else None

    def check(self, params: Mapping[str, str]) -> None:
        """Refuse to resume a job with other parameters (or another input)."""
        stored = self.params() or {}
        if stored.get("schema") != SCHEMA_VERSION:
            raise CliError(f"{self.path} was written by another version of mailkit-async")
        differences = [
            f"{name} is {stored.get(name) or '(none)'} there, {value or '(none)'} here"
            for name, value in params.items()
            if name != "input_sha256" and stored.get(name, "") != value
        ]
        if differences:
            raise CliError(
                f"the journal {self.path} belongs to another job: "
                + "; ".join(differences)
                + ". Rerun with the journal's parameters to resume it, or pass a new "
                "--journal to start another job."
            )
        if stored.get("input_sha256") != params.get("input_sha256"):
            raise CliError(
                f"the input has changed since the journal {self.path} was started, so its "
                "line numbers no longer match. Resume with the original input, or pass a new "
                "--journal to start a job for this one."
            )

    def load(self, lines: Iterable[InputLine], params: Callable[[], Mapping[str, str]]) -> None:
        """Record the whole input, then `params()`, in one transaction: all or nothing.

        `params` is called once the input is read, so it may hold the input's fingerprint.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM items")
            db.execute("DELETE FROM job")
            # Indexes are built once the rows are in: quicker than growing them row by row.
            db.execute("DROP INDEX IF EXISTS items_key")
            db.execute("DROP INDEX IF EXISTS items_state")
            db.executemany(
                "INSERT INTO items (line, raw, recipient, kind, key, state, status, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        item.line,
                        item.raw,
                        item.recipient,
                        item.kind,
                        item.key,
                        "invalid" if item.problem else "pending",
                        "invalid_input" if item.problem else None,
                        f"line {item.line}: {item.problem}" if item.problem else None,
                    )
                    for item in lines
                ),
            )
            for statement in _INDEXES.split(";"):
                if statement.strip():
                    db.execute(statement)
            # Done in SQL rather than with a dict in memory, which would grow with the input.
            db.execute(
                """
                UPDATE items SET state = 'duplicate', status = 'duplicate',
                    duplicate_of = (SELECT MIN(first.line) FROM items AS first
                                    WHERE first.key = items.key)
                WHERE line IN (
                    SELECT later.line FROM items AS later
                    JOIN (SELECT key, MIN(line) AS line FROM items WHERE key IS NOT NULL
                          GROUP BY key HAVING COUNT(*) > 1) AS first
                    ON later.key = first.key AND later.line > first.line
                )
                """
            )
            created = _now()
            stored = {**params(), "schema": SCHEMA_VERSION, "created": created}
            db.executemany("INSERT INTO job (key, value) VALUES (?, ?)", stored.items())
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def begin_run(self) -> None:
        """Note the start of a run in the journal: also proves it can be written.

        A journal made before items had a `data` column gains it (empty) here: a change of
        the table's definition only, which an older version reading the file ignores.
        """
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(items)")}
            if "data" not in columns:
                self._db.execute("ALTER TABLE items ADD COLUMN data TEXT")
            self._db.execute(
                "INSERT OR REPLACE INTO job (key, value) VALUES ('last_run', ?)", (_now(),)
            )

    # -- what a run does ---------------------------------------------------------------------

    def settle(self, *, unsafe: bool, retry_errors: bool) -> dict[str, int]:
        """Decide the fate of items a previous run left in flight; returns what changed.

        Dispatched items are sent again, except for unsafe jobs, where they may have acted
        and become "outcome unknown". With `retry_errors`, transient errors are sent again.
        """
        db = self._db
        changed: dict[str, int] = {}
        db.execute("BEGIN IMMEDIATE")
        if unsafe:
            changed["unknown"] = db.execute(
                "UPDATE items SET state = 'unknown', status = 'outcome_unknown', error = ? "
                "WHERE state = 'dispatched'",
                (UNKNOWN_AFTER_STOP,),
            ).rowcount
        else:
            changed["resent"] = db.execute(
                "UPDATE items SET state = 'pending', status = NULL WHERE state = 'dispatched'"
            ).rowcount
        if retry_errors:
            changed["retried"] = db.execute(
                "UPDATE items SET state = 'pending', status = NULL WHERE state = 'error'"
            ).rowcount
        db.execute("COMMIT")
        return changed

    def claim(self, count: int, after: int) -> list[Item]:
        """Mark the next `count` pending items after line `after` dispatched, committed.

        A few statements whatever `count` is: a row fetched or updated one at a time is a
        step each, and each step hands the GIL over and back, which the event loop pays for.
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            (last,) = db.execute(
                "SELECT MAX(line) FROM (SELECT line FROM items WHERE state = 'pending' "
                "AND line > ? ORDER BY line LIMIT ?)",
                (after, count),
            ).fetchone()
            if last is None:
                db.execute("COMMIT")
                return []
            db.execute(
                "UPDATE items SET state = 'dispatched' "
                "WHERE state = 'pending' AND line > ? AND line <= ?",
                (after, last),
            )
            # One row for the whole block: its items joined by separators that no
            # recipient holds (addresses and IDs have no control characters).
            (joined,) = db.execute(
                "SELECT group_concat(line || char(31) || kind || char(31) || recipient, "
                "char(30)) FROM (SELECT line, kind, recipient FROM items "
                "WHERE state = 'dispatched' AND line > ? AND line <= ? ORDER BY line)",
                (after, last),
            ).fetchone()
            db.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise
        items = []
        for entry in joined.split("\x1e"):
            line, kind, recipient = entry.split("\x1f", 2)
            items.append(Item(int(line), recipient, kind))
        items.sort()
        return items

    def begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the journal, so that the log starts over at its
        beginning: the next writes then reuse its space instead of growing the file."""
        self._db.execute("PRAGMA wal_checkpoint(RESTART)")

    def release(self, lines: Iterable[int]) -> None:
        """Dispatched items that were never handed over go back to pending (in a transaction)."""
        self._db.executemany(
            "UPDATE items SET state = 'pending' WHERE line = ? AND state = 'dispatched'",
            ((line,) for line in lines),
        )

    def record(
        self,
        line: int,
        state: str,
        status: str | None,
        message: str | None,
        id_email: int | None,
        error: str | None,
        attempts: int,
        data: str | None = None,
    ) -> None:
        """Store an item's outcome (in a transaction); attempts add up across runs."""
        self.record_many([(line, state, status, message, id_email, error, attempts, data)])

    def record_many(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """`record` for many: each row is its arguments, in order (`data` may be left out).

        One statement for up to `_RECORDS` rows: each row of an executemany would be a
        step of its own, and each step hands the GIL over and back.
        """
        for start in range(0, len(rows), _RECORDS):
            chunk = rows[start : start + _RECORDS]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            sql = _RECORD_MANY.format(values=values)  # placeholders only, never a value
            self._db.execute(
                sql,
                [
                    value
                    for row in chunk
                    for value in (row if len(row) == _RECORD_FIELDS else (*row, None))
                ],
            )

    # -- reading -----------------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        """Lines per report status, duplicates included (as "duplicate")."""
        counts: Counter[str] = Counter()
        for state, status, count in self._db.execute(
            "SELECT state, status, COUNT(*) FROM items GROUP BY state, status"
        ):
            counts[report_status(state, status)] += count
        return counts

    def states(self) -> Counter[str]:
        return Counter(
            dict(self._db.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall())
        )

    def problems(self, limit: int) -> list[Problem]:
        """The first `limit` invalid or duplicate lines, in input order."""
        rows = self._db.execute(
            "SELECT line, raw, error, duplicate_of FROM items "
            "WHERE state IN ('invalid', 'duplicate') ORDER BY line LIMIT ?",
            (limit,),
        ).fetchall()
        return [Problem(line, raw, error, dup) for line, raw, error, dup in rows]

    def pending(self, limit: int) -> list[Item]:
        rows = self._db.execute(
            "SELECT line, recipient, kind FROM items WHERE state = 'pending' ORDER BY line LIMIT ?",
            (limit,),
        ).fetchall()
        return [Item(*row) for row in rows]

    def data_rows(self) -> Iterator[DataRow]:
        """One row per recipient, as `rows`, with the data its job kept of the answer."""
        for line, raw, recipient, state, status, data, error in self._db.execute(
            "SELECT line, raw, recipient, state, status, data, error "
            "FROM items WHERE state != 'duplicate' ORDER BY line"
        ):
            yield DataRow(
                line,
                recipient if recipient is not None else raw,
                report_status(state, status),
                data,
                error,
            )

    def rows(self) -> Iterator[ReportRow]:
        """The report: one row per recipient (duplicate lines fold into their first line)."""
        for raw, recipient, state, status, message, id_email, error, attempts in self._db.execute(
            "SELECT raw, recipient, state, status, message, id_email, error, attempts "
            "FROM items WHERE state != 'duplicate' ORDER BY line"
        ):
            yield ReportRow(
                recipient if recipient is not None else raw,
                report_status(state, status),
                message,
                id_email,
                error,
                attempts,
            )


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _identify(path: str) -> bool:
    """True for a journal of this command at `path`, False for none; refuses anything else."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise CliError(f"cannot use {path} as a journal: {exc.strerror}") from None
    if os.path.isdir(path):
        raise CliError(f"--journal {path} is a directory; name a file (it is created)")
    wal = os.path.join(path + "-wal")
    if size == 0 and not (os.path.exists(wal) and os.path.getsize(wal) > 0):
        raise CliError(
            f"the journal {path} is empty: no job's journal is, so it may be what is left of a "
            "lost one, and nothing was sent. If no job ever ran with it, delete it and rerun; "
            f"otherwise restore it from a backup, or {_START_OVER}."
        )
    try:
        with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
            db.execute("PRAGMA busy_timeout=5000")
            application = db.execute("PRAGMA application_id").fetchone()[0]
            tables = {
                name
                for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not name.startswith("sqlite_")
            }
    except sqlite3.DatabaseError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_NOTADB":
            raise CliError(
                f"{path} is not a journal of mailkit-async (not an SQLite database, or damaged "
                "beyond reading): nothing was sent. Pass --journal with another path (a new "
                "journal is created there), or restore this one from a backup."
            ) from None
        if name == "SQLITE_CORRUPT":
            raise CliError(
                f"the journal {path} is damaged ({exc}): nothing was sent. Restore it from a "
                f"backup to resume the job, or {_START_OVER}."
            ) from None
        if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            raise CliError(
                f"the journal {path} is locked by another process ({exc}): nothing was sent. "
                "Let it finish, or stop it, and rerun."
            ) from None
        raise CliError(f"cannot use {path} as a journal: {describe(exc)}") from None
    if application == APPLICATION_ID or (application == 0 and tables == _TABLES):
        return True  # the second: a journal from before the application_id was set
    if application == 0 and not tables:
        raise CliError(
            f"the journal {path} is an empty SQLite database, not the journal of a job: "
            "nothing was sent. If no job ever ran with it, delete it and rerun; otherwise "
            f"restore it from a backup, or {_START_OVER}."
        )
    raise CliError(
        f"{path} is an SQLite database of something else, not a journal of mailkit-async: "
        "nothing was sent, and the file was left as it was. Pass --journal with another path "
        "(a new journal is created there)."
    )


def _create(path: str) -> None:
    """Create an empty journal at `path`, mode 0600, whole or not at all.

    It is built under a temporary name and linked into place, so a journal is never seen
    half made (an empty file would rightly be refused by the next run).
    """
    directory, name = os.path.split(os.path.abspath(path))
    try:
        # mkstemp creates the file 0600 whatever the umask; SQLite gives its -wal and -shm
        # files the mode of the database.
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".new", dir=directory)
    except OSError as exc:
        raise CliError(
            f"cannot create the journal {path}: {exc.strerror}; its directory must exist and "
            "be writable"
        ) from None
    os.close(handle)
    try:
        with contextlib.closing(sqlite3.connect(temporary, isolation_level=None)) as db:
            db.executescript(
                _SCHEMA
                + _INDEXES
                + f"PRAGMA application_id = {APPLICATION_ID};"
                + f"PRAGMA user_version = {int(SCHEMA_VERSION)};"
            )
        _link(temporary, path)
        _sync_directory(directory)
    except sqlite3.Error as exc:
        raise CliError(f"cannot create the journal {path}: {describe(exc)}") from None
    except OSError as exc:
        raise CliError(f"cannot create the journal {path}: {exc.strerror}") from None
    finally:
        for leftover in (temporary, temporary + "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(leftover)


def _link(source: str, target: str) -> None:
    try:
        os.link(source, target)  # unlike a rename, never replaces a file that appeared
    except FileExistsError:
        raise CliError(f"{target} appeared while the journal was being created; rerun") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
            raise
        os.rename(source, target)  # a file system without hard links


def _sync_directory(directory: str) -> None:
    # The new name must survive a power cut as the journal's contents will.
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
