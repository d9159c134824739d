"""The private cattrs converter that turns decoded reply structs into typed wire records.

Built once at import, completely, before any hook is generated (cattrs captures leaf hooks
when it generates a class hook, so registering later would be ignored).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from ._errors import MalformedResponseError

__all__ = [
    "ReplyFields",
    "StatusReply",
    "lenient_int",
    "mailkit_time",
    "reply_fields",
    "structure",
]

T = TypeVar("T")

_INT_TEXT: Final = re.compile(r"-?[0-9]{1,19}")
_INT64: Final = range(-(2**63), 2**63)
#: What strptime's "%Y-%m-%d %H:%M:%S" (or "%Y-%m-%d") reads, ASCII digits only.
#: The form Mailkit writes, which `datetime.fromisoformat` reads as `_MAILKIT_TIME` does.
_CANONICAL_TIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_MAILKIT_TIME: Final = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?: ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2}))?"
)


@attrs.frozen
class StatusReply:
    """The `{error_status, error, ID_email, email}` record wipe and revalidate answer with:
    what the converter structures such an answer into (see `reply_fields`)."""

    error: str | None = None
    error_status: int | None = None
    id_email: int | None = None
    email: str | None = None


def lenient_int(value: object) -> int:
    """An int, or a decimal string of one, as Mailkit sends IDs and error_status.

    bool is an int subclass and floats would truncate: both are refused with ValueError.
    """
    if type(value) is int:
        number = value
    elif type(value) is str and value.isdigit() and value.isascii() and len(value) < 19:
        return int(value)  # the usual ID: plain digits, within 64 bits by their count
    elif isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError(f"expected an integer or a decimal string, got {type(value).__name__}")
    if number not in _INT64:
        raise ValueError("integer out of the 64-bit range")
    return number


def _structure_int(value: object, _: type) -> int:
    return lenient_int(value)


def _structure_echo(value: object, _: object) -> str | None:
    # The recipient the API echoes back. A server that types scalars by their look
    # (XMLRPC::Lite) sends an echoed "12345678" as <int>: its decimal text is the same string.
    if type(value) is int:  # not bool, not float: those would be a different text
        return str(value)
    return None if value is None else _structure_str(value, str)


def _structure_str(value: object, _: type) -> str:
    # cattrs' default would turn 5 into "5"; a number where text belongs is a shape error.
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=False)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(
        StatusReply,
        make_dict_structure_fn(
            StatusReply,
            converter,
            id_email=override(rename="ID_email"),
            email=override(struct_hook=_structure_echo),
        ),
    )
    return converter


_CONVERTER: Final = _make_converter()


def structure(value: Mapping[str, Any], cls: type[T], *, function: str) -> T:
    """Structure a decoded struct into `cls`, or raise MalformedResponseError."""
    try:
        return _CONVERTER.structure(value, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
        detail = (
            "; ".join(cattrs.transform_error(exc))
            if isinstance(exc, cattrs.BaseValidationError)
            else str(exc)
        )
        raise MalformedResponseError(
            f"unexpected reply shape for {cls.__name__}: {detail}", function=function
        ) from None


#: A status answer's (error, error_status, ID_email, email), read as `StatusReply` reads it.
ReplyFields = tuple[str | None, int | None, int | None, str | None]


def reply_fields(value: Mapping[str, Any], *, function: str) -> ReplyFields:
    """The fields of `structure(value, StatusReply)`, the well-typed answer taken directly.

    Mailkit nearly always sends str/int/None in these fields; anything else (digits in a
    string, a bool, an int past 64 bits) goes through the converter, which decides and words
    the error. Both give the same fields for the same input; the direct way skips building
    a record the reader would only take apart (a benchmarks/codec.py row measures it).
    """
    error = value.get("error")
    error_status = value.get("error_status")
    id_email = value.get("ID_email")
    email = value.get("email")
    if (
        (error is None or type(error) is str)
        and (email is None or type(email) is str)
        and (error_status is None or (type(error_status) is int and error_status in _INT64))
        and (id_email is None or (type(id_email) is int and id_email in _INT64))
    ):
        return error, error_status, id_email, email
    reply = structure(value, StatusReply, function=function)
    return reply.error, reply.error_status, reply.id_email, reply.email


def mailkit_time(text: str) -> datetime.datetime | None:
    """Mailkit's "YYYY-MM-DD hh:mm:ss" (or a bare date) as a naive datetime, in the account's
    time (Mailkit sends no zone); None for text that is no such date.

    A regex and the constructor: about a tenth of `strptime`, which a getstatus answer
    would pay twice per record.
    """
    if _CANONICAL_TIME.fullmatch(text) is not None:  # as Mailkit writes it: the C parser
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:  # no such day, hour, ...
            return None
    match = _MAILKIT_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = match.groups(default="0")
    try:
        return datetime.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second)
        )
    except ValueError:  # no such day, hour, ...
        return None
