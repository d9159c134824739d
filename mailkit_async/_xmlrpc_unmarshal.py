"""XML-RPC `<methodResponse>` bytes to one Python value, hardened and strict.

`xmlrpc.client.Unmarshaller` "gladly accepts bogus XML-RPC data": two params, a methodCall,
out-of-range ints, `1_000`, invalid base64 as b"". Here every element is checked against a
grammar table and converted through a table of readers, on one of two paths that give the
same answers:

- Small answers with no markup declaration at all (no `<!`: no DTD, so no entities to expand
  or fetch) in an encoding expat reads natively are parsed by the C `ElementTree` parser and
  walked in Python. This is the path every ordinary Mailkit answer takes, at about half the
  cost of `xmlrpc.client.loads`.
- Everything else streams through defusedxml's `DefusedExpatParser` (composed per reply,
  never monkey-patched), which refuses DTDs and entities, with the grammar checked as each
  element opens, so a deep or huge document is refused before it is built.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
import re
import xml.etree.ElementTree as ET
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


def _text_i4(text: str) -> object:
    return _integer(text.strip(), _I4, "i4")


def _text_int(text: str) -> object:
    return _integer(text.strip(), _I4, "int")


def _text_i8(text: str) -> object:
    return _integer(text.strip(), _I8, "i8")


def _text_string(text: str) -> object:
    return text


def _text_boolean(text: str) -> object:
    text = text.strip()
    if text not in ("0", "1"):
        raise _InvalidReplyError("<boolean> must hold 0 or 1")
    return text == "1"


def _text_double(text: str) -> object:
    text = text.strip()
    if not _DOUBLE_TEXT.fullmatch(text):
        raise _InvalidReplyError("<double> does not hold a number")
    value = float(text)
    if not math.isfinite(value):
        raise _InvalidReplyError("<double> out of range")
    return value


def _text_base64(text: str) -> object:
    text = "".join(text.split())  # encoders may wrap lines
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _InvalidReplyError("<base64> does not hold valid base64") from None


def _text_datetime(text: str) -> object:
    text = text.strip()
    if not text.isascii():  # strptime's %Y takes any Unicode digit
        raise _InvalidReplyError("<dateTime.iso8601> does not hold a date")
    for layout in ("%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
    raise _InvalidReplyError("<dateTime.iso8601> does not hold a date")


def _text_nil(text: str) -> object:
    if text.strip():
        raise _InvalidReplyError("<nil/> must be empty")
    return None


#: Each scalar type's text to its value; both parse paths share them.
_SCALAR_READERS: Final[dict[str, Callable[[str], object]]] = {
    "string": _text_string,
    "int": _text_int,
    "i4": _text_i4,
    "i8": _text_i8,
    "boolean": _text_boolean,
    "double": _text_double,
    "base64": _text_base64,
    "dateTime.iso8601": _text_datetime,
    "nil": _text_nil,
}


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
    return _fault_of(frame.items)


def _fault_of(items: list[object]) -> _Fault:
    if len(items) != 1 or not isinstance(items[0], dict):
        raise _InvalidReplyError("<fault> needs one <struct>")
    fault = items[0]
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


def _scalar_frame_reader(read: Callable[[str], object]) -> Callable[[_Frame], object]:
    return lambda frame: read("".join(frame.text))


_READERS: Final[dict[str, Callable[[_Frame], object]]] = {
    **{tag: _scalar_frame_reader(read) for tag, read in _SCALAR_READERS.items()},
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


#: Answers up to this size may take the tree path; a whole tree of them stays small.
TREE_PATH_LIMIT: Final = 64 * 1024
# An XML declaration naming nothing but encodings expat decodes itself (no codec lookup).
_PLAIN_DECLARATION: Final = re.compile(
    rb"<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(['\"])1\.[0-9]+\1"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(['\"])(?i:utf-8|us-ascii|iso-8859-1)\2)?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(['\"])(?:yes|no)\3)?[ \t\r\n]*\?>"
)


_COMMON_DECLARATIONS: Final = (
    b"<?xml version='1.0'?>",
    b'<?xml version="1.0"?>',
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b'<?xml version="1.0" encoding="utf-8"?>',
)


def takes_tree_path(body: bytes) -> bool:
    """Whether `body` is plain enough for the tree path (see the module docstring)."""
    if len(body) > TREE_PATH_LIMIT or b"<!" in body:
        return False
    if body.startswith(b"<?xml"):
        return body.startswith(_COMMON_DECLARATIONS) or _PLAIN_DECLARATION.match(body) is not None
    return body.startswith(b"<")  # no declaration and no BOM: UTF-8 by the XML rules


def parse_response(body: bytes, *, function: str | None = None) -> object:
    """Decode a `<methodResponse>`; a fault raises XmlRpcFaultError."""
    return decode_with(_parse_tree if takes_tree_path(body) else _parse_stream, body, function)


def decode_with(
    parse: Callable[[bytes], _Result | _Fault], body: bytes, function: str | None
) -> object:
    """`parse_response` on a chosen path (tests compare the two)."""
    try:
        outcome = parse(body)
    except DefusedXmlException as exc:
        raise ForbiddenXMLError(
            f"XML-RPC answer refused: {type(exc).__name__}", function=function
        ) from None
    except _InvalidReplyError as exc:
        raise MalformedResponseError(f"invalid XML-RPC answer: {exc}", function=function) from None
    except (ExpatError, ET.ParseError) as exc:
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


def _parse_tree(body: bytes) -> _Result | _Fault:
    # Only for bodies takes_tree_path() vetted: no DTD, so nothing for expat to expand or fetch.
    parser = ET.XMLParser()  # noqa: S314
    parser.feed(body)
    root = parser.close()
    if root.tag != "methodResponse":
        raise _InvalidReplyError(f"<{root.tag}> cannot appear inside <document>")
    kids = _elements(root, _CHILDREN["methodResponse"], 1)
    if len(kids) != 1:
        raise _InvalidReplyError("<methodResponse> needs one <params> or one <fault>")
    (params,) = kids
    inner = _elements(params, _CHILDREN[params.tag], 2)
    if params.tag == "fault":
        fault = _value(inner[0], 2) if len(inner) == 1 else None
        return _fault_of([] if fault is None else [fault])
    if len(inner) != 1:
        raise _InvalidReplyError(f"a response needs exactly one <param>, found {len(inner)}")
    values = _elements(inner[0], _CHILDREN["param"], 3)
    if len(values) != 1:
        raise _InvalidReplyError("<param> needs exactly one <value>")
    return _Result(_value(values[0], 3))


def _elements(parent: ET.Element, allowed: frozenset[str], depth: int) -> list[ET.Element]:
    """The children of `parent` (at `depth`), checked as `_Unmarshaller` checks them."""
    text = parent.text
    if text and not text.isspace():
        raise _InvalidReplyError(f"text inside <{parent.tag}>")
    children = list(parent)
    if children and depth >= MAX_DEPTH:
        raise _InvalidReplyError(f"XML-RPC nesting deeper than {MAX_DEPTH} levels")
    for child in children:
        if child.tag not in allowed:
            raise _InvalidReplyError(f"<{child.tag}> cannot appear inside <{parent.tag}>")
        tail = child.tail
        if tail and not tail.isspace():
            raise _InvalidReplyError(f"text inside <{parent.tag}>")
    return children


def _value(element: ET.Element, depth: int) -> object:
    """The value of a `<value>` element at `depth`."""
    count = len(element)
    if not count:
        # No type element: the text is a string. This is how Mailkit's bare strings arrive.
        return element.text or ""
    if depth + 1 >= MAX_DEPTH:
        raise _InvalidReplyError(f"XML-RPC nesting deeper than {MAX_DEPTH} levels")
    typed = element[0]
    tag = typed.tag
    if count > 1 or tag not in _VALUE_TYPES:
        for child in element:
            if child.tag not in _VALUE_TYPES:
                raise _InvalidReplyError(f"<{child.tag}> cannot appear inside <value>")
        raise _InvalidReplyError("<value> holds more than one value")
    text, tail = element.text, typed.tail
    if (text and not text.isspace()) or (tail and not tail.isspace()):
        raise _InvalidReplyError("<value> mixes text and a typed value")
    read = _SCALAR_READERS.get(tag)
    if read is not None:
        if len(typed):
            raise _InvalidReplyError(f"<{typed[0].tag}> cannot appear inside <{tag}>")
        return read(typed.text or "")
    if tag == "struct":
        struct: dict[str, object] = {}
        for member in _elements(typed, _MEMBER, depth + 2):
            parts = _elements(member, _NAME_VALUE, depth + 3)
            if len(parts) != 2 or parts[0].tag != "name" or parts[1].tag != "value":
                raise _InvalidReplyError("<member> needs one <name> followed by one <value>")
            name = parts[0]
            if len(name):
                raise _InvalidReplyError(f"<{name[0].tag}> cannot appear inside <name>")
            key = name.text or ""
            if key in struct:
                raise _InvalidReplyError(f"<struct> repeats the member {key!r}")
            struct[key] = _value(parts[1], depth + 3)
        return struct
    data = _elements(typed, _DATA, depth + 2)
    if len(data) != 1:
        raise _InvalidReplyError("<array> needs exactly one <data>")
    return [_value(item, depth + 3) for item in _elements(data[0], _VALUE, depth + 3)]


_VALUE_TYPES: Final = _CHILDREN["value"]
_MEMBER: Final = _CHILDREN["struct"]
_NAME_VALUE: Final = _CHILDREN["member"]
_DATA: Final = _CHILDREN["array"]
_VALUE: Final = _CHILDREN["data"]


def _parse_stream(body: bytes) -> _Result | _Fault:
    target = _Unmarshaller()
    # The stubs ask for xmlrpc.client.Unmarshaller; expat only needs start/end/data/xml.
    parser = DefusedExpatParser(
        target,  # type: ignore[arg-type]
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    parser.feed(body)
    parser.close()
    return target.result()
