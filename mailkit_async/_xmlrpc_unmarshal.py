"""XML-RPC `<methodResponse>` bytes to one Python value: one grammar, two drivers.

`xmlrpc.client.Unmarshaller` "gladly accepts bogus XML-RPC data": two params, a methodCall,
`1_000`, invalid base64 as b"". Here the grammar is one table, `GRAMMAR`, in the style of the
Unmarshaller's `dispatch`: for each element, the elements it may hold, whether its text is
content, and the reader that turns its text and its children's values into its value. What
the stdlib reads where the meaning is plain is read too: an integer in any of `<int>`, `<i4>`
and `<i8>` whatever its width, and a fault whose faultCode is a string. Two drivers walk the
same table, so they give the same answers:

- Small answers with no markup declaration at all (no `<!`: no DTD, so no entities to expand
  or fetch) in an encoding expat reads natively are parsed by the C `ElementTree` parser and
  the tree is walked (`_walk`). This is the path every ordinary Mailkit answer takes, for
  less than `xmlrpc.client.loads` costs (`benchmarks/codec.py`).
- Everything else streams through defusedxml's `DefusedExpatParser` (composed per reply,
  never monkey-patched), which refuses DTDs and entities, into `_Unmarshaller`, which checks
  each element as it opens, so a deep or huge document is refused before it is built.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from typing import Final
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser

from ._errors import ForbiddenXMLError, MalformedResponseError, XmlRpcFaultError

__all__ = ["GRAMMAR", "MAX_DEPTH", "parse_response"]

#: Far deeper than any Mailkit answer; refuses "5,000 nested arrays" before recursion bites.
MAX_DEPTH: Final = 64
#: The longest integer read: what `xmlrpc.client.loads` reads under Python's default limit
#: (`sys.get_int_max_str_digits`), whatever the process has set it to.
MAX_INT_DIGITS: Final = 4300

_INT_TEXT: Final = re.compile(rf"[+-]?[0-9]{{1,{MAX_INT_DIGITS}}}")
#: IDs separated by commas, as one page's example writes them inside an <i4>.
_INT_LIST_TEXT: Final = re.compile(r"[0-9]{1,19}(?:[ \t]*,[ \t]*[0-9]{1,19})+")
_DOUBLE_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_MISSING: Final = object()

#: A leaf's reader: its text to its value.
LeafReader = Callable[[str], object]
#: A container's reader: its text (all of it, children's tails included, which only elements
#: whose text is content keep) and its children's values, to its value.
Reader = Callable[[str, Sequence[object]], object]


class _InvalidReplyError(Exception):
    """Raised while reading; turned into MalformedResponseError at the top."""


class _Rule:
    """One element of the grammar: a leaf (a scalar, a name) or a container."""

    __slots__ = ("children", "leaf", "read", "sequence", "tag", "text", "unwrap")

    def __init__(self, tag: str, leaf: LeafReader | None = None) -> None:
        self.tag = tag
        #: A leaf holds no elements; its text is its content, read by `leaf`.
        self.leaf = leaf
        #: A container's value from its text and its children's values; None: the list of
        #: its children's values is its value.
        self.read: Reader | None = None
        #: Whether a container's character data is content; elsewhere only whitespace may be.
        self.text = False
        #: Whether one child and no text (whitespace aside) make the container's value that
        #: child's value without calling `read`, which then sees only the other cases.
        self.unwrap = False
        #: The children a container must hold, exactly these in this order; None: any number
        #: of any of `children`, in any order.
        self.sequence: tuple[str, ...] | None = None
        #: The elements that may open inside this one, by tag.
        self.children: dict[str, _Rule] = {}

    def out_of_sequence(self) -> _InvalidReplyError:
        assert self.sequence is not None
        return _InvalidReplyError(
            f"<{self.tag}> needs " + ", ".join(f"<{tag}>" for tag in self.sequence) + " in order"
        )


#: A response's one value, in a 1-tuple: no XML-RPC value reads to a tuple, and a tuple is
#: built without a call.
_Result = tuple[object]


class _Fault:
    __slots__ = ("code", "text")

    def __init__(self, code: int | str, text: str) -> None:
        self.code = code
        self.text = text


_OUTCOMES: Final = (tuple, _Fault)


# --- leaf readers -----------------------------------------------------------------------------


def _integer_reader(tag: str) -> LeafReader:
    # The tag's nominal width is not checked: Frontier::RPC2 and XMLRPC::Lite write 2**40 as
    # <int>, and xmlrpc.client reads it; a record that needs a range checks it.
    def read(text: str) -> object:
        if not (text.isdigit() and text.isascii()):  # the common case skips the expression
            text = text.strip()
            if not _INT_TEXT.fullmatch(text):
                if _INT_LIST_TEXT.fullmatch(text):
                    # mailinglist.unsubscribed's page shows ID_UNSUBSCRIBE_GROUP as
                    # <i4>27,29,35</i4>: the list is its text, for the member's reader to
                    # split, rather than the whole answer refused.
                    return text
                raise _InvalidReplyError(f"<{tag}> does not hold an integer")
        elif len(text) > MAX_INT_DIGITS:
            raise _InvalidReplyError(f"<{tag}> holds too many digits")
        try:
            return int(text)
        except ValueError:  # the process set a lower int_max_str_digits
            raise _InvalidReplyError(f"<{tag}> holds too many digits") from None

    return read


def _read_boolean(text: str) -> object:
    text = text.strip()
    if text not in ("0", "1"):
        raise _InvalidReplyError("<boolean> must hold 0 or 1")
    return text == "1"


def _read_double(text: str) -> object:
    text = text.strip()
    if not _DOUBLE_TEXT.fullmatch(text):
        raise _InvalidReplyError("<double> does not hold a number")
    value = float(text)
    if not math.isfinite(value):
        raise _InvalidReplyError("<double> out of range")
    return value


def _read_base64(text: str) -> object:
    text = "".join(text.split())  # encoders may wrap lines
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _InvalidReplyError("<base64> does not hold valid base64") from None


def _read_datetime(text: str) -> object:
    text = text.strip()
    if not text.isascii():  # strptime's %Y takes any Unicode digit
        raise _InvalidReplyError("<dateTime.iso8601> does not hold a date")
    for layout in ("%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
    raise _InvalidReplyError("<dateTime.iso8601> does not hold a date")


def _read_nil(text: str) -> object:
    if text.strip():
        raise _InvalidReplyError("<nil/> must be empty")
    return None


# --- container readers ------------------------------------------------------------------------
# Those of unwrapping rules (see _Rule.unwrap) see every case but one child alone.


def _read_value(text: str, items: Sequence[object]) -> object:
    if not items:
        # No type element: the text is a string. This is how Mailkit's bare strings arrive.
        return text
    if len(items) > 1:
        raise _InvalidReplyError("<value> holds more than one value")
    raise _InvalidReplyError("<value> mixes text and a typed value")


def _read_struct(_: str, items: Sequence[object]) -> object:
    # The grammar admits only <member>s, each the list [name, value].
    struct: dict[object, object] = dict(items)  # type: ignore[arg-type]
    if len(struct) != len(items):
        seen: set[object] = set()
        for member in items:
            name = member[0]  # type: ignore[index]
            if name in seen:
                raise _InvalidReplyError(f"<struct> repeats the member {name!r}")
            seen.add(name)
    return struct


def _read_array(_: str, items: Sequence[object]) -> object:
    raise _InvalidReplyError("<array> needs exactly one <data>")


def _read_param(_: str, items: Sequence[object]) -> object:
    raise _InvalidReplyError("<param> needs exactly one <value>")


def _read_params(_: str, items: Sequence[object]) -> object:
    if len(items) != 1:
        raise _InvalidReplyError(f"a response needs exactly one <param>, found {len(items)}")
    return (items[0],)


def _read_fault(_: str, items: Sequence[object]) -> object:
    if len(items) != 1 or type(items[0]) is not dict:
        raise _InvalidReplyError("<fault> needs one <struct>")
    fault = items[0]
    code, text = fault.get("faultCode"), fault.get("faultString")
    # An int as the specification asks, or the string XMLRPC::Lite sends ("Client").
    if type(code) not in (int, str) or type(text) is not str:
        raise _InvalidReplyError("<fault> needs an int or string faultCode and a faultString")
    return _Fault(code, text)  # type: ignore[arg-type]  # checked just above


def _read_method_response(_: str, items: Sequence[object]) -> object:
    raise _InvalidReplyError("<methodResponse> needs one <params> or one <fault>")


# --- the grammar ------------------------------------------------------------------------------

#: Leaves: tag -> reader. `str` runs in C, with no frame: most leaves are strings or names.
_LEAVES: Final[dict[str, LeafReader]] = {
    "string": str,
    "int": _integer_reader("int"),
    "i4": _integer_reader("i4"),
    "i8": _integer_reader("i8"),
    "boolean": _read_boolean,
    "double": _read_double,
    "base64": _read_base64,
    "dateTime.iso8601": _read_datetime,
    "nil": _read_nil,
    "name": str,
}
_TYPES: Final = (*(tag for tag in _LEAVES if tag != "name"), "struct", "array")

#: Containers: tag -> (reader, flags, the elements it may hold); "" is the document around
#: the root. Flags (see _Rule): "t" its text is content, "u" it unwraps one child, "s" it
#: holds exactly its elements, in order.
_CONTAINERS: Final[dict[str, tuple[Reader | None, str, tuple[str, ...]]]] = {
    "": (None, "", ("methodResponse",)),  # read by neither driver: it names the root
    "methodResponse": (_read_method_response, "u", ("params", "fault")),
    "params": (_read_params, "", ("param",)),
    "param": (_read_param, "u", ("value",)),
    "fault": (_read_fault, "", ("value",)),
    "value": (_read_value, "tu", _TYPES),
    "struct": (_read_struct, "", ("member",)),
    "member": (None, "s", ("name", "value")),
    "array": (_read_array, "u", ("data",)),
    "data": (None, "", ("value",)),
}


def _compile() -> dict[str, _Rule]:
    rules = {tag: _Rule(tag, read) for tag, read in _LEAVES.items()}
    rules.update((tag, _Rule(tag or "document")) for tag in _CONTAINERS)
    for tag, (read, flags, children) in _CONTAINERS.items():
        rule = rules[tag]
        rule.read = read
        rule.text = "t" in flags
        rule.unwrap = "u" in flags
        rule.sequence = children if "s" in flags else None
        assert not (rule.unwrap and rule.sequence), "the tree walk unwraps without a sequence"
        rule.children = {child: rules[child] for child in children}
    return rules


#: The grammar both drivers walk: tag -> rule; "" is the document around the root element.
GRAMMAR: Final = _compile()
_DOCUMENT: Final = GRAMMAR[""]
_MEMBER: Final = GRAMMAR["member"]
_VALUE: Final = GRAMMAR["value"]


def _finish(rule: _Rule, text: str, items: list[object]) -> object:
    """A container's value, once its text and children's values are known."""
    if rule.unwrap and len(items) == 1 and (not text or text.isspace()):
        return items[0]
    if rule.read is None:
        return items
    return rule.read(text, items)


# --- driver 1: the streaming parser's target --------------------------------------------------


class _Frame:
    __slots__ = ("items", "rule", "text")

    def __init__(self, rule: _Rule) -> None:
        self.rule = rule
        self.text: list[str] = []
        self.items: list[object] = []


class _Unmarshaller:
    """An expat target reading one response by GRAMMAR; any deviation raises at once."""

    __slots__ = ("_frames", "_result")

    def __init__(self) -> None:
        self._frames: list[_Frame] = []
        self._result: object = _MISSING

    def xml(self, encoding: str | None, standalone: object) -> None:
        pass

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        frames = self._frames
        if frames:
            parent = frames[-1].rule
        elif self._result is _MISSING:
            parent = _DOCUMENT
        else:
            raise _InvalidReplyError("content after the document element")
        rule = parent.children.get(tag)
        if rule is None:
            raise _InvalidReplyError(f"<{tag}> cannot appear inside <{parent.tag}>")
        sequence = parent.sequence
        if sequence is not None:
            place = len(frames[-1].items)  # the children that came before this one
            if place >= len(sequence) or sequence[place] != tag:
                raise parent.out_of_sequence()
        if len(frames) >= MAX_DEPTH:
            raise _InvalidReplyError(f"XML-RPC nesting deeper than {MAX_DEPTH} levels")
        frames.append(_Frame(rule))

    def data(self, text: str) -> None:
        if not self._frames:
            return  # expat reports no text outside the root; nothing to keep
        frame = self._frames[-1]
        if frame.rule.leaf is not None or frame.rule.text:
            frame.text.append(text)
        elif text.strip():
            raise _InvalidReplyError(f"text inside <{frame.rule.tag}>")

    def end(self, tag: str) -> None:
        frame = self._frames.pop()
        rule, text = frame.rule, "".join(frame.text)
        if rule.leaf is not None:
            # A leaf has no items: any element opening inside it was refused by start().
            value = rule.leaf(text)
        elif rule.sequence is not None and len(frame.items) != len(rule.sequence):
            raise rule.out_of_sequence()
        else:
            value = _finish(rule, text, frame.items)
        if self._frames:
            self._frames[-1].items.append(value)
        else:
            self._result = value

    def result(self) -> _Result | _Fault:
        if type(self._result) not in _OUTCOMES:
            raise _InvalidReplyError("the document ended early")
        return self._result  # type: ignore[return-value]  # checked just above


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


# --- driver 2: a walk over an ElementTree -----------------------------------------------------


def _walk(element: ET.Element, rule: _Rule, depth: int) -> object:
    """The value of container `element` (at nesting `depth`, the root at 1), by `rule`."""
    text = element.text
    keeps_text = rule.text
    if text and not keeps_text and not text.isspace():
        raise _InvalidReplyError(f"text inside <{rule.tag}>")
    if depth >= MAX_DEPTH and len(element):
        raise _InvalidReplyError(f"XML-RPC nesting deeper than {MAX_DEPTH} levels")
    children = rule.children
    sequence = rule.sequence
    items: list[object] = []
    for child in element:
        tag = child.tag
        child_rule = children.get(tag)
        if child_rule is None:
            raise _InvalidReplyError(f"<{tag}> cannot appear inside <{rule.tag}>")
        if sequence is not None and (len(items) >= len(sequence) or sequence[len(items)] != tag):
            raise rule.out_of_sequence()
        read = child_rule.leaf
        if child_rule is _MEMBER and (member := _member(child, depth + 1)) is not None:
            items.append(member)  # a struct's member of the usual shape: no walk of its own
        elif read is not None:  # most elements are leaves: read them in place
            if len(child):
                raise _InvalidReplyError(f"<{child[0].tag}> cannot appear inside <{tag}>")
            leaf_text = child.text or ""
            items.append(leaf_text if read is str else read(leaf_text))
        elif child_rule.unwrap and len(child) == 1:
            # One element inside an unwrapping one, with blank text around it: its value is
            # the child's value, read here (<value><string>x</string></value>, most often) or
            # walked, skipping a call. Anything unusual takes the plain walk, which words it.
            inner = child[0]
            inner_rule = child_rule.children.get(inner.tag)
            around, after = child.text, inner.tail
            if (
                inner_rule is None
                or depth + 1 >= MAX_DEPTH
                or (around and not around.isspace())
                or (after and not after.isspace())
            ):
                items.append(_walk(child, child_rule, depth + 1))
            elif inner_rule.leaf is None:
                items.append(_walk(inner, inner_rule, depth + 2))
            elif len(inner):
                raise _InvalidReplyError(f"<{inner[0].tag}> cannot appear inside <{inner.tag}>")
            else:
                read = inner_rule.leaf
                leaf_text = inner.text or ""
                items.append(leaf_text if read is str else read(leaf_text))
        else:
            items.append(_walk(child, child_rule, depth + 1))
        tail = child.tail
        if tail:
            if keeps_text:
                text = text + tail if text else tail
            elif not tail.isspace():
                raise _InvalidReplyError(f"text inside <{rule.tag}>")
    if sequence is not None and len(items) != len(sequence):
        raise rule.out_of_sequence()
    # _finish, inlined: a call per element is a tenth of the walk.
    if rule.unwrap and len(items) == 1 and (not text or text.isspace()):
        return items[0]
    if rule.read is None:
        return items
    return rule.read(text or "", items)


def _member(member: ET.Element, depth: int) -> list[object] | None:
    """`[name, value]` of a <member> (at nesting `depth`) holding exactly a <name> and a
    <value> with blank text around them, read as `_walk` reads it; None for any other shape,
    which the walk then reads (and words what is wrong with it)."""
    if len(member) != 2 or depth + 2 >= MAX_DEPTH:
        return None
    name, value = member
    if name.tag != "name" or value.tag != "value" or len(name):
        return None
    around, after_name, after_value = member.text, name.tail, value.tail
    if (
        (around and not around.isspace())
        or (after_name and not after_name.isspace())
        or (after_value and not after_value.isspace())
    ):
        return None
    if not len(value):
        return [name.text or "", value.text or ""]  # a bare string
    if len(value) != 1:
        return None
    inner = value[0]
    rule = _VALUE.children.get(inner.tag)
    before, tail = value.text, inner.tail
    if rule is None or (before and not before.isspace()) or (tail and not tail.isspace()):
        return None
    if rule.leaf is None:
        return [name.text or "", _walk(inner, rule, depth + 2)]
    if len(inner):
        return None
    text = inner.text or ""
    return [name.text or "", text if rule.leaf is str else rule.leaf(text)]


def _parse_tree(body: bytes) -> _Result | _Fault:
    # Only for bodies takes_tree_path() vetted: no DTD, so nothing for expat to expand or fetch.
    parser = ET.XMLParser()  # noqa: S314
    parser.feed(body)
    root = parser.close()
    rule = _DOCUMENT.children.get(root.tag)
    if rule is None:
        raise _InvalidReplyError(f"<{root.tag}> cannot appear inside <{_DOCUMENT.tag}>")
    outcome = _walk(root, rule, 1)
    assert type(outcome) in _OUTCOMES  # what the grammar's root reads to
    return outcome  # type: ignore[return-value]


# --- choosing a driver ------------------------------------------------------------------------

#: Answers up to this size may take the tree path; a whole tree of them stays small.
TREE_PATH_LIMIT: Final = 64 * 1024
# An XML declaration naming nothing but encodings expat decodes itself (no codec lookup).
_PLAIN_DECLARATION: Final = re.compile(
    rb"<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(['\"])1\.[0-9]+\1"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(['\"])(?i:utf-8|us-ascii|iso-8859-1)\2)?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(['\"])(?:yes|no)\3)?[ \t\r\n]*\?>"
)

_COMMON_DECLARATIONS: Final = (  # the pages' own first
    b'<?xml version="1.0" encoding="utf-8"?>',
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b"<?xml version='1.0'?>",
    b'<?xml version="1.0"?>',
)


def takes_tree_path(body: bytes) -> bool:
    """Whether `body` is plain enough for the tree path (see the module docstring)."""
    # "!" first: a one-byte search is a memchr, and most answers hold no "!" at all.
    if len(body) > TREE_PATH_LIMIT or (b"!" in body and b"<!" in body):
        return False
    if body.startswith(_COMMON_DECLARATIONS):
        return True
    if body.startswith(b"<?xml"):
        return _PLAIN_DECLARATION.match(body) is not None
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
    return outcome[0]
