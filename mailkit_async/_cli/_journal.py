"""The job journal: one SQLite file holding a job's parameters and every input line's state.

Line states: `pending` (to send), `dispatched` (handed to the batcher: it may be in flight),
`done` (Mailkit answered; `status` holds the answer), `error` (a failure that is safe to
retry: the next run sends it again), `failed` (a final error), `unknown` (the request may
have acted and repeating it is unsafe), `invalid` (not a recipient, never sent) and
`duplicate` (the same recipient as an earlier line, which alone is sent).

An item is marked `dispatched` in a committed transaction before it is handed over, so after
a crash the next run knows what may have reached Mailkit: a wipe (or a revalidate with
agreement) is simply sent again, a revalidate without agreement becomes "outcome unknown".
"""

from __future__ import annotations

import datetime
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Final, NamedTuple

from ._exit import CliError
from ._input import InputLine

__all__ = ["Item", "Journal", "Problem", "ReportRow", "report_status"]

SCHEMA_VERSION: Final = "1"
UNKNOWN_AFTER_STOP: Final = (
    "the request may have reached Mailkit before the run stopped; not sent again"
)

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
    duplicate_of INTEGER
);
CREATE INDEX IF NOT EXISTS items_key ON items (key);
CREATE INDEX IF NOT EXISTS items_state ON items (state, line);
"""


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
    """One connection to a journal file; use it from one thread only."""

    def __init__(self, path: str | Path, *, durable: bool = False) -> None:
        self.path = str(path)
        try:
            # isolation_level=None: transactions are ours (BEGIN IMMEDIATE ... COMMIT).
            db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise CliError(f"cannot use {self.path} as a journal: {exc}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # A committed transaction survives a killed process with NORMAL; FULL (an fsync
            # per commit) also survives a power cut, which unsafe jobs pay for.
            db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            db.close()
            raise CliError(f"cannot use {self.path} as a journal: {exc}") from None
        self._db = db

    def close(self) -> None:
        self._db.close()

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
            # Done in SQL rather than with a dict in memory, which would grow with the input.
            db.execute(
                """
                UPDATE items SET state = 'duplicate', status = 'duplicate',
                    duplicate_of = (SELECT MIN(first.line) FROM items AS first
                                    WHERE first.key = items.key)
                WHERE key IS NOT NULL AND line > (SELECT MIN(first.line) FROM items AS first
                                                  WHERE first.key = items.key)
                """
            )
            created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
            stored = {**params(), "schema": SCHEMA_VERSION, "created": created}
            db.executemany("INSERT INTO job (key, value) VALUES (?, ?)", stored.items())
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

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
        """Mark the next `count` pending items after line `after` dispatched, committed."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        rows = db.execute(
            "SELECT line, recipient, kind FROM items WHERE state = 'pending' AND line > ? "
            "ORDER BY line LIMIT ?",
            (after, count),
        ).fetchall()
        db.executemany(
            "UPDATE items SET state = 'dispatched' WHERE line = ?", ((row[0],) for row in rows)
        )
        db.execute("COMMIT")
        return [Item(*row) for row in rows]

    def begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._db.execute("COMMIT")

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
    ) -> None:
        """Store an item's outcome (in a transaction); attempts add up across runs."""
        self._db.execute(
            "UPDATE items SET state = ?, status = ?, message = ?, id_email = ?, error = ?, "
            "attempts = attempts + ? WHERE line = ?",
            (state, status, message, id_email, error, attempts, line),
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
