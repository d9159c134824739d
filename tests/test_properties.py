"""Properties of both codecs: round trips, refusals, and total decoders.

"Total" means: for any bytes at all, `decode_reply` returns a plain value or raises a
ProtocolError subclass, never a stray UnicodeDecodeError, RecursionError, LookupError...
The explicit examples are the bad inputs the stdlib decoders accept silently
(reliability research, section 9), each pinned to the exact exception class.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
import sys
import xmlrpc.client
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mailkit_async import (
    InvalidArgumentError,
    JsonCodec,
    MalformedResponseError,
    ProtocolError,
    XmlRpcCodec,
    XmlRpcFaultError,
    _validate,
)
from mailkit_async import _convert as convert
from mailkit_async import _xmlrpc_unmarshal as unmarshal
from mailkit_async._credentials import Credentials
from mailkit_async._xmlrpc_unmarshal import parse_response

CLIENT_ID = "12345"
CLIENT_MD5 = "0123456789abcdef0123456789abcdef"
CREDS = Credentials(CLIENT_ID, CLIENT_MD5)
NO_FLAGS = "mailkit.mailinglist.list"  # a known function without TRUE/FALSE parameters
UNKNOWN = "mailkit.x.y"

FAST = settings(max_examples=150, deadline=None, database=None)
TOTAL = settings(
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def same(left: object, right: object) -> bool:
    """Equality that also compares types (True is not 1, 1.0 is not 1) and the sign of zero."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        assert isinstance(right, float)
        return left == right and math.copysign(1.0, left) == math.copysign(1.0, right)
    if isinstance(left, list):
        assert isinstance(right, list)
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, dict):
        assert isinstance(right, dict)
        return list(left) == list(right) and all(same(left[k], right[k]) for k in left)
    return left == right


def plain(value: object) -> object:
    """What a value looks like after a trip through XML-RPC: tuples are arrays, bytes are bytes."""
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, bytearray):
        return bytes(value)
    return value


PLAIN_TYPES = (str, int, float, bool, bytes, type(None), datetime.datetime)


def assert_plain(value: object) -> None:
    """A decoded value holds only the documented types (no parser-internal objects)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            assert all(type(key) is str for key in item), item
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
        else:
            assert type(item) in PLAIN_TYPES, f"decoded a {type(item).__name__}: {item!r}"


def nested(depth: int, leaf: object = 1) -> object:
    value: object = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


# --- JSON ------------------------------------------------------------------------------------

INT_DIGITS = sys.get_int_max_str_digits() or 4300
json_ints = st.integers() | st.integers(
    min_value=-(10 ** (INT_DIGITS - 1)), max_value=10 ** (INT_DIGITS - 1)
)
# Hypothesis text has no lone surrogates; NUL is left out: parameters may not hold it.
json_text = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
json_scalars = (
    st.none()
    | st.booleans()
    | json_ints
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(json_text)  # astral characters included
    | st.text(st.characters(min_codepoint=0x10000), max_size=4)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(json_text, max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
json_params = st.dictionaries(st.text(json_text, max_size=10), json_values, max_size=5)


@FAST
@given(json_params, st.sampled_from([NO_FLAGS, UNKNOWN]))
def test_json_encode_round_trip(params: dict[str, Any], function: str) -> None:
    body = JsonCodec().encode_call(function, params, CREDS)
    expected = {"function": function, "id": CLIENT_ID, "md5": CLIENT_MD5, "parameters": params}
    assert same(json.loads(body), expected)
    # Our own strict decoder reads back what our encoder wrote.
    assert same(JsonCodec().decode_reply(body, function=function), expected)


@FAST
@given(st.booleans(), st.booleans(), json_values)
def test_json_flags_become_TRUE_FALSE_and_nothing_else_changes(
    agreement: bool, other: bool, extra: object
) -> None:
    params = {"email": "a@example.com", "agreement": agreement, "other": other, "x": extra}
    sent = json.loads(JsonCodec().encode_call("mailkit.email.revalidate", params, CREDS))
    assert sent["parameters"]["agreement"] == ("TRUE" if agreement else "FALSE")
    assert same(sent["parameters"]["other"], other)
    assert same(sent["parameters"]["x"], extra)
    assert params["agreement"] is agreement  # the caller's mapping is not modified


@FAST
@given(json_values, st.booleans())
def test_json_decode_round_trip(value: object, ensure_ascii: bool) -> None:
    body = json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8")
    assert same(JsonCodec().decode_reply(body, function="f"), value)


@FAST
@given(st.integers(min_value=1, max_value=32), json_scalars)
def test_json_decode_accepts_nesting_up_to_32(depth: int, leaf: object) -> None:
    value = nested(depth, leaf)
    assert same(JsonCodec().decode_reply(json.dumps(value).encode(), function="f"), value)


@FAST
@given(st.integers(min_value=33, max_value=200))
def test_json_decode_refuses_nesting_beyond_32(depth: int) -> None:
    with pytest.raises(MalformedResponseError):
        JsonCodec().decode_reply(json.dumps(nested(depth)).encode(), function="f")


def _cycle() -> object:
    loop: list[object] = []
    loop.append(loop)
    return loop


# Values JSON cannot carry faithfully; each is refused before anything is sent.
json_unencodable = st.sampled_from(
    [float("nan"), float("inf"), float("-inf"), "a\ud800b", "\udfff", b"bytes", {1, 2}, object()]
) | st.builds(_cycle)


def embed(bad: object, path: list[tuple[str, int]], filler: object) -> object:
    value = bad
    for kind, position in path:
        if kind == "list":
            siblings = [filler] * (position % 3)
            value = [*siblings, value, filler]
        else:
            value = {"filler": filler, f"k{position}": value}
    return value


paths = st.lists(st.tuples(st.sampled_from(["list", "dict"]), st.integers(0, 5)), max_size=5)


@FAST
@given(json_unencodable, paths, st.sampled_from([0, "x", None, 1.5]))
def test_json_encoder_refuses_what_json_cannot_carry(
    bad: object, path: list[tuple[str, int]], filler: object
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        JsonCodec().encode_call(UNKNOWN, {"p": embed(bad, path, filler)}, CREDS)
    assert CLIENT_MD5 not in str(caught.value)


@pytest.mark.parametrize("params", [["a"], ("a",), "a", 5, None])
def test_json_encoder_wants_a_mapping(params: object) -> None:
    with pytest.raises(InvalidArgumentError):
        JsonCodec().encode_call(UNKNOWN, params, CREDS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "params",
    [{1: "a", "1": "b"}, {True: 1, "true": 2}, {None: 1, "null": 2}, {1.5: 1, "1.5": 2}],
    ids=["int", "bool", "None", "float"],
)
def test_json_encoder_never_writes_a_duplicate_key(params: dict[Any, object]) -> None:
    # json coerces non-str keys to text; two keys that coerce alike give {"1":..,"1":..},
    # a document our own decoder refuses as ambiguous. Refusing the call would be fine too.
    try:
        body = JsonCodec().encode_call(UNKNOWN, {"p": params}, CREDS)
    except InvalidArgumentError:
        return
    JsonCodec().decode_reply(body, function=UNKNOWN)


_KEY = st.sampled_from(["error", "error_status", "ID_email", "email", 'a":b', "x"])
_SPACE = st.sampled_from(["", " ", "\t", "\n", "\r\n  "])
_SCALAR = st.one_of(
    st.integers(-(10**12), 10**12),
    st.text(max_size=8),
    st.sampled_from(["12:00", ":", "a:b:c"]),
    st.booleans(),
    st.none(),
)


def _literal(value: object, escape: bool) -> str:
    text = json.dumps(value)  # a colon in it is inside a string
    return text.replace(":", "\\u003a") if escape else text


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_KEY, _SCALAR, _SPACE, _SPACE, st.booleans()), max_size=6), st.booleans()
)
@example([("a", "x", "", "", False), ("a", ":", "", "", True)], False)
def test_json_refuses_every_key_written_twice_however_it_is_spaced(
    pairs: list[tuple[str, object, str, str, bool]], nest: bool
) -> None:
    """Keys written twice, with any spacing around their colons and colons in strings, raw
    or escaped: refused exactly when the pairs hook refuses them (the hook-less path must
    never let one through). Twice each: a function's first answer may take the hook-less
    path, and once one of its answers proved nested the next goes straight to the hook."""
    from mailkit_async import _json_codec

    members = ",".join(
        f"{before}{_literal(key, escape)}{after}:{_literal(value, escape)}"
        for key, value, before, after, escape in pairs
    )
    body = ("[{" + members + "}]" if nest else "{" + members + "}").encode()
    duplicated = len({key for key, *_ in pairs}) < len(pairs)
    _json_codec._NESTED_ANSWERS.discard("f")
    for _ in range(2):
        if duplicated:
            with pytest.raises(MalformedResponseError, match="duplicate key"):
                JsonCodec().decode_reply(body, function="f")
        else:
            assert JsonCodec().decode_reply(body, function="f") == json.loads(body)


def test_json_int_digit_limit_is_a_typed_error() -> None:
    largest = 10 ** (INT_DIGITS - 1)  # INT_DIGITS digits: allowed
    body = JsonCodec().encode_call(UNKNOWN, {"n": largest}, CREDS)
    assert JsonCodec().decode_reply(body, function="f")["parameters"]["n"] == largest
    with pytest.raises(InvalidArgumentError):
        JsonCodec().encode_call(UNKNOWN, {"n": largest * 10}, CREDS)
    with pytest.raises(MalformedResponseError):
        JsonCodec().decode_reply(b"1" + b"0" * INT_DIGITS, function="f")


JSON_BAD = {
    "duplicate keys": b'{"error_status":1,"error_status":0}',
    "duplicate nested keys": b'{"a":[{"x":1,"x":1}]}',
    "NaN": b'{"a":NaN}',
    "Infinity": b"Infinity",
    "-Infinity": b"[-Infinity]",
    "1e999": b'{"a":1e999}',
    "-1e999": b"-1e999",
    "BOM": b'\xef\xbb\xbf{"error":"OK","error_status":0}',
    "lone surrogate": b'"\\ud800"',
    "lone low surrogate key": b'{"\\udc00":1}',
    "reversed surrogate pair": b'["\\udc00\\ud800"]',
    "33-deep": json.dumps(nested(33)).encode(),
    "100-deep": b"[" * 100 + b"]" * 100,
    "100000-deep": b"[" * 100_000 + b"]" * 100_000,
    "invalid UTF-8": b'{"a":"\xff"}',
    "overlong UTF-8": b'"\xc0\xaf"',
    "UTF-8 encoded surrogate": b'"\xed\xa0\x80"',
    "UTF-16": '{"a":1}'.encode("utf-16"),
    "empty": b"",
    "whitespace": b" \r\n\t",
    "truncated": b'{"error":"O',
    "trailing junk": b'{"a":1} x',
    "two documents": b"{}{}",
    "single quotes": b"{'a':1}",
    "trailing comma": b"[1,]",
    "NUL after": b'{"a":1}\x00',
    "leading zero": b"01",
    "too many digits": b"9" * (INT_DIGITS + 1),
    "HTML": b"<html><body>Service Unavailable</body></html>",
}


@pytest.mark.parametrize("body", list(JSON_BAD.values()), ids=list(JSON_BAD))
def test_json_bad_inputs(body: bytes) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        JsonCodec().decode_reply(body, function="mailkit.email.wipe")
    assert type(caught.value) is MalformedResponseError
    assert caught.value.function == "mailkit.email.wipe"
    assert len(str(caught.value)) < 500  # no echo of a huge body


JSON_GOOD: list[tuple[bytes, object]] = [
    (b'"\\ud83d\\ude00"', "\U0001f600"),  # a proper pair is one astral character
    ('"\U0001f600"'.encode(), "\U0001f600"),
    (b'["\\\\ud800"]', ["\\ud800"]),  # an escaped backslash, not a surrogate
    (
        b' {"a" : [1, -0, 0.5, -0.0, 1e308, true, null]} \n',
        {"a": [1, 0, 0.5, -0.0, 1e308, True, None]},
    ),
    (json.dumps(nested(32)).encode(), nested(32)),
    (b'"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["', "[" * 38),  # brackets in text are not depth
]


@pytest.mark.parametrize(("body", "expected"), JSON_GOOD)
def test_json_good_inputs(body: bytes, expected: object) -> None:
    assert same(JsonCodec().decode_reply(body, function="f"), expected)


# --- XML-RPC ---------------------------------------------------------------------------------


def _xml_char(char: str) -> bool:
    code = ord(char)
    return (
        char in "\t\n"  # CR is carried, but see test_xmlrpc_encoder_keeps_carriage_returns
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )


xml_text = st.text(
    st.characters(exclude_categories=("Cs",)).filter(_xml_char) | st.sampled_from("<>&'\"]"),
    max_size=20,
)
I4 = (-(2**31), 2**31 - 1)
I8 = (-(2**63), 2**63 - 1)
xml_datetimes = st.datetimes().map(lambda moment: moment.replace(microsecond=0))


def xml_values(ints: st.SearchStrategy[int], dates: st.SearchStrategy[datetime.datetime]) -> Any:
    scalars = (
        st.none()
        | st.booleans()
        | ints
        | st.floats(allow_nan=False, allow_infinity=False)
        | xml_text
        | st.binary(max_size=40)
        | dates
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.lists(inner, max_size=3).map(tuple)
            | st.dictionaries(xml_text, inner, max_size=4)
        ),
        max_leaves=20,
    )


class I8Marshaller(xmlrpc.client.Marshaller):
    """The stdlib marshaller, but writing ints beyond i4 as <i8> (the stdlib refuses them)."""

    dispatch: ClassVar[dict[type, Callable[..., None]]] = dict(xmlrpc.client.Marshaller.dispatch)

    def dump_int(self, value: int, write: Callable[[str], None]) -> None:
        tag = "int" if I4[0] <= value <= I4[1] else "i8"
        write(f"<value><{tag}>{value}</{tag}></value>\n")

    dispatch[int] = dump_int


def stdlib_response(value: object) -> bytes:
    marshaller = I8Marshaller("utf-8", allow_none=True)
    document = "<?xml version='1.0'?>\n<methodResponse>\n" + marshaller.dumps((value,))
    return (document + "</methodResponse>\n").encode("utf-8")


@FAST
@given(xml_values(st.integers(*I4), xml_datetimes))
def test_xmlrpc_decode_round_trip_stdlib_dumps(value: object) -> None:
    document = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True)
    assert same(XmlRpcCodec().decode_reply(document.encode(), function="f"), plain(value))


@FAST
@given(xml_values(st.integers(*I8), xml_datetimes))
def test_xmlrpc_decode_round_trip_with_i8(value: object) -> None:
    assert same(XmlRpcCodec().decode_reply(stdlib_response(value), function="f"), plain(value))


@FAST
@given(
    st.integers(*I4) | st.integers(*I8) | st.integers(-(10**200), 10**200),
    st.sampled_from(["i8", "int", "i4"]),
    st.sampled_from(["", "+", "00"]),
)
def test_xmlrpc_decode_reads_ints_of_any_width_in_any_int_tag(
    number: int, tag: str, prefix: str
) -> None:
    # As xmlrpc.client.loads does: Frontier::RPC2 and XMLRPC::Lite write 2**40 as <int>.
    text = f"{prefix}{number}" if number >= 0 else f"-{prefix.strip('+')}{-number}"
    document = (
        f"<methodResponse><params><param><value><{tag}>{text}</{tag}></value></param>"
        "</params></methodResponse>"
    ).encode()
    assert same(XmlRpcCodec().decode_reply(document, function="f"), number)
    assert same(xmlrpc.client.loads(document)[0][0], number)


@FAST
@given(xml_values(st.integers(*I8), xml_datetimes.filter(lambda moment: moment.year >= 1000)))
def test_xmlrpc_encode_round_trip(value: object) -> None:
    body = XmlRpcCodec(send_nil=True).encode_call(UNKNOWN, [value], CREDS)
    params, method = xmlrpc.client.loads(body, use_builtin_types=True)
    assert method == UNKNOWN
    assert len(params) == 3
    assert same(params[0], int(CLIENT_ID))
    assert same(params[1], CLIENT_MD5)
    assert same(params[2], plain(value))


def _without_none(value: object) -> object:
    """What the default encoder sends for `value`: None as the empty string, as PHP's null."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [_without_none(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items()}
    return plain(value)


@FAST
@given(xml_values(st.integers(*I8), xml_datetimes.filter(lambda moment: moment.year >= 1000)))
def test_xmlrpc_encoder_sends_none_as_the_empty_string_unless_asked_for_nil(value: object) -> None:
    body = XmlRpcCodec().encode_call(UNKNOWN, [value], CREDS)
    assert b"<nil/>" not in body
    assert same(xmlrpc.client.loads(body, use_builtin_types=True)[0][2], _without_none(value))


@pytest.mark.parametrize("year", [1, 99, 999, 1000, 2024, 9999])
def test_xmlrpc_encoder_writes_four_digit_years(year: int) -> None:
    moment = datetime.datetime(year, 2, 3, 4, 5, 6)
    body = XmlRpcCodec().encode_call(UNKNOWN, [moment], CREDS)
    assert f"<dateTime.iso8601>{year:04d}0203T04:05:06</dateTime.iso8601>".encode() in body
    assert xmlrpc.client.loads(body, use_builtin_types=True)[0][2] == moment


@pytest.mark.parametrize(
    "value",
    ["a\rb", "\r", "line\r\n", {"key\r": 1}],
    ids=["inner CR", "only CR", "CRLF", "CR in a struct key"],
)
def test_xmlrpc_encoder_keeps_carriage_returns(value: object) -> None:
    # XML parsers turn a raw CR (and CRLF) into LF; only &#13; carries a CR through.
    body = XmlRpcCodec().encode_call(UNKNOWN, [value], CREDS)
    assert same(xmlrpc.client.loads(body, use_builtin_types=True)[0][2], value)


def test_xmlrpc_encoder_places_credentials_first() -> None:
    body = XmlRpcCodec().encode_call(UNKNOWN, ["x", 1], CREDS)
    assert xmlrpc.client.loads(body, use_builtin_types=True) == (
        (int(CLIENT_ID), CLIENT_MD5, "x", 1),
        UNKNOWN,
    )
    big = Credentials("99999999999", CLIENT_MD5)  # beyond i4: sent as text
    body = XmlRpcCodec().encode_call(UNKNOWN, [], big)
    assert xmlrpc.client.loads(body)[0] == ("99999999999", CLIENT_MD5)


@FAST
@given(st.from_regex(r"[0-9]{1,12}", fullmatch=True) | st.text(min_size=1, max_size=12))
def test_xmlrpc_client_id_arrives_exactly_as_given(client_id: str) -> None:
    # Whatever the form, the server reads back the same text: "0042" never becomes 42.
    try:
        credentials = Credentials(client_id, CLIENT_MD5)
    except InvalidArgumentError:
        return  # empty or control characters: refused before any codec sees it
    try:
        body = XmlRpcCodec().encode_call(UNKNOWN, [], credentials)
    except InvalidArgumentError:
        return  # a character XML cannot carry
    received = xmlrpc.client.loads(body)[0][0]
    assert str(received) == credentials.client_id
    assert type(received) is (int if b"<int>" in body else str)


def test_xmlrpc_encoder_shared_containers_are_not_cycles() -> None:
    shared = [1, {"a": 2}]
    value = [shared, shared, {"x": shared, "y": shared}]
    body = XmlRpcCodec().encode_call(UNKNOWN, [value], CREDS)
    assert same(xmlrpc.client.loads(body)[0][2], plain(value))


def _self_dict() -> object:
    loop: dict[str, object] = {}
    loop["me"] = loop
    return loop


_CONTROLS = [chr(c) for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]]
_FORBIDDEN_CHARS = [*_CONTROLS, "\ud800", "\udbff", "\udc00", "\udfff", "\ufffe", "\uffff"]

xml_bad_text = st.builds(
    lambda head, bad, tail: head + bad + tail, xml_text, st.sampled_from(_FORBIDDEN_CHARS), xml_text
)
xml_unencodable = (
    st.integers(min_value=2**63)
    | st.integers(max_value=-(2**63) - 1)
    | st.sampled_from([float("nan"), float("inf"), float("-inf")])
    | xml_bad_text
    | xml_bad_text.map(lambda key: {key: 1})  # a bad character in a struct key
    | st.sampled_from([1, b"k", None, (1, 2), True, 1.5]).map(lambda key: {"ok": 1, key: 2})
    | st.builds(_cycle)
    | st.builds(_self_dict)
    | st.sampled_from([{1, 2}, frozenset(), object(), 1j, Ellipsis])
)


@FAST
@given(xml_unencodable, paths, st.sampled_from([0, "x", None, 1.5, b""]))
def test_xmlrpc_encoder_refuses_what_xmlrpc_cannot_carry(
    bad: object, path: list[tuple[str, int]], filler: object
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        XmlRpcCodec().encode_call(UNKNOWN, [embed(bad, path, filler)], CREDS)
    assert CLIENT_MD5 not in str(caught.value)


@pytest.mark.parametrize("function", ["mailkit.\x00x", "mailkit.\ud800"])
def test_xmlrpc_encoder_refuses_bad_function_names(function: str) -> None:
    with pytest.raises(InvalidArgumentError):
        XmlRpcCodec().encode_call(function, [], CREDS)


# --- totality --------------------------------------------------------------------------------


def decodes_or_refuses(decode: Callable[[bytes], object], body: bytes) -> None:
    try:
        value = decode(body)
    except ProtocolError:
        return
    assert_plain(value)


def json_decode(body: bytes) -> object:
    return JsonCodec().decode_reply(body, function="f")


def xml_decode(body: bytes) -> object:
    return XmlRpcCodec().decode_reply(body, function="f")


@TOTAL
@given(st.binary(max_size=300))
def test_json_decoder_is_total_on_bytes(body: bytes) -> None:
    decodes_or_refuses(json_decode, body)


@TOTAL
@given(
    st.binary(max_size=300) | st.binary(max_size=40).map(lambda tail: b"<methodResponse>" + tail)
)
def test_xmlrpc_decoder_is_total_on_bytes(body: bytes) -> None:
    decodes_or_refuses(xml_decode, body)


JSON_TOKENS = [
    b"[", b"]", b"{", b"}", b'"', b"\\", b":", b",", b"\\u", b"\\ud800", b"\\udc00", b"\\x",
    b"NaN", b"Infinity", b"-", b"1e999", b"9" * 30, b"true", b"nul", b"\xef\xbb\xbf", b"\xff",
    b"\xc3", b"\xed\xa0\x80", b"\x00", b" ", b"[" * 40, b"{\"a\":" * 40, b'"error_status":1,',
]  # fmt: skip
XML_TOKENS = [
    b"<", b">", b"&", b"&amp;", b"&#0;", b"&#13;", b"&#xD800;", b"&#x110000;", b"&lol;",
    b"<!DOCTYPE m>", b"<!DOCTYPE m [<!ENTITY a 'b'>]>", b"<![CDATA[", b"]]>", b"<!--", b"-->",
    b"<?pi x?>", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\r", b" ", b"<value>",
    b"</value>", b"<struct>", b"</struct>", b"<member>", b"</member>", b"<name>", b"</name>",
    b"<name>n</name>", b"<array><data>", b"</data></array>", b"<int>", b"</int>", b"<i8>",
    b"</i8>", b"<boolean>", b"<double>", b"<base64>", b"<nil/>", b"<dateTime.iso8601>",
    b"<string>", b"</string>", b"<params>", b"</params>", b"<param>", b"</param>", b"<fault>",
    b"</fault>", b"<methodResponse>", b"</methodResponse>", b"9" * 25, b"1e999", b"nan",
    b"<x:value xmlns:x='u'>", b"<value a='&#0;'>", b"<array><data>" * 30,
    b"<?xml version='1.0' encoding='iso-8859-1'?>", b"<?xml version='1.0' encoding='utf-16'?>",
    b"<?xml version='1.0' encoding='utf-7'?>", b"<?xml version='1.0' encoding='shift_jis'?>",
    b"<?xml version='1.0' encoding='no-such-codec'?>", b"<?xml version='1.0' encoding='rot13'?>",
]  # fmt: skip

JSON_SEEDS = [
    b'{"ID_email":12345678,"email":"a@example.com","error_status":0,"error":"OK"}',
    b'{"error_status":1,"error":"Unauthorized"}',
    b'[{"ID_user_list":"1","name":"x \\u00e9 \\ud83d\\ude00"},{"a":[1.5,-2,true,null]}]',
    b'"Email has been revalidated"',
]
XML_SEEDS = [
    stdlib_response("OK"),
    stdlib_response({"ID_email": 12345678, "email": "a@example.com", "error_status": 0}),
    stdlib_response([1, 2**40, 1.5, True, None, b"\x00\xff", "x & y", {"a": []}]),
    stdlib_response(datetime.datetime(2024, 1, 2, 3, 4, 5)),
    xmlrpc.client.dumps(xmlrpc.client.Fault(4, "Too many parameters")).encode(),
]


def _token(tokens: list[bytes], part: bytes) -> int:
    return next(index for index, token in enumerate(tokens) if part in token)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(1, 40)),
    st.tuples(st.just("duplicate"), st.integers(0, 10_000), st.integers(1, 60)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 10_000)),
    st.tuples(st.just("replace"), st.integers(0, 10_000), st.integers(0, 10_000)),
)


def mutate(body: bytes, steps: list[tuple[str, int, int]], tokens: list[bytes]) -> bytes:
    data = bytearray(body)
    for kind, at, arg in steps:
        where = at % (len(data) + 1)
        if kind == "flip" and data:
            data[where % len(data)] ^= arg
        elif kind == "truncate":
            del data[where:]
        elif kind == "delete":
            del data[where : where + arg]
        elif kind == "duplicate":
            data[where:where] = data[where : where + arg]
        elif kind == "insert":
            data[where:where] = tokens[arg % len(tokens)]
        elif kind == "replace":
            token = tokens[arg % len(tokens)]
            data[where : where + len(token)] = token
    return bytes(data)


@TOTAL
@given(st.sampled_from(JSON_SEEDS), st.lists(mutation, min_size=1, max_size=4))
def test_json_decoder_is_total_on_mutations(seed: bytes, steps: list[Any]) -> None:
    decodes_or_refuses(json_decode, mutate(seed, steps, JSON_TOKENS))


@TOTAL
@given(st.sampled_from(XML_SEEDS), st.lists(mutation, min_size=1, max_size=4))
@example(XML_SEEDS[0], [("delete", 0, 22), ("insert", 0, _token(XML_TOKENS, b"utf-7"))])
@example(XML_SEEDS[1], [("delete", 0, 22), ("insert", 0, _token(XML_TOKENS, b"rot13"))])
def test_xmlrpc_decoder_is_total_on_mutations(seed: bytes, steps: list[Any]) -> None:
    decodes_or_refuses(xml_decode, mutate(seed, steps, XML_TOKENS))


# --- explicit XML-RPC examples ---------------------------------------------------------------


def response(value_xml: str) -> bytes:
    return (
        "<?xml version='1.0'?>\n<methodResponse><params><param>"
        f"{value_xml}</param></params></methodResponse>"
    ).encode()


def fault(members: str) -> bytes:
    return (
        f"<methodResponse><fault><value><struct>{members}</struct></value></fault></methodResponse>"
    ).encode()


def member(name: str, value_xml: str) -> str:
    return f"<member><name>{name}</name>{value_xml}</member>"


def nested_lists(depth: int, leaf: object) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


DEEP = "<value><array><data>" * 5000 + "</data></array></value>" * 5000

def _struct(*members: str) -> bytes:
    return response("<value><struct>" + "".join(members) + "</struct></value>")


XML_MALFORMED: dict[str, bytes] = {
    # Members just off the usual shape, which the tree path reads without a walk of their own.
    "member text before name": _struct("<member>x<name>a</name><value>1</value></member>"),
    "member text after name": _struct("<member><name>a</name>x<value>1</value></member>"),
    "member text after value": _struct("<member><name>a</name><value>1</value>x</member>"),
    "member value first": _struct("<member><value>1</value><name>a</name></member>"),
    "member two names": _struct("<member><name>a</name><name>b</name></member>"),
    "member three children": _struct(
        "<member><name>a</name><value>1</value><value>2</value></member>"
    ),
    "member name holds an element": _struct("<member><name><i4>1</i4></name><value/></member>"),
    "member value two typed values": _struct(
        "<member><name>a</name><value><i4>1</i4><i4>2</i4></value></member>"
    ),
    "member value text and type": _struct(
        "<member><name>a</name><value>x<i4>1</i4></value></member>"
    ),
    "member value text after type": _struct(
        "<member><name>a</name><value><i4>1</i4>x</value></member>"
    ),
    "member value unknown type": _struct(
        "<member><name>a</name><value><long>1</long></value></member>"
    ),
    "member leaf holds an element": _struct(
        "<member><name>a</name><value><string><i4>1</i4></string></value></member>"
    ),
    "member repeated": _struct(member("a", "<value>1</value>"), member("a", "<value>2</value>")),
    "zero params": b"<methodResponse><params></params></methodResponse>",
    "no params element": b"<methodResponse></methodResponse>",
    "two params": (
        b"<methodResponse><params><param><value>1</value></param>"
        b"<param><value>2</value></param></params></methodResponse>"
    ),
    "params and fault": fault(
        member("faultCode", "<value><int>1</int></value>")
        + member("faultString", "<value>x</value>")
    ).replace(b"<fault>", b"<params><param><value>1</value></param></params><fault>"),
    "methodCall root": (
        b"<methodCall><methodName>x</methodName><params><param><value>1</value></param>"
        b"</params></methodCall>"
    ),
    "int 1_000": response("<value><int>1_000</int></value>"),
    "int hex": response("<value><int>0x10</int></value>"),
    "int float": response("<value><int>1.0</int></value>"),
    "int empty": response("<value><int></int></value>"),
    "int arabic digits": response("<value><int>\u0661\u0662</int></value>"),
    "int 5000 digits": response(f"<value><i8>{'1' * 5000}</i8></value>"),
    "int 4301 digits": response(f"<value><int>{'1' * 4301}</int></value>"),
    "int sign only": response("<value><int>-</int></value>"),
    "int comma alone": response("<value><int>,</int></value>"),
    "int comma list, empty item": response("<value><int>1,,2</int></value>"),
    "int comma list, trailing": response("<value><int>1,2,</int></value>"),
    "int comma list, signed": response("<value><int>-1,2</int></value>"),
    "int comma list, not digits": response("<value><int>1,x</int></value>"),
    "boolean 2": response("<value><boolean>2</boolean></value>"),
    "boolean true": response("<value><boolean>true</boolean></value>"),
    "double nan": response("<value><double>nan</double></value>"),
    "double inf": response("<value><double>inf</double></value>"),
    "double -Infinity": response("<value><double>-Infinity</double></value>"),
    "double 1e999": response("<value><double>1e999</double></value>"),
    "double hex": response("<value><double>0x1p3</double></value>"),
    "double 1_0": response("<value><double>1_0.5</double></value>"),
    "base64 !!!": response("<value><base64>!!!</base64></value>"),
    "base64 bad padding": response("<value><base64>abc</base64></value>"),
    "dateTime garbage": response("<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>"),
    "dateTime month 13": response(
        "<value><dateTime.iso8601>20241301T00:00:00</dateTime.iso8601></value>"
    ),
    "nil with text": response("<value><nil>x</nil></value>"),
    "5000 nested arrays": response(DEEP),
    "unknown tag": response("<value><float>1.5</float></value>"),
    "value inside value": response("<value><value>1</value></value>"),
    "two typed values": response("<value><int>1</int><int>2</int></value>"),
    "text and typed value": response("<value>x<int>1</int></value>"),
    "member missing name": response(
        "<value><struct><member><value>1</value></member></struct></value>"
    ),
    "member missing value": response(
        "<value><struct><member><name>a</name></member></struct></value>"
    ),
    "member value before name": response(
        "<value><struct><member><value>1</value><name>a</name></member></struct></value>"
    ),
    "member with two names": response(
        "<value><struct><member><name>a</name><name>b</name></member></struct></value>"
    ),
    "duplicate struct member": response(
        "<value><struct>"
        + member("a", "<value>1</value>")
        + member("a", "<value>2</value>")
        + "</struct></value>"
    ),
    "text inside struct": response("<value><struct>oops</struct></value>"),
    "text inside data": response("<value><array><data>oops</data></array></value>"),
    "array without data": response("<value><array></array></value>"),
    "two data in array": response("<value><array><data/><data/></array></value>"),
    "trailing junk": response("<value>1</value>") + b"junk",
    "second root": response("<value>1</value>") + b"<methodResponse/>",
    "undeclared entity": response("<value>&nbsp;</value>"),
    "NUL character reference": response("<value>&#0;</value>"),
    "raw NUL": response("<value>a\x00b</value>"),
    "invalid UTF-8": response("<value>X</value>").replace(b"X", b"\xff"),
    "empty body": b"",
    "not XML": b'{"error":"OK"}',
    "truncated": response("<value>1</value>")[:-10],
    "fault missing faultString": fault(member("faultCode", "<value><int>4</int></value>")),
    "fault missing faultCode": fault(member("faultString", "<value>x</value>")),
    "fault with double faultCode": fault(
        member("faultCode", "<value><double>4.0</double></value>")
        + member("faultString", "<value>x</value>")
    ),
    "fault with int faultString": fault(
        member("faultCode", "<value><int>4</int></value>")
        + member("faultString", "<value><int>5</int></value>")
    ),
    "fault with boolean faultCode": fault(
        member("faultCode", "<value><boolean>1</boolean></value>")
        + member("faultString", "<value>x</value>")
    ),
    "fault not a struct": (
        b"<methodResponse><fault><value><string>x</string></value></fault></methodResponse>"
    ),
    "namespaced root": b"<x:methodResponse xmlns:x='urn:x'/>",
}
for codec_name in ["utf-7", "shift_jis", "utf-32", "no-such-codec", "rot13", "idna", "punycode"]:
    XML_MALFORMED[f"declared encoding {codec_name}"] = (
        f"<?xml version='1.0' encoding='{codec_name}'?>\n".encode()
        + response("<value>OK</value>").split(b"\n", 1)[1]
    )


@pytest.mark.parametrize("body", list(XML_MALFORMED.values()), ids=list(XML_MALFORMED))
def test_xmlrpc_bad_inputs(body: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        XmlRpcCodec().decode_reply(body, function="mailkit.email.wipe")
    assert type(caught.value) is MalformedResponseError
    assert caught.value.function == "mailkit.email.wipe"


def test_xmlrpc_fault_is_a_typed_error() -> None:
    body = xmlrpc.client.dumps(xmlrpc.client.Fault(4, "Too many parameters")).encode()
    with pytest.raises(XmlRpcFaultError) as caught:
        XmlRpcCodec().decode_reply(body, function="mailkit.email.wipe")
    assert caught.value.fault_code == 4
    assert caught.value.fault_string == "Too many parameters"
    assert caught.value.function == "mailkit.email.wipe"


def test_xmlrpc_fault_with_i8_code_and_extra_members() -> None:
    body = fault(
        member("faultCode", "<value><i8>-5</i8></value>")
        + member("faultString", "<value>nope</value>")
        + member("extra", "<value><nil/></value>")
    )
    with pytest.raises(XmlRpcFaultError) as caught:
        parse_response(body)
    assert (caught.value.fault_code, caught.value.fault_string) == (-5, "nope")


@pytest.mark.parametrize(
    ("code_xml", "code"),
    [
        ("<value><string>Client</string></value>", "Client"),  # XMLRPC::Lite
        ("<value>4</value>", "4"),  # a bare value is a string: kept as sent, not read as 4
        ("<value><string></string></value>", ""),
        ("<value><int>2147483648</int></value>", 2**31),
    ],
    ids=["Client", "bare 4", "empty", "int past 32 bits"],
)
def test_xmlrpc_fault_with_a_string_code_is_a_typed_fault(code_xml: str, code: object) -> None:
    body = fault(member("faultCode", code_xml) + member("faultString", "<value>Bad method</value>"))
    for parse in (unmarshal._parse_tree, unmarshal._parse_stream):
        with pytest.raises(XmlRpcFaultError) as caught:
            unmarshal.decode_with(parse, body, "mailkit.email.wipe")
        assert same(caught.value.fault_code, code)
        assert caught.value.fault_string == "Bad method"
        assert caught.value.function == "mailkit.email.wipe"
        shown = code if isinstance(code, int) else repr(code)
        assert f"XML-RPC fault {shown}: Bad method" in str(caught.value)


XML_GOOD: dict[str, tuple[bytes, object]] = {
    "int with whitespace": (response("<value><int> 12 </int></value>"), 12),
    "int with plus": (response("<value><int>+7</int></value>"), 7),
    "i4 max": (response("<value><i4>2147483647</i4></value>"), 2**31 - 1),
    "i4 min": (response("<value><i4>-2147483648</i4></value>"), -(2**31)),
    "i8 max": (response("<value><i8>9223372036854775807</i8></value>"), 2**63 - 1),
    "i8 min": (response("<value><i8>-9223372036854775808</i8></value>"), -(2**63)),
    # Any width in any int tag, as xmlrpc.client.loads reads them (Frontier, XMLRPC::Lite).
    "int 2**40": (response("<value><int>1099511627776</int></value>"), 2**40),
    "i4 2**31": (response("<value><i4>2147483648</i4></value>"), 2**31),
    "int -2**31-1": (response("<value><int>-2147483649</int></value>"), -(2**31) - 1),
    "i8 2**63": (response("<value><i8>9223372036854775808</i8></value>"), 2**63),
    "i8 -2**63-1": (response("<value><i8>-9223372036854775809</i8></value>"), -(2**63) - 1),
    "int 4300 digits": (response(f"<value><int>{'7' * 4300}</int></value>"), int("7" * 4300)),
    "int leading zeros": (response("<value><int>007</int></value>"), 7),
    # mailinglist.unsubscribed's example: a list of group IDs in an <i4>, kept as its text.
    "i4 comma list": (response("<value><i4>27,29,35</i4></value>"), "27,29,35"),
    "int comma list with spaces": (response("<value><int> 1, 2 </int></value>"), "1, 2"),
    "boolean with whitespace": (response("<value><boolean> 1 </boolean></value>"), True),
    "double forms": (
        response(
            "<value><array><data><value><double>-0.0</double></value><value><double>.5</double>"
            "</value><value><double> 1e3 </double></value></data></array></value>"
        ),
        [-0.0, 0.5, 1000.0],
    ),
    "bare string": (response("<value>  spaced  </value>"), "  spaced  "),
    "empty value": (response("<value></value>"), ""),
    "empty string": (response("<value><string/></value>"), ""),
    "typed value with whitespace": (response("<value>\n  <int>1</int>\n</value>"), 1),
    "members spaced, bare and typed": (
        _struct(
            "\n<member>\n <name>a</name>\n <value> x </value>\n</member>",
            "<member><name>b</name><value>\n<i4>2</i4>\n</value></member>",
            "<member><name></name><value><array><data/></array></value></member>",
            "<member><name>d</name><value><struct/></value></member>",
        ),
        {"a": " x ", "b": 2, "": [], "d": {}},
    ),
    "CDATA": (response("<value><string><![CDATA[<a&b>]]></string></value>"), "<a&b>"),
    "CR reference": (response("<value>a&#13;b</value>"), "a\rb"),
    "astral": (response("<value>\U0001f600</value>"), "\U0001f600"),
    "wrapped base64": (
        response(f"<value><base64>\n{base64.encodebytes(bytes(100)).decode()}</base64></value>"),
        bytes(100),
    ),
    "nil": (response("<value><nil/></value>"), None),
    "dateTime compact": (
        response("<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>"),
        datetime.datetime(2024, 1, 2, 3, 4, 5),
    ),
    "dateTime dashed": (
        response("<value><dateTime.iso8601>2024-01-02T03:04:05</dateTime.iso8601></value>"),
        datetime.datetime(2024, 1, 2, 3, 4, 5),
    ),
    "20 nested arrays": (
        response("<value><array><data>" * 20 + "<value>x</value>" + "</data></array></value>" * 20),
        nested_lists(20, "x"),
    ),
    "comment and PI": (b"<?pi?><!-- c -->" + response("<value>OK</value>").split(b"\n")[1], "OK"),
    "iso-8859-1": (
        b"<?xml version='1.0' encoding='iso-8859-1'?>\n"
        + response("<value>caf\u00e9</value>").split(b"\n")[1].decode().encode("latin-1"),
        "caf\u00e9",
    ),
    "utf-16": (
        response("<value>caf\u00e9</value>")
        .decode()
        .replace("version='1.0'", "version='1.0' encoding='utf-16'")
        .encode("utf-16"),
        "caf\u00e9",
    ),
}


@pytest.mark.parametrize(("body", "expected"), list(XML_GOOD.values()), ids=list(XML_GOOD))
def test_xmlrpc_good_inputs(body: bytes, expected: object) -> None:
    assert same(XmlRpcCodec().decode_reply(body, function="f"), expected)


# --- the XML-RPC decoder's two paths agree ----------------------------------------------------


def _outcome(parse: Callable[[bytes], Any], body: bytes) -> tuple[str, object]:
    try:
        return "value", plain(unmarshal.decode_with(parse, body, "f"))
    except XmlRpcFaultError as fault:
        return "fault", (fault.fault_code, fault.fault_string)
    except MalformedResponseError:
        return "malformed", None


def assert_paths_agree(body: bytes) -> None:
    tree = _outcome(unmarshal._parse_tree, body)
    stream = _outcome(unmarshal._parse_stream, body)
    assert tree == stream, body


@TOTAL
@given(st.sampled_from(XML_SEEDS), st.lists(mutation, min_size=1, max_size=4))
def test_xmlrpc_tree_path_agrees_with_stream_path_on_mutations(
    seed: bytes, steps: list[Any]
) -> None:
    body = mutate(seed, steps, [t for t in XML_TOKENS if b"<!" not in t])
    if unmarshal.takes_tree_path(body):
        assert_paths_agree(body)


@FAST
@given(xml_values(st.integers(*I8), xml_datetimes))
def test_xmlrpc_tree_path_agrees_with_stream_path_on_values(value: object) -> None:
    body = stdlib_response(value)
    assert unmarshal.takes_tree_path(body)
    assert_paths_agree(body)


_EXAMPLES = {**XML_MALFORMED, **{name: body for name, (body, _) in XML_GOOD.items()}}


@pytest.mark.parametrize("body", list(_EXAMPLES.values()), ids=list(_EXAMPLES))
def test_xmlrpc_tree_path_agrees_with_stream_path_on_the_examples(body: bytes) -> None:
    if unmarshal.takes_tree_path(body):
        assert_paths_agree(body)


def _nested_document(levels: int, leaf: str, wrap: str) -> bytes:
    opening, closing = {
        "array": ("<value><array><data>", "</data></array></value>"),
        "struct": ("<value><struct><member><name>k</name>", "</member></struct></value>"),
    }[wrap]
    return response(opening * levels + leaf + closing * levels)


@pytest.mark.parametrize("wrap", ["array", "struct"])
@pytest.mark.parametrize(
    "leaf",
    ["<value><string>x</string></value>", "<value>x</value>", "<value><struct/></value>"],
)
def test_xmlrpc_paths_agree_at_the_depth_limit(wrap: str, leaf: str) -> None:
    # The tree walk reads some elements in place; the limit must fall at the same element.
    outcomes = set()
    for levels in range(17, 23):
        body = _nested_document(levels, leaf, wrap)
        assert_paths_agree(body)
        outcomes.add(_outcome(unmarshal._parse_tree, body)[0])
    assert outcomes == {"value", "malformed"}


@pytest.mark.parametrize(
    ("body", "tree"),
    [
        (XML_SEEDS[1], True),
        (b"<methodResponse/>", True),
        (b"<?xml version='1.0' encoding='UTF-8'?><methodResponse/>", True),
        (b"<?xml version='1.0' encoding='utf-16'?><methodResponse/>", False),
        (b"<?xml version='1.0' encoding='cp037'?><methodResponse/>", False),
        (b"<?xml version='1.0'?><!DOCTYPE m><methodResponse/>", False),
        (b"<methodResponse><!-- note --></methodResponse>", False),
        (b"\xef\xbb\xbf<methodResponse/>", False),
        (b"<methodResponse>" + b" " * (70 * 1024) + b"</methodResponse>", False),
    ],
    ids=["seed", "bare", "utf-8", "utf-16", "ebcdic", "doctype", "comment", "bom", "large"],
)
def test_only_plain_small_documents_take_the_tree_path(body: bytes, tree: bool) -> None:
    assert unmarshal.takes_tree_path(body) is tree


# --- the direct read of a status answer's fields gives what the converter gives -------------

_field_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**64), 2**64),
    st.text(max_size=5),
    st.from_regex(r" ?-?[0-9]{1,21} ?", fullmatch=True),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["error", "error_status", "ID_email", "email", "other"]), _field_values
    )
)
def test_reply_fields_direct_read_matches_the_converter(value: dict[str, object]) -> None:
    def outcome(read: Callable[[], object]) -> object:
        try:
            return read()
        except MalformedResponseError:
            return "malformed"

    def converted() -> object:
        reply = convert.structure(value, convert.StatusReply, function="f")
        return (reply.error, reply.error_status, reply.id_email, reply.email)

    direct = outcome(lambda: convert.reply_fields(value, function="f"))
    assert direct == outcome(converted)


_FLAT_VALUE = st.one_of(
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
)
_FLAT_PARAMS = st.dictionaries(
    st.sampled_from(["send_optout", "email", "ID_email", "k\u00e9y", "a\x00"])
    | st.text(max_size=6),
    _FLAT_VALUE | st.dictionaries(st.text(max_size=4), _FLAT_VALUE, max_size=3),
    max_size=5,
)


@settings(max_examples=500)
@given(_FLAT_PARAMS, st.sampled_from(["mailkit.email.unsubscribe", NO_FLAGS, UNKNOWN]))
def test_json_short_encoding_writes_what_the_checked_encoder_writes(
    params: dict[str, object], function: str
) -> None:
    # The short path must write byte for byte what the checked path writes, or step aside.
    from mailkit_async import _json_codec

    short = _json_codec._flat_scalars(params, function)
    if short is None:
        return
    _validate.check_params(function, params, _validate.JSON_PARAMS)  # it passes what passes
    assert short == _json_codec._encode_params(params, function)


_TIME_TEXT = st.one_of(
    st.datetimes(min_value=datetime.datetime(1000, 1, 1)).map(lambda t: f"{t:%Y-%m-%d %H:%M:%S}"),
    st.dates(min_value=datetime.date(1000, 1, 1)).map(lambda d: f"{d:%Y-%m-%d}"),
    st.from_regex(
        r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,3}( [0-9]{1,2}:[0-9]{1,3}:[0-9]{1,2})?", fullmatch=True
    ),
    st.sampled_from(["yyyy-mm-dd hh:mm:ss", "0000-00-00 00:00:00", "2024-02-30", " 2024-01-01"]),
    st.text(max_size=20),
)


@given(_TIME_TEXT)
def test_mailkit_time_reads_what_strptime_reads(text: str) -> None:
    from mailkit_async._convert import mailkit_time

    expected = None
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            expected = datetime.datetime.strptime(text, layout)
        except ValueError:
            continue
        break
    if expected is not None and not text.isascii():
        expected = None  # strptime takes any Unicode digit; Mailkit sends ASCII
    assert mailkit_time(text) == expected


_HOSTILE_VALUE = st.one_of(
    _FLAT_VALUE,
    st.sampled_from(["a\x00b", "\ud800", "ok\r\n", 2**63, -(2**63) - 1, math.nan, math.inf]),
)
_NESTED_PARAMS = st.dictionaries(
    st.text(max_size=4) | st.sampled_from(["a\x00", 1, None]),
    _HOSTILE_VALUE
    | st.dictionaries(
        st.text(max_size=4) | st.sampled_from(["\ud800", 2]), _HOSTILE_VALUE, max_size=3
    ),
    max_size=4,
)


@settings(max_examples=500)
@given(_NESTED_PARAMS, st.sampled_from(["JSON_PARAMS", "XMLRPC_PARAMS"]))
def test_check_params_short_path_refuses_what_the_walk_refuses(
    params: dict[Any, object], rules_name: str
) -> None:
    # The dict fast path (one level down included) may only skip the walk when it passes.
    rules = getattr(_validate, rules_name)

    def verdict(check: Callable[[], None]) -> str | None:
        try:
            check()
        except InvalidArgumentError as exc:
            return str(exc)
        return None

    walked = verdict(lambda: _validate._walk("f", params, rules))
    assert verdict(lambda: _validate.check_params("f", params, rules)) == walked


@given(st.text(max_size=12) | st.sampled_from(["a&b<c>d\r", "\x00", "\ufffe", "\ud800x"]))
def test_xmlrpc_text_writes_what_escape_writes(text: str) -> None:
    from xml.sax.saxutils import escape

    from mailkit_async._xmlrpc_marshal import _NOT_XML_CHAR, _text

    if _NOT_XML_CHAR.search(text):
        with pytest.raises(InvalidArgumentError):
            _text(text)
    else:
        assert _text(text) == escape(text, {"\r": "&#13;"})


@given(
    st.integers(-(2**64), 2**64).map(str)
    | st.from_regex(r"\s?-?[0-9\u0660\u00b2]{0,21}\s?", fullmatch=True)
    | st.integers(-(2**64), 2**64)
)
def test_lenient_int_reads_decimal_text_within_64_bits(value: str | int) -> None:
    text = value.strip() if isinstance(value, str) else str(value)
    ascii_decimal = text.isascii() and text.lstrip("-").isdigit() and text.count("-") <= 1
    expected = int(text) if ascii_decimal and -(2**63) <= int(text) < 2**63 else None
    if expected is None or (isinstance(value, str) and len(text.lstrip("-")) > 19):
        with pytest.raises(ValueError, match="integer"):
            convert.lenient_int(value)
    else:
        assert convert.lenient_int(value) == expected


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_AROUND = st.sampled_from(["", " ", "\n", "\t\r\n ", "\u00a0", "\u2028", "x", "}", ",1", "\x00"])


@settings(max_examples=400, deadline=None)
@given(_JSON_VALUES, _AROUND, _AROUND, st.integers(0, 3))
def test_decoding_a_whole_answer_agrees_with_json_decode(
    value: object, before: str, after: str, cut: int
) -> None:
    """The scanner-first decode gives what `JSONDecoder.decode` gives, value or error (same
    message), for leading and trailing whitespace JSON takes or not, extra data, and text
    cut short."""
    from mailkit_async import _json_codec as codec

    text = before + json.dumps(value, ensure_ascii=False) + after
    text = text[: len(text) - cut]
    for decoder, scan in ((codec._PLAIN_DECODER, codec._PLAIN_SCAN), (codec._DECODER, codec._SCAN)):
        assert _result(codec._decode_whole, decoder, scan, text) == _result(
            lambda decoder, _, text: decoder.decode(text), decoder, scan, text
        )


def _result(decode: Callable[..., object], *args: object) -> tuple[object, ...]:
    try:
        return ("value", decode(*args))
    except ValueError as exc:
        return ("error", type(exc), str(exc))
