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
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .._batch import Batch, Outcome
from .._client import MailkitClient
from .._errors import (
    AuthenticationError,
    MailkitError,
    OutcomeUnknownError,
    ProtocolError,
    TransportError,
)
from .._recipient_results import HistoryResult, HistoryStatus, LookupStatus, RecipientStatus
from .._retry import refused_before_processing
from ._exit import CliError, ExitCode
from ._export import check_output_target, jsonable, write_export
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
    phones: bool = False  # True: a phone number line is a recipient (SMS; email.unsubscribe)
    output: KindOutput | None = None
    # Run once before the first request of a run with something to send: raises CliError
    # for a job that cannot work (adduser's --list naming no list), so nothing is sent.
    precheck: Callable[[MailkitClient, argparse.Namespace], Awaitable[None]] | None = None

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


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _unsubscribe(
    client: MailkitClient, items: Items, args: argparse.Namespace
) -> Batch[str | int, Any]:
    send_optout = args.send_optout
    return client.map(
        lambda recipient: client.unsubscribe(recipient, send_optout=send_optout),
        items,
        concurrency=args.concurrency,
        rate=args.rate,
    )


@dataclass(frozen=True)
class _Exported:
    """What export learned of one recipient: the records, and the history where asked."""

    found: RecipientStatus
    history: HistoryResult | None  # None when not asked, or nobody was found to ask about
    asked_history: bool


def _export(client: MailkitClient, items: Items, args: argparse.Namespace) -> Batch[str | int, Any]:
    history = args.history

    async def look_up(recipient: str | int) -> _Exported:
        found = await client.get_status(recipient)
        if not history or found.status is not LookupStatus.FOUND:
            return _Exported(found, None, history)
        return _Exported(found, await client.get_status_history(recipient), history)

    return client.map(look_up, items, concurrency=args.concurrency, rate=args.rate)


def _export_record(outcome: AnyOutcome, unsafe: bool) -> Record:
    """The journal's record of an export: the status, and the records as JSON (`data`)."""
    exported = outcome.result
    if not isinstance(exported, _Exported):
        return classify_outcome(outcome, unsafe=unsafe)
    found, history = exported.found, exported.history
    status, message = found.status.value, found.message
    if history is not None and history.status is not HistoryStatus.FOUND:
        # An undocumented answer to the history: a person has to read it.
        status, message = history.status.value, history.message
    id_email = found.records[0].id_email if len(found.records) == 1 else None
    if id_email is None and isinstance(outcome.item, int):
        id_email = outcome.item
    kept: dict[str, object] = {"message": found.message, "records": jsonable(found.records)}
    if exported.asked_history:
        kept["history"] = jsonable(history)  # null: nobody found, so no history to ask for
    # ASCII JSON: a lone surrogate in an answer is escaped, never refused by SQLite.
    data = json.dumps(kept, ensure_ascii=True)
    return Record("done", status, _storable(message), id_email, None, outcome.attempts, data)


def _adduser(
    client: MailkitClient, items: Items, args: argparse.Namespace
) -> Batch[str | int, Any]:
    list_id, double_opt_in = args.list_id, args.double_opt_in
    return client.map(
        # Items are addresses: the kind refuses ID_email lines as invalid input.
        lambda email: client.add_user(list_id, str(email), double_opt_in=double_opt_in),
        items,
        concurrency=args.concurrency,
        rate=args.rate,
    )


async def _list_exists(client: MailkitClient, args: argparse.Namespace) -> None:
    """A --list naming no list would get every recipient the same refusal: found first."""
    try:
        lists = await client.list_mailing_lists()
    except AuthenticationError as exc:
        raise CliError(f"Mailkit refused the credentials ({exc}): nothing was sent") from None
    except MailkitError as exc:
        raise CliError(
            f"cannot check that the mailing list {args.list_id} exists ({exc}): nothing was "
            "sent; rerun the same command",
            ExitCode.ATTENTION,
        ) from None
    if not any(found.list_id == args.list_id for found in lists):
        known = ", ".join(f"{found.list_id} ({found.name})" for found in lists[:10])
        more = ", ..." if len(lists) > 10 else ""
        raise CliError(
            f"--list {args.list_id}: the account has no such mailing list (it has "
            f"{known or 'none'}{more}): nothing was sent; this job's journal keeps its "
            "--list, so run the right one with a new --journal"
        )


_EXPORT_OUTPUT: Final = KindOutput(
    "--output", lambda args: str(args.output), check_output_target, write_export
)

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
    # Objection. With an opt-out email, never send one twice; without, a repeat is harmless.
    "unsubscribe": JobKind(
        "unsubscribe",
        _unsubscribe,
        unsafe=lambda args: bool(args.send_optout),
        params=lambda args: {"send_optout": _yes(args.send_optout)},
        unsafe_label="opt-out email",
        phones=True,  # the page: an address or a phone number, international, no spaces
    ),
    # Access: reads only, always safe to repeat; the output is made from the journal.
    "export": JobKind(
        "export",
        _export,
        params=lambda args: {"history": _yes(args.history)},
        record=_export_record,
        output=_EXPORT_OUTPUT,
    ),
    # Re-consent, the successor of revalidate. With double opt-in Mailkit emails a
    # confirmation link: never send one twice. Without, an upsert: a repeat is harmless.
    "adduser": JobKind(
        "adduser",
        _adduser,
        unsafe=lambda args: bool(args.double_opt_in),
        params=lambda args: {
            "list": str(args.list_id),
            "double_opt_in": _yes(args.double_opt_in),
        },
        unsafe_label="double opt-in",
        ids=False,
        precheck=_list_exists,
    ),
}
