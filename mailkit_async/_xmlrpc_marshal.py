"""Python values to XML-RPC `<value>` text: one writer per type, looked up in a table.

Stricter than `xmlrpc.client.Marshaller`: it refuses what cannot round-trip (ints beyond 64
bits, NaN, characters XML 1.0 cannot hold, non-str struct keys, recursive containers) with
InvalidArgumentError, so a call is refused whole before anything is sent.

None is written as `<string/>`, as the PHP wrappers that work against Mailkit write null:
`<nil/>` is an extension that strict servers (Frontier::RPC2, Ruby's defaults) refuse. With
`nil=True` it is written as `<nil/>`, for a server that wants that.
"""

from __future__ import annotations

import base64
import datetime
import math
import re
from collections.abc import Callable, Mapping
from typing import Final
from xml.sax.saxutils import escape

from ._errors import InvalidArgumentError

__all__ = ["dump_value", "method_call"]

_I4: Final = range(-(2**31), 2**31)
_I8: Final = range(-(2**63), 2**63)
# XML 1.0 allows tab, LF and CR among the C0 controls; nothing else, and no surrogates.
_NOT_XML_CHAR: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_CARRIAGE_RETURN: Final = {"\r": "&#13;"}
#: Text that is written as it is: no character to refuse, none that `_text` escapes.
_PLAIN_XML_TEXT: Final = re.compile("[^\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff&<>\r]*")


class _State:
    """One document's writing state: the containers being written, and how None is written."""

    __slots__ = ("active", "none")

    def __init__(self, *, nil: bool) -> None:
        self.active: set[int] = set()
        self.none = "<value><nil/></value>" if nil else "<value><string/></value>"


_Writer = Callable[[object, list[str], _State], None]


def _text(value: str) -> str:
    if _PLAIN_XML_TEXT.fullmatch(value):  # the usual text: nothing to refuse or escape
        return value
    if _NOT_XML_CHAR.search(value):
        raise InvalidArgumentError("a string holds a character XML cannot carry")
    # A raw CR would reach the other side as LF: XML parsers normalise line ends.
    return escape(value, _CARRIAGE_RETURN)


def _dump_str(value: object, out: list[str], _: _State) -> None:
    assert isinstance(value, str)
    if value:
        out.append(f"<value><string>{_text(value)}</string></value>")
    else:
        out.append("<value><string/></value>")  # byte for byte what PHP's null becomes


def _dump_bool(value: object, out: list[str], _: _State) -> None:
    out.append(
        "<value><boolean>1</boolean></value>" if value else "<value><boolean>0</boolean></value>"
    )


def _dump_int(value: object, out: list[str], _: _State) -> None:
    assert isinstance(value, int)
    if value in _I4:
        out.append(f"<value><int>{value}</int></value>")
    elif value in _I8:
        out.append(f"<value><i8>{value}</i8></value>")
    else:
        raise InvalidArgumentError("an integer does not fit XML-RPC's 64-bit <i8>")


def _dump_float(value: object, out: list[str], _: _State) -> None:
    assert isinstance(value, float)
    if not math.isfinite(value):
        raise InvalidArgumentError("XML-RPC cannot carry NaN or infinity")
    out.append(f"<value><double>{value!r}</double></value>")


def _dump_none(value: object, out: list[str], state: _State) -> None:
    out.append(state.none)


def _dump_bytes(value: object, out: list[str], _: _State) -> None:
    assert isinstance(value, bytes | bytearray)
    out.append(f"<value><base64>{base64.b64encode(value).decode('ascii')}</base64></value>")


def _dump_datetime(value: object, out: list[str], _: _State) -> None:
    assert isinstance(value, datetime.datetime)
    if value.tzinfo is not None or value.microsecond:
        raise InvalidArgumentError(
            "XML-RPC dateTime.iso8601 carries neither time zones nor microseconds"
        )
    # strftime does not zero-pad years before 1000 on every platform.
    stamp = f"{value.year:04d}{value:%m%dT%H:%M:%S}"
    out.append(f"<value><dateTime.iso8601>{stamp}</dateTime.iso8601></value>")


def _dump_struct(value: object, out: list[str], state: _State) -> None:
    assert isinstance(value, Mapping)
    marker = _enter(value, state.active)
    out.append("<value><struct>")
    for key, member in value.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"struct keys must be str, not {type(key).__name__}")
        out.append(f"<member><name>{_text(key)}</name>")
        dump_value(member, out, state)
        out.append("</member>")
    out.append("</struct></value>")
    state.active.discard(marker)


def _dump_array(value: object, out: list[str], state: _State) -> None:
    assert isinstance(value, list | tuple)
    marker = _enter(value, state.active)
    out.append("<value><array><data>")
    for item in value:
        dump_value(item, out, state)
    out.append("</data></array></value>")
    state.active.discard(marker)


def _enter(container: object, active: set[int]) -> int:
    # No try/finally on the way out: any error aborts the whole document.
    key = id(container)
    if key in active:
        raise InvalidArgumentError("a container holds itself; XML-RPC cannot carry cycles")
    active.add(key)
    return key


# Exact-type lookup, as in xmlrpc.client: bool must never reach the int writer.
_WRITERS: Final[dict[type, _Writer]] = {
    str: _dump_str,
    bool: _dump_bool,
    int: _dump_int,
    float: _dump_float,
    type(None): _dump_none,
    bytes: _dump_bytes,
    bytearray: _dump_bytes,
    datetime.datetime: _dump_datetime,
    dict: _dump_struct,
    list: _dump_array,
    tuple: _dump_array,
}


def dump_value(value: object, out: list[str], state: _State) -> None:
    """Append the `<value>` of `value` to `out`."""
    writer = _WRITERS.get(type(value))
    if writer is None:
        # Subclasses (an IntEnum, a str subclass, a mapping type) take their base's writer.
        writer = next(
            (w for base, w in _WRITERS.items() if base is not bool and isinstance(value, base)),
            _dump_struct if isinstance(value, Mapping) else None,
        )
        if writer is None:
            raise InvalidArgumentError(f"XML-RPC cannot carry a {type(value).__name__}")
    writer(value, out, state)


def method_call(function: str, params: list[object], *, nil: bool = False) -> bytes:
    """A complete `<methodCall>` document, UTF-8 encoded; `nil`: write None as `<nil/>`."""
    out = [
        "<?xml version='1.0' encoding='utf-8'?>\n<methodCall><methodName>",
        _text(function),
        "</methodName><params>",
    ]
    state = _State(nil=nil)
    for param in params:
        out.append("<param>")
        dump_value(param, out, state)
        out.append("</param>")
    out.append("</params></methodCall>")
    return "".join(out).encode("utf-8")
