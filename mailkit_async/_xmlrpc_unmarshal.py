"""XML-RPC `<methodResponse>` bytes to one Python value, through defusedxml, strictly.

`xmlrpc.client.Unmarshaller` "gladly accepts bogus XML-RPC data": two params, a methodCall,
out-of-range ints, `1_000`, invalid base64 as b"". This target is fed by defusedxml's
`DefusedExpatParser` (composed per reply, never monkey-patched), checks every element against
a grammar table as it opens, and converts each closing element through a table of readers.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
import re
from collections.abc import Callable
from typing import Final, cast
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser

from ._errors import ForbiddenXMLError, MalformedResponseError, XmlRpcFaultError

__all__ = ["parse_response"]

#: Far deeper than any Mailkit answer; refuses "5,000 nested arrays" before recursion bites.
MAX_DEPTH: Final = 64

_SCALARS: Final = frozenset(
    {"string", "int", "i4", "i8", "boolean", "double", "base64", "dateTime.iso8601", "nil"}
)
# Which element may open inside which (None: the document itself).
_CHILDREN: Final[dict[str | None, frozenset[str]]] = {
    None: frozenset({"methodResponse"}),
    "methodResponse": frozenset({"params", "fault"}),
    "params": frozenset({"param"}),
    "param": frozenset({"value"}),
    "fault": frozenset({"value"}),
    "value": _SCALARS | {"struct", "array"},
    "struct": frozenset({"member"}),
    "member": frozenset({"name", "value"}),
    "array": frozenset({"data"}),
    "data": frozenset({"value"}),
    **{scalar: frozenset() for scalar in _SCALARS},
    "name": frozenset(),
}
# Elements whose text is their content; everywhere else only whitespace may appear.
_TEXT_ELEMENTS: Final = _SCALARS | {"name", "value"}

_INT_TEXT: Final = re.compile(r"[+-]?[0-9]+")
_DOUBLE_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_I4: Final = range(-(2**31), 2**31)
_I8: Final = range(-(2**63), 2**63)


_MISSING: Final = object()


class _InvalidReplyError(Exception):
    """Raised inside parser callbacks; turned into MalformedResponseError at the top."""


class _Frame:
    __slots__ = ("items", "tag", "text")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.text: list[str] = []
        self.items: list[object] = []


def _integer(text: str, bounds: range, tag: str) -> int:
    if not _INT_TEXT.fullmatch(text) or len(text) > 21:
        raise _InvalidReplyError(f"<{tag}> does not hold an integer")
    value = int(text)
    if value not in bounds:
        raise _InvalidReplyError(f"<{tag}> value out of range")
    return value


def _read_i4(frame: _Frame) -> object:
    return _integer("".join(frame.text).strip(), _I4, frame.tag)


def _read_i8(frame: _Frame) -> object:
    return _integer("".join(frame.text).strip(), _I8, frame.tag)


def _read_string(frame: _Frame) -> object:
    return "".join(frame.text)


def _read_boolean(frame: _Frame) -> object:
    text = "".join(frame.text).strip()
    if text not in ("0", "1"):
        raise _InvalidReplyError("<boolean> must hold 0 or 1")
    return text == "1"


def _read_double(frame: _Frame) -> object:
    text = "".join(frame.text).strip()
    if not _DOUBLE_TEXT.fullmatch(text):
        raise _InvalidReplyError("<double> does not hold a number")
    value = float(text)
    if not math.isfinite(value):
        raise _InvalidReplyError("<double> out of range")
    return value


def _read_base64(frame: _Frame) -> object:
    text = "".join("".join(frame.text).split())  # encoders may wrap lines
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _InvalidReplyError("<base64> does not hold valid base64") from None


def _read_datetime(frame: _Frame) -> object:
    text = "".join(frame.text).strip()
    if not text.isascii():  # strptime's %Y takes any Unicode digit
        raise _InvalidReplyError("<dateTime.iso8601> does not hold a date")
    for layout in ("%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
    raise _InvalidReplyError("<dateTime.iso8601> does not hold a date")


def _read_nil(frame: _Frame) -> object:
    if "".join(frame.text).strip():
        raise _InvalidReplyError("<nil/> must be empty")
    return None


def _read_value(frame: _Frame) -> object:
    if len(frame.items) > 1:
        raise _InvalidReplyError("<value> holds more than one value")
    if frame.items:
        if "".join(frame.text).strip():
            raise _InvalidReplyError("<value> mixes text and a typed value")
        return frame.items[0]
    # No type element: the text is a string. This is how Mailkit's bare strings arrive.
    return "".join(frame.text)


def _read_member(frame: _Frame) -> object:
    # The name arrives as a _Name marker so it cannot be confused with a string value.
    items = frame.items
    if len(items) != 2 or not isinstance(items[0], _Name) or isinstance(items[1], _Name):
        raise _InvalidReplyError("<member> needs one <name> followed by one <value>")
    return _Member(items[0].text, items[1])


def _read_struct(frame: _Frame) -> object:
    struct: dict[str, object] = {}
    for member in cast("list[_Member]", frame.items):  # the grammar admits only <member>
        if member.name in struct:
            raise _InvalidReplyError(f"<struct> repeats the member {member.name!r}")
        struct[member.name] = member.value
    return struct


def _read_data(frame: _Frame) -> object:
    return list(frame.items)


def _read_array(frame: _Frame) -> object:
    if len(frame.items) != 1:
        raise _InvalidReplyError("<array> needs exactly one <data>")
    return frame.items[0]


def _read_param(frame: _Frame) -> object:
    if len(frame.items) != 1:
        raise _InvalidReplyError("<param> needs exactly one <value>")
    return frame.items[0]


def _read_params(frame: _Frame) -> object:
    if len(frame.items) != 1:
        raise _InvalidReplyError(f"a response needs exactly one <param>, found {len(frame.items)}")
    return _Result(frame.items[0])


def _read_fault(frame: _Frame) -> object:
    if len(frame.items) != 1 or not isinstance(frame.items[0], dict):
        raise _InvalidReplyError("<fault> needs one <struct>")
    fault = frame.items[0]
    code, text = fault.get("faultCode"), fault.get("faultString")
    if type(code) is not int or not isinstance(text, str):
        raise _InvalidReplyError("<fault> needs an int faultCode and a string faultString")
    return _Fault(code, text)


def _read_method_response(frame: _Frame) -> object:
    if len(frame.items) != 1:
        raise _InvalidReplyError("<methodResponse> needs one <params> or one <fault>")
    return frame.items[0]


class _Name:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _read_name(frame: _Frame) -> object:
    return _Name("".join(frame.text))


class _Member:
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value


class _Result:
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


class _Fault:
    __slots__ = ("code", "text")

    def __init__(self, code: int, text: str) -> None:
        self.code = code
        self.text = text


_READERS: Final[dict[str, Callable[[_Frame], object]]] = {
    "string": _read_string,
    "int": _read_i4,
    "i4": _read_i4,
    "i8": _read_i8,
    "boolean": _read_boolean,
    "double": _read_double,
    "base64": _read_base64,
    "dateTime.iso8601": _read_datetime,
    "nil": _read_nil,
    "value": _read_value,
    "name": _read_name,
    "member": _read_member,
    "struct": _read_struct,
    "data": _read_data,
    "array": _read_array,
    "param": _read_param,
    "params": _read_params,
    "fault": _read_fault,
    "methodResponse": _read_method_response,
}


class _Unmarshaller:
    """An expat target building one response value; any deviation raises _InvalidReplyError."""

    __slots__ = ("_result", "_stack")

    def __init__(self) -> None:
        self._stack: list[_Frame] = []
        self._result: object = _MISSING

    def xml(self, encoding: str | None, standalone: object) -> None:
        pass

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        parent = self._stack[-1].tag if self._stack else None
        if parent is None and self._result is not _MISSING:
            raise _InvalidReplyError("content after the document element")
        if tag not in _CHILDREN.get(parent, ()):
            raise _InvalidReplyError(f"<{tag}> cannot appear inside <{parent or 'document'}>")
        if len(self._stack) >= MAX_DEPTH:
            raise _InvalidReplyError(f"XML-RPC nesting deeper than {MAX_DEPTH} levels")
        self._stack.append(_Frame(tag))

    def data(self, text: str) -> None:
        if not self._stack:
            return  # expat reports no text outside the root; nothing to keep
        frame = self._stack[-1]
        if frame.tag in _TEXT_ELEMENTS:
            frame.text.append(text)
        elif text.strip():
            raise _InvalidReplyError(f"text inside <{frame.tag}>")

    def end(self, tag: str) -> None:
        frame = self._stack.pop()
        value = _READERS[frame.tag](frame)
        if self._stack:
            self._stack[-1].items.append(value)
        else:
            self._result = value

    def result(self) -> _Result | _Fault:
        if not isinstance(self._result, _Result | _Fault):
            raise _InvalidReplyError("the document ended early")
        return self._result


def parse_response(body: bytes, *, function: str | None = None) -> object:
    """Decode a `<methodResponse>`; a fault raises XmlRpcFaultError."""
    target = _Unmarshaller()
    # The stubs ask for xmlrpc.client.Unmarshaller; expat only needs start/end/data/xml.
    parser = DefusedExpatParser(
        target,  # type: ignore[arg-type]
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(body)
        parser.close()
        outcome = target.result()
    except DefusedXmlException as exc:
        raise ForbiddenXMLError(
            f"XML-RPC answer refused: {type(exc).__name__}", function=function
        ) from None
    except _InvalidReplyError as exc:
        raise MalformedResponseError(f"invalid XML-RPC answer: {exc}", function=function) from None
    except ExpatError as exc:
        raise MalformedResponseError(f"XML is not well-formed: {exc}", function=function) from None
    except (ValueError, LookupError) as exc:
        # expat asks Python's codecs for a declared encoding it lacks: multi-byte ones raise
        # ValueError, unknown names LookupError, odd codecs UnicodeError (a ValueError).
        raise MalformedResponseError(
            f"unusable XML encoding: {type(exc).__name__}", function=function
        ) from None
    if isinstance(outcome, _Fault):
        raise XmlRpcFaultError(outcome.code, outcome.text, function=function)
    return outcome.value
