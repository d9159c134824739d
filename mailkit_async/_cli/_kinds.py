"""The kinds of job: what one is, as data; the journal, resume and report machinery is shared.

A kind says which function each recipient gets (`start`), whether a request that may have
reached Mailkit must never be sent again (`unsafe`), what of the arguments a journal records
and a resume must match (`params`), and how an outcome becomes a journal record, which is
what the report row is made from (`record`), whether an ID_email is a recipient for it
(`ids`), and what file of its own it writes from the journal with each report (`output`).
A new job is one more `JobKind` in `KINDS`.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .._batch import Batch, Outcome
from .._client import MailkitClient
from .._errors import (
    AuthenticationError,
    OutcomeUnknownError,
    ProtocolError,
    TransportError,
)
from .._retry import refused_before_processing
from ._journal import DataRow, Record, report_status

__all__ = ["KINDS", "JobKind", "KindOutput", "classify_outcome"]

Items = AsyncIterator[str | int]
AnyOutcome = Outcome[str | int, Any]


def classify_outcome(outcome: AnyOutcome, *, unsafe: bool) -> Record:
    """The journal state of an outcome: final, retried by the next run, or unknown.

    For a result with `status`, `message` and `id_email` (WipeResult, RevalidateResult).
    """
    result, error = outcome.result, outcome.error
    if result is not None:
        id_email = result.id_email
        if id_email is None and isinstance(outcome.item, int):
            id_email = outcome.item
        message = _storable(result.message)
        return Record("done", result.status.value, message, id_email, None, outcome.attempts)
    text = _storable(f"{type(error).__name__}: {error}")
    if isinstance(error, OutcomeUnknownError):
        state = "unknown"
    elif isinstance(error, AuthenticationError):
        state = "pending"  # not the recipient's doing; sent again once credentials work
    elif isinstance(error, TransportError):
        never_acted = not error.request_sent or refused_before_processing(error)
        state = "error" if never_acted or not unsafe else "unknown"
    elif isinstance(error, ProtocolError):
        # Mailkit answered something unreadable: it may have acted.
        state = "unknown" if unsafe else "error"
    else:
        state = "failed"
    status = None if state == "pending" else report_status(state, None)
    return Record(state, status, None, None, text, outcome.attempts)


def _storable(text: str | None) -> str | None:
    # A decoded answer may hold a lone surrogate ("\ud800" in JSON), which SQLite refuses.
    if text is None or text.isascii():
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@dataclass(frozen=True)
class KindOutput:
    """A file a kind writes whole from the journal whenever the report is written."""

    option: str  # the option naming it, for messages: "--output"
    path: Callable[[argparse.Namespace], str]
    check: Callable[[str], None]  # proves it writable before anything is sent
    write: Callable[[str, Iterable[DataRow]], int]


@dataclass(frozen=True)
class JobKind:
    """One kind of job (a subcommand): the few facts that set it apart."""

    name: str
    start: Callable[[MailkitClient, Items, argparse.Namespace], Batch[str | int, Any]]
    unsafe: Callable[[argparse.Namespace], bool] = lambda args: False
    params: Callable[[argparse.Namespace], Mapping[str, str]] = lambda args: {}
    record: Callable[[AnyOutcome, bool], Record] = lambda outcome, unsafe: classify_outcome(
        outcome, unsafe=unsafe
    )
    unsafe_label: str = "unsafe to repeat"  # what progress adds to the name of an unsafe job
    ids: bool = True  # False: an ID_email line is invalid input (the function needs an address)
    output: KindOutput | None = None

    def label(self, args: argparse.Namespace) -> str:
        """How progress names the job."""
        return f"{self.name} ({self.unsafe_label})" if self.unsafe(args) else self.name


def _wipe(client: MailkitClient, items: Items, args: argparse.Namespace) -> Batch[str | int, Any]:
    return client.wipe_many(items, concurrency=args.concurrency, rate=args.rate)


def _revalidate(
    client: MailkitClient, items: Items, args: argparse.Namespace
) -> Batch[str | int, Any]:
    return client.revalidate_many(
        items,
        agreement=args.agreement,
        channel=args.channel,
        language=args.language,
        concurrency=args.concurrency,
        rate=args.rate,
    )


def _revalidate_params(args: argparse.Namespace) -> Mapping[str, str]:
    return {
        "agreement": "yes" if args.agreement else "no",
        "channel": args.channel or "",
        "language": args.language or "",
    }


KINDS: Final[Mapping[str, JobKind]] = {
    # A repeat is harmless: Mailkit answers "Email has already been inserted".
    "wipe": JobKind("wipe", _wipe),
    # Without agreement Mailkit emails a confirmation link: never send one twice.
    "revalidate": JobKind(
        "revalidate",
        _revalidate,
        unsafe=lambda args: not args.agreement,
        params=_revalidate_params,
        unsafe_label="no agreement",
    ),
}
