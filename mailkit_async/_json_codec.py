"""Mailkit's JSON envelope, encoded and decoded strictly."""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, NoReturn

from ._codec import Params
from ._credentials import Credentials, SecretBytes, SecretText
from ._errors import InvalidArgumentError, MalformedResponseError
from ._functions import spec_for
from ._validate import (
    JSON_PARAMS,
    check_codec_call,
    check_codec_reply,
    check_params,
    checked_arguments,
)

__all__ = ["JsonCodec"]

#: Deeper than any Mailkit answer (records inside an array inside an object) by far.
MAX_DEPTH: Final = 32

_BOM: Final = b"\xef\xbb\xbf"
# A \uD800-\uDFFF escape is the only way a lone surrogate gets into a decoded str.
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")

_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
#: What _ENCODER writes for a str (ensure_ascii=False), without its type dispatch.
_encode_string: Final = json.encoder.encode_basestring
#: Distinct (function, credentials) envelopes remembered; a client uses a handful.
_MAX_PREFIXES: Final = 256
#: Status answers are well under this; records and lists are longer.
_SHORT_ANSWER: Final = 512
#: Functions whose short answer was not one flat object (a struct in a struct, a list of
#: lists): the next one goes straight to the careful decoder instead of being decoded twice.
_NESTED_ANSWERS: Final[set[str]] = set()


class _DuplicateKeyError(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        # The stdlib lets the last key win, so {"error_status":1,"error_status":0} would
        # silently read as success.
        raise _DuplicateKeyError("duplicate key in a JSON object")
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):  # "1e999" overflows to inf, silently
        raise ValueError("number out of the float range")
    return number


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates,
    parse_constant=_reject_constant,
    parse_float=_finite_float,
)
#: The same without the pairs hook, a Python call per object: for the common answer, one
#: flat object, `_flat_and_distinct` proves there is no duplicate key from the text itself.
_PLAIN_DECODER: Final = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite_float
)

#: A decoder's scanner: (text, index) -> (value, end), StopIteration where no value starts.
_Scan = Callable[[str, int], tuple[Any, int]]
# Set by JSONDecoder.__init__ (the C scanner when there is one); typeshed does not list it.
_PLAIN_SCAN: Final[_Scan] = _PLAIN_DECODER.scan_once  # type: ignore[attr-defined]
_SCAN: Final[_Scan] = _DECODER.scan_once  # type: ignore[attr-defined]


class JsonCodec:
    """The JSON API (`/json.fcgi`): `{"function", "id", "md5", "parameters"}` in, one value out.

    Python bools in parameters that Mailkit spells "TRUE"/"FALSE" (e.g. `agreement`) are
    converted; everything else is sent as given.
    """

    name: Final = "json"
    path: Final = "/json.fcgi"
    content_type: Final = "application/json"

    @checked_arguments
    def __init__(self) -> None:
        """No options; every call is encoded the same way."""

    @checked_arguments
    def encode_call(self, function: str, params: Params, credentials: Credentials) -> bytes:
        """The request body, as `SecretBytes` (its repr hides the md5 it holds)."""
        # The envelope up to the parameters depends only on the function and the credentials,
        # which were checked when it was made. Made on first use: subclasses need not call
        # __init__.
        prefixes: dict[str, tuple[Credentials, SecretText]] | None = self.__dict__.get(
            "_prefixes"
        )
        if prefixes is None:
            prefixes = self.__dict__["_prefixes"] = {}
        cached = prefixes.get(function) if type(function) is str else None
        if cached is None or cached[0] is not credentials:
            check_codec_call(function, credentials)
            cached = None
        if type(params) is not dict and not isinstance(params, Mapping):  # dict: no ABC check
            raise InvalidArgumentError(
                f"{function}: params must be a mapping (the JSON API takes named parameters), "
                f"not {type(params).__name__}"
            )
        # The parameters are encoded first and apart from the md5: if they fail, no frame of
        # the traceback holds the secret in a plain value.
        encoded = _flat_scalars(params, function)  # None unless plain text, ints, bools
        if encoded is None:
            check_params(function, params, JSON_PARAMS)
            try:
                encoded = _encode_params(params, function)
            except (TypeError, ValueError, RecursionError) as exc:
                # Messages name types and reasons (never values).
                raise InvalidArgumentError(
                    f"{function}: parameters are not JSON-encodable: {_short(exc)}"
                ) from None
        if cached is not None:
            prefix = cached[1]
        else:
            if len(prefixes) >= _MAX_PREFIXES:
                prefixes.clear()
            prefix = _envelope(function, credentials)
            prefixes[function] = (credentials, prefix)
        # Lone surrogates, the one thing UTF-8 cannot encode, were refused above; were one to
        # slip through, the error is raised outside the handler, so that no exception whose
        # `object` is this text (md5 included) is chained to it.
        try:
            return SecretBytes(prefix + encoded + "}", "utf-8")
        except UnicodeEncodeError:
            pass
        raise InvalidArgumentError(f"{function}: parameters hold text UTF-8 cannot carry")

    @checked_arguments
    def decode_reply(self, body: bytes, *, function: str) -> object:
        check_codec_reply(body, function)
        if body.startswith(_BOM):
            raise MalformedResponseError(
                "JSON body starts with a byte order mark", function=function
            )
        try:
            text = body.decode("utf-8")
            # A short answer is decoded first without the hook, and again with it only if
            # it proves nested; a long one (records), or one of a function that answered
            # nested before, is decoded once, with it.
            if len(body) <= _SHORT_ANSWER and function not in _NESTED_ANSWERS:
                value = _decode_whole(_PLAIN_DECODER, _PLAIN_SCAN, text)
                if _flat_and_distinct(value, body):
                    if _SURROGATE_ESCAPE.search(body) is not None:  # flat: only this is left
                        _check_value(value, function, surrogates=True)
                    return value
                if len(_NESTED_ANSWERS) >= _MAX_PREFIXES:
                    _NESTED_ANSWERS.clear()
                _NESTED_ANSWERS.add(function)
            value = _decode_whole(_DECODER, _SCAN, text)  # refuses a duplicate key, if any
        except UnicodeDecodeError:
            raise MalformedResponseError(
                "JSON body is not valid UTF-8", function=function
            ) from None
        except RecursionError:
            raise MalformedResponseError("JSON nesting too deep", function=function) from None
        except ValueError as exc:
            raise MalformedResponseError(
                f"invalid JSON: {_short(exc)}", function=function
            ) from None
        # Both checks walk the value; the byte scans keep ordinary answers off that path (one
        # regex search and one translate cost less than a substring test and two counts).
        surrogates = _SURROGATE_ESCAPE.search(body) is not None
        if surrogates or len(body) - len(body.translate(None, b"[{")) > MAX_DEPTH:
            _check_value(value, function, surrogates=surrogates)
        return value


#: What JSON counts as whitespace (str.isspace() takes more: NBSP, say).
_JSON_SPACE: Final = " \t\n\r"


def _decode_whole(decoder: json.JSONDecoder, scan: _Scan, text: str) -> Any:
    """`decoder.decode(text)`, the common answer (a value from its first character, nothing
    but whitespace after it) without decode's two whitespace matches and two frames; any
    other text goes through decode itself, which raises what it would have. `scan` is
    the decoder's own scanner."""
    try:
        value, end = scan(text, 0)
    except StopIteration:
        return decoder.decode(text)
    if end != len(text) and text[end:].strip(_JSON_SPACE):
        return decoder.decode(text)  # "Extra data"
    return value


def _flat_and_distinct(value: object, body: bytes) -> bool:
    """Whether `value` is one object of plain values in which no key was written twice.

    Proven from the text: each key is followed by one colon outside any string, and plain
    values (numbers, strings, true, false, null) add none, so the text holds at least as many
    colons as keys were written. Were a key written twice, the decoded object would have fewer
    keys than that; as many colons as decoded keys means none was. A colon inside a string
    only adds to the count: without escapes in the text, the decoded strings hold exactly the
    colons the text's strings do, so those are counted off (an escaped colon could stand in
    for a structural one; with a backslash anywhere the answer goes the careful way).
    """
    if type(value) is not dict:
        return False
    for item in value.values():
        if type(item) is dict or type(item) is list:
            return False
    colons = body.count(b":")
    if colons == len(value):
        return True
    if b"\\" in body:
        return False
    in_strings: int = sum(key.count(":") for key in value) + sum(
        item.count(":") for item in value.values() if type(item) is str
    )
    return colons == len(value) + in_strings


def _envelope(function: str, credentials: Credentials) -> SecretText:
    """`{"function":...,"id":...,"md5":...,"parameters":` as SecretText.

    The md5 exists here only as temporaries inside one expression, never in a named local.
    """
    head = _ENCODER.encode({"function": function, "id": credentials.client_id})[:-1]
    return SecretText(f'{head},"md5":{_encode_string(credentials.md5)},"parameters":')


#: `"key":` for the keys seen so far (a client sends few distinct ones).
_KEY_TEXT: Final[dict[str, str]] = {}
_INT64: Final = 2**63  # check_params lets a plain int of this size through without a walk
_NO_FLAGS: Final[frozenset[str]] = frozenset()


def _flat_scalars(
    params: Mapping[str, object], function: str, *, nested: bool = False
) -> str | None:
    """The common case without the general encoder: printable text, None, bools and 64-bit
    ints, at the top or in a dict one level down (adduser's `personal`), written exactly as
    `_encode_params` writes them. Printable text holds neither NUL nor a lone surrogate, so
    it needs no other check; anything else (floats, lists, deeper dicts, other text) returns
    None for the checked, general way."""
    if len(params) == 1:  # wipe's one address: no loop, no list
        ((key, value),) = params.items()
        if type(value) is str and type(key) is str and value.isprintable():
            head = _KEY_TEXT.get(key)
            if head is not None:
                return "{" + head + _encode_string(value) + "}"
    # TRUE/FALSE flags are top-level parameters; nested bools stay JSON's true/false.
    flags: frozenset[str] | None = _NO_FLAGS if nested else None
    parts = []
    for key, value in params.items():
        if type(key) is not str:
            return None
        head = _KEY_TEXT.get(key)  # a key seen before was printable
        if head is None:
            if not key.isprintable():
                return None
            if len(_KEY_TEXT) >= _MAX_PREFIXES:
                _KEY_TEXT.clear()
            head = _KEY_TEXT[key] = _encode_string(key) + ":"
        if type(value) is str:
            if not value.isprintable():
                return None
            parts.append(head + _encode_string(value))
        elif value is None:
            parts.append(head + "null")
        elif type(value) is bool:
            if flags is None:
                spec = spec_for(function)
                flags = spec.flags if spec is not None else _NO_FLAGS
            if key in flags:
                parts.append(head + ('"TRUE"' if value else '"FALSE"'))
            else:
                parts.append(head + ("true" if value else "false"))
        elif type(value) is int and -_INT64 <= value < _INT64:
            parts.append(head + int.__repr__(value))
        elif type(value) is dict and not nested:
            inner = _flat_scalars(value, function, nested=True)
            if inner is None:
                return None
            parts.append(head + inner)
        else:
            return None
    return "{" + ",".join(parts) + "}"


def _encode_params(params: Mapping[str, object], function: str) -> str:
    spec = spec_for(function)
    if spec is not None and spec.flags:
        params = {
            key: (("TRUE" if value else "FALSE") if isinstance(value, bool) else value)
            if key in spec.flags
            else value
            for key, value in params.items()
        }
    return _ENCODER.encode(params)


def _check_value(value: object, function: str, *, surrogates: bool) -> None:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            if surrogates:
                for key in item:
                    _check_text(key, function)
        elif isinstance(item, list):
            children = item
        else:
            if surrogates and isinstance(item, str):
                _check_text(item, function)
            continue
        if depth > MAX_DEPTH:
            raise MalformedResponseError(
                f"JSON nesting deeper than {MAX_DEPTH} levels", function=function
            )
        stack.extend((child, depth + 1) for child in children)


def _check_text(text: str, function: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedResponseError(
            "JSON string holds a lone surrogate", function=function
        ) from None


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."
