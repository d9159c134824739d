"""Mailkit's XML-RPC API: named parameters placed into each function's documented order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from xml.sax.saxutils import escape

from ._codec import Params
from ._credentials import Credentials, SecretBytes
from ._errors import InvalidArgumentError, UnknownFunctionOrderError
from ._functions import Slot, SlotKind, spec_for
from ._validate import (
    XMLRPC_PARAMS,
    check_codec_call,
    check_codec_reply,
    check_params,
    checked_arguments,
)
from ._xmlrpc_marshal import dump_value, method_call
from ._xmlrpc_unmarshal import parse_response

__all__ = ["XmlRpcCodec"]

_DIGITS: Final = re.compile(r"[0-9]{1,18}")
_I4_MAX: Final = 2**31 - 1
_FLAG_VALUES: Final = {"TRUE": True, "FALSE": False}
_ABSENT: Final = object()
_PARAMS: Final = b"<params>"


class XmlRpcCodec:
    """The XML-RPC API (`/rpc.fcgi`).

    Named parameters are placed by the function's documented positional order; a function
    whose order is unknown needs an explicit list (its parameters after the credentials).
    Answers are parsed through defusedxml with DTDs, entities and external references refused.
    """

    name: Final = "xmlrpc"
    path: Final = "/rpc.fcgi"
    content_type: Final = "text/xml; charset=utf-8"

    @checked_arguments
    def __init__(self) -> None:
        """No options; every call is encoded the same way."""

    @checked_arguments
    def encode_call(self, function: str, params: Params, credentials: Credentials) -> bytes:
        """The request body, as `SecretBytes` (its repr hides the md5 it holds)."""
        check_codec_call(function, credentials)
        given: object = params  # checked at run time: callers may pass anything
        if isinstance(given, Mapping):
            check_params(function, given, XMLRPC_PARAMS)
            positional = _place(function, given)
        elif isinstance(given, list | tuple):
            check_params(function, given, XMLRPC_PARAMS)
            positional = list(given)
        else:
            raise InvalidArgumentError(
                f"{function}: params must be a mapping or a list, not {type(params).__name__}"
            )
        # The parameters are written without the credentials, which are spliced in after: if
        # the parameters fail, no frame of the traceback holds the md5 in a plain value.
        try:
            document = method_call(function, positional)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{function}: {exc}") from None
        at = document.index(_PARAMS) + len(_PARAMS)
        block = _credential_params(self, credentials)
        return SecretBytes(b"".join((document[:at], block, document[at:])))

    @checked_arguments
    def decode_reply(self, body: bytes, *, function: str) -> object:
        check_codec_reply(body, function)
        return parse_response(body, function=function)


def _credential_params(codec: XmlRpcCodec, credentials: Credentials) -> SecretBytes:
    """The client_id and md5 `<param>`s, made once per credentials (made on first use:
    subclasses need not call __init__)."""
    cached: tuple[Credentials, SecretBytes] | None = codec.__dict__.get("_credential_params")
    if cached is not None and cached[0] is credentials:
        return cached[1]
    client_id: object = credentials.client_id
    # The pages show client_id as <int>; an ID that is not a small number goes as text.
    if _DIGITS.fullmatch(credentials.client_id) and int(credentials.client_id) <= _I4_MAX:
        client_id = int(credentials.client_id)
    out = ["<param>"]
    dump_value(client_id, out, set())
    out.append("</param><param><value><string>")
    # Credentials hold no character XML cannot carry, and none that needs more than escape().
    block = SecretBytes(
        b"".join(
            (
                "".join(out).encode("utf-8"),
                escape(credentials.md5).encode("utf-8"),
                b"</string></value></param>",
            )
        )
    )
    codec.__dict__["_credential_params"] = (credentials, block)
    return block


def _place(function: str, params: Mapping[str, object]) -> list[object]:
    spec = spec_for(function)
    if spec is None or spec.xmlrpc_order is None:
        raise UnknownFunctionOrderError(function)
    remaining = dict(params)
    placed: list[object] = []
    for slot in spec.xmlrpc_order:
        placed.append(_fill(function, slot, remaining))
    if remaining:
        # Dropping a parameter silently would send a different call than the caller wrote.
        raise InvalidArgumentError(
            f"{function}: no XML-RPC position for parameter(s) {sorted(remaining)}; "
            f"the order is {[slot.name for slot in spec.xmlrpc_order]}"
        )
    # Trailing positions nobody filled are left off, as the PHP wrappers do.
    while placed and placed[-1] is _ABSENT:
        placed.pop()
    return [None if value is _ABSENT else value for value in placed]


def _fill(function: str, slot: Slot, remaining: dict[str, object]) -> object:
    if slot.kind is SlotKind.PLACEHOLDER:
        return _ABSENT  # <nil/> when a later position is filled, left off otherwise
    if slot.members:
        struct = {name: remaining.pop(name) for name in slot.members if name in remaining}
        return struct or _ABSENT
    given = [name for name in slot.sources if remaining.get(name) is not None]
    if len(given) > 1:
        raise InvalidArgumentError(f"{function}: give only one of {given} (they share a position)")
    values = {name: remaining.pop(name) for name in slot.sources if name in remaining}
    if not given:
        if slot.required:
            raise InvalidArgumentError(f"{function}: parameter {slot.name!r} is required")
        return _ABSENT
    return _coerce(function, slot, given[0], values[given[0]])


def _coerce(function: str, slot: Slot, name: str, value: object) -> object:
    kind = slot.kind
    if kind is SlotKind.STRING and type(value) is int:
        return str(value)
    if kind in (SlotKind.INT, SlotKind.ID_OR_EMAIL) and isinstance(value, str):
        if _DIGITS.fullmatch(value.strip()):
            return int(value.strip())
        if kind is SlotKind.INT:
            raise InvalidArgumentError(f"{function}: {name!r} must be an integer")
    if kind is SlotKind.BOOLEAN and isinstance(value, str):
        if value.upper() not in _FLAG_VALUES:
            raise InvalidArgumentError(f"{function}: {name!r} must be a bool or 'TRUE'/'FALSE'")
        return _FLAG_VALUES[value.upper()]
    return value
