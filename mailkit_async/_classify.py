"""Answers to statuses: each function's reading, global errors first, the same for both protocols.

Mailkit tells success from failure only by the text: JSON puts it in `error` (even for
success, with `error_status` 0, and revalidate refuses with `error_status` 0 too), XML-RPC
often answers a bare string. So every answer is classified by its exact (trimmed) string;
`error_status` only vetoes a success. A string nobody documented becomes UNKNOWN, with the
raw message kept. The strings themselves are the function table's (`_functions.py`): the
tables here are derived from it, never written twice.

Every reading starts with the two answers any function may give (`Unauthorized`,
`Disallowed IP <ip>`), so a call's answer is decided in one place.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Final, Generic, TypeVar

import attrs

from ._convert import ReplyFields, lenient_int, reply_fields
from ._errors import ApiError, AuthenticationError, InvalidArgumentError, MalformedResponseError
from ._functions import FUNCTIONS, GLOBAL_ERRORS, FunctionSpec, SentAs
from ._records import record_maker
from ._results import RevalidateResult, WipeResult
from ._statuses import RevalidateStatus, WipeStatus
from ._validate import is_address

__all__ = [
    "REVALIDATE",
    "WIPE",
    "ExtraMessages",
    "MessageTable",
    "classify_revalidate",
    "classify_wipe",
    "raise_for_api_error",
    "raise_for_global_error",
    "read_answer",
    "read_text_answer",
]

# Any status enum: the typed methods of each family build their tables with `MessageTable.of`.
S = TypeVar("S", bound=enum.Enum)

#: User-registered strings: `{function: {"exact text" or re.Pattern: status}}`.
ExtraMessages = Mapping[str, Mapping["str | re.Pattern[str]", WipeStatus | RevalidateStatus]]


@attrs.frozen
class MessageTable(Generic[S]):
    """Exact strings first, then patterns matched against the whole (trimmed) string.

    `successes` are the statuses the API sends as success (error_status 0): a non-zero
    error_status next to one of them vetoes it.
    """

    exact: Mapping[str, S]
    patterns: tuple[tuple[re.Pattern[str], S], ...] = ()
    successes: frozenset[S] = frozenset()

    @classmethod
    def of(cls, spec: FunctionSpec, statuses: type[S]) -> MessageTable[S]:
        """The table of `spec`'s documented texts, each status named by the function table."""
        exact, patterns = spec.message_table()
        successes = {
            m.status for m in spec.messages if m.sent_as is SentAs.SUCCESS and m.field == "error"
        }
        return cls(
            {text: statuses[name] for text, name in exact.items()},
            tuple((pattern, statuses[name]) for pattern, name in patterns),
            frozenset(statuses[name] for name in successes),
        )

    def lookup(self, message: str) -> S | None:
        status = self.exact.get(message)
        if status is None:
            for pattern, candidate in self.patterns:
                if pattern.fullmatch(message):
                    return candidate
        return status

    def extended(self, extra: Mapping[str | re.Pattern[str], S]) -> MessageTable[S]:
        """A table where `extra` wins over the built-in strings."""
        exact = {key.strip(): status for key, status in extra.items() if isinstance(key, str)}
        patterns = tuple((k, s) for k, s in extra.items() if isinstance(k, re.Pattern))
        return MessageTable({**self.exact, **exact}, patterns + self.patterns, self.successes)


WIPE: Final = MessageTable.of(FUNCTIONS["mailkit.email.wipe"], WipeStatus)
REVALIDATE: Final = MessageTable.of(FUNCTIONS["mailkit.email.revalidate"], RevalidateStatus)

_TABLES: Final[Mapping[str, MessageTable[WipeStatus] | MessageTable[RevalidateStatus]]] = {
    "mailkit.email.wipe": WIPE,
    "mailkit.email.revalidate": REVALIDATE,
}


def build_tables(
    extra: ExtraMessages | None,
) -> tuple[MessageTable[WipeStatus], MessageTable[RevalidateStatus]]:
    """The wipe and revalidate tables with a client's extra strings merged in."""
    wipe, revalidate = WIPE, REVALIDATE
    for function, messages in (extra or {}).items():
        if function not in _TABLES:
            raise InvalidArgumentError(
                f"extra_messages: no classifier for {function!r}; known: {sorted(_TABLES)}"
            )
        status_type = WipeStatus if function == "mailkit.email.wipe" else RevalidateStatus
        for key, status in messages.items():
            if not isinstance(status, status_type):
                raise InvalidArgumentError(
                    f"extra_messages[{function!r}][{key!r}] must be a {status_type.__name__}"
                )
            if not isinstance(key, str | re.Pattern):
                raise InvalidArgumentError("extra_messages keys must be str or re.Pattern")
        if status_type is WipeStatus:
            wipe = wipe.extended(messages)  # type: ignore[arg-type]  # checked above
        else:
            revalidate = revalidate.extended(messages)  # type: ignore[arg-type]  # checked above
    return wipe, revalidate


def _message_of(value: object) -> str | None:
    if type(value) is dict:  # what both codecs build; skips the ABC check below
        error = value.get("error")
        return error if isinstance(error, str) else None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        error = value.get("error")
        return error if isinstance(error, str) else None
    return None


def raise_for_global_error(value: object, function: str) -> None:
    """Raise AuthenticationError for `Unauthorized` / `Disallowed IP <ip>` on any call."""
    message = _message_of(value)
    if message is not None:
        _check_global(message, function)


def _check_global(message: str, function: str) -> None:
    # Runs on every answer: the substring test keeps ordinary ones off the regex.
    if ("Unauthorized" in message or "Disallowed IP " in message) and GLOBAL_ERRORS.fullmatch(
        message.strip()
    ):
        raise AuthenticationError(message.strip(), function=function)


def raise_for_api_error(value: object, spec: FunctionSpec | None, function: str) -> None:
    """For `call()`: raise ApiError for a non-zero error_status or a documented error string."""
    message = _message_of(value)
    status: int | None = None
    if isinstance(value, Mapping) and "error_status" in value:
        raw = value["error_status"]
        try:
            status = None if raw is None else lenient_int(raw)
        except ValueError:
            raise MalformedResponseError(
                "error_status is not an integer", function=function
            ) from None
    if status:
        raise ApiError(message or "", function=function, error_status=status)
    if message is not None and spec is not None and spec.is_error_message(message.strip()):
        raise ApiError(message.strip(), function=function, error_status=status)


def read_text_answer(value: object, function: str) -> tuple[str, ReplyFields | None]:
    """A status answer's trimmed text, and its fields when it was a struct; the global
    errors raised first, whichever shape they came in."""
    if isinstance(value, str):
        _check_global(value, function)
        return value.strip(), None
    if type(value) is dict or isinstance(value, Mapping):
        fields = reply_fields(value, function=function)
        error = fields[0]
        if error is None:
            raise MalformedResponseError("answer has no 'error' text", function=function)
        _check_global(error, function)
        return error.strip(), fields
    raise MalformedResponseError(
        f"expected a string or a struct, got {type(value).__name__}", function=function
    )


_wipe_result: Final = record_maker(WipeResult)
_revalidate_result: Final = record_maker(RevalidateResult)


def _vetoed(status: S, error_status: int | None, table: MessageTable[S]) -> bool:
    # A success string next to a non-zero error_status contradicts itself: never call it done.
    # (ALREADY_QUEUED is no success: the duplicate wipe is an error answer that merely means
    # the work is done.)
    return status in table.successes and error_status not in (None, 0)


def read_answer(value: object, spec: FunctionSpec | None, function: str) -> object:
    """`call()`'s reading: the decoded answer itself, unless it is an error (global first)."""
    raise_for_global_error(value, function)
    raise_for_api_error(value, spec, function)
    return value


def classify_wipe(value: object, table: MessageTable[WipeStatus], *, function: str) -> WipeResult:
    """The WipeResult of one decoded wipe answer."""
    if type(value) is dict:  # the usual answer, read here without _read's dispatch
        error, error_status, id_email, email = reply_fields(value, function=function)
        if error is not None and "Unauthorized" not in error and "Disallowed IP " not in error:
            message = error.strip()
            status = table.exact.get(message) or table.lookup(message) or WipeStatus.UNKNOWN
            if error_status and status in table.successes:
                status = WipeStatus.UNKNOWN
            return _wipe_result(status, message, id_email, email, error_status)
    message, fields = read_text_answer(value, function)
    status = table.lookup(message) or WipeStatus.UNKNOWN
    if fields is None:
        return _wipe_result(status, message, None, None, None)
    _, error_status, id_email, email = fields
    if _vetoed(status, error_status, table):
        status = WipeStatus.UNKNOWN
    return _wipe_result(status, message, id_email, email, error_status)


def classify_revalidate(
    value: object,
    table: MessageTable[RevalidateStatus],
    *,
    function: str,
    agreement: bool,
    requested_email: str | None,
) -> RevalidateResult:
    """The RevalidateResult of one decoded revalidate answer.

    XML-RPC answers success with the bare address and nothing else, so the request's
    `agreement` decides between REVALIDATED and CONFIRMATION_SENT; an address other than the
    one asked about is not taken as success.
    """
    message, fields = read_text_answer(value, function)
    status = table.lookup(message)
    _, error_status, id_email, email = fields or (None, None, None, None)
    if (
        status is None
        and fields is None
        and is_address(message)
        and (requested_email is None or message.casefold() == requested_email.casefold())
    ):
        status = RevalidateStatus.REVALIDATED if agreement else RevalidateStatus.CONFIRMATION_SENT
        email = message
    if status is None or _vetoed(status, error_status, table):
        status = RevalidateStatus.UNKNOWN
    return _revalidate_result(status, message, id_email, email, error_status)
