"""The members of a decoded answer, read once for every typed reader: text, IDs, times.

Both codecs decode to plain values, and the servers behind them type members loosely: IDs
come as ints or decimal text, XMLRPC::Lite sends digits as `<int>` where text is due,
Mailkit writes placeholder dates. Each leniency is decided here, and a member of a type
no reading can take is a MalformedResponseError naming it, never a TypeError.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Final

from ._convert import lenient_int, mailkit_time
from ._errors import MalformedResponseError

__all__ = ["integer", "items", "optional_id", "shape_error", "struct", "text", "timestamp"]

_INT64: Final = range(-(2**63), 2**63)
_NO_DATE: Final = "0000-00-00"


def shape_error(function: str, problem: str) -> MalformedResponseError:
    """The error for an answer of the wrong shape."""
    return MalformedResponseError(f"unexpected answer shape: {problem}", function=function)


def text(value: object, name: str, function: str, *, required: bool = False) -> str:
    """A text member: "" when absent or null (unless `required`); an int is its decimal
    text, as a server that types values by their look sends digits as <int>."""
    if type(value) is str:
        return value
    if value is None:
        if required:
            raise shape_error(function, f"{name} is missing")
        return ""
    if type(value) is int and value in _INT64:
        return str(value)
    if isinstance(value, str):
        return str(value)
    raise shape_error(function, f"{name} is a {type(value).__name__}, not text")


def integer(value: object, name: str, function: str) -> int:
    """A required integer member: an int or decimal text, within 64 bits."""
    try:
        return lenient_int(value)
    except ValueError:
        raise shape_error(function, f"{name} is not a 64-bit integer") from None


def optional_id(value: object, name: str, function: str) -> int | None:
    """An ID or counter member: None when absent, null or empty; else as `integer`."""
    if type(value) is str and value.isdigit() and value.isascii() and len(value) < 19:
        return int(value)  # the usual member, in one call rather than three
    if value is None or value == "":
        return None
    return integer(value, name, function)


def timestamp(
    value: object, name: str, function: str, *, strict: bool = False
) -> datetime.datetime | None:
    """Mailkit's `YYYY-MM-DD hh:mm:ss` (or a bare date) as a naive datetime; None when
    absent, empty or all zeros. Other text is None too (the 2018 recordings hold the
    placeholder "yyyy-mm-dd hh:mm:ss"), or with `strict` a MalformedResponseError."""
    if isinstance(value, datetime.datetime):  # an XML-RPC <dateTime.iso8601>
        return value
    written = text(value, name, function).strip()
    if not written or written.startswith(_NO_DATE):
        return None
    moment = mailkit_time(written)
    if moment is None and strict:
        raise shape_error(function, f"{name} is not a date and time")
    return moment


def struct(value: object, name: str, function: str) -> Mapping[str, object]:
    """A struct member (a JSON object, an XML-RPC <struct>)."""
    if type(value) is dict or isinstance(value, Mapping):
        return value
    raise shape_error(function, f"{name} is a {type(value).__name__}, not a struct")


def items(value: object, name: str, function: str) -> list[object] | tuple[object, ...]:
    """A list member (a JSON array, an XML-RPC <array>)."""
    if type(value) is list or isinstance(value, list | tuple):
        return value
    raise shape_error(function, f"{name} is a {type(value).__name__}, not a list")
