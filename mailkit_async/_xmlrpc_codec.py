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
from ._xmlrpc_marshal import method_call
from ._xmlrpc_unmarshal import parse_response

__all__ = ["XmlRpcCodec"]

_DIGITS: Final = re.compile(r"[0-9]{1,19}")
_I4_MAX: Final = 2**31 - 1
_I8_MAX: Final = 2**63 - 1
_FLAG_VALUES: Final = {"TRUE": True, "FALSE": False}
_ABSENT: Final = object()
_PARAMS: Final = b"<params>"


class XmlRpcCodec:
    """The XML-RPC API (`/rpc.fcgi`).

    Named parameters are placed by the function's documented positional order, each value
    written as its position's documented type; a function whose order is unknown needs an
    explicit list (its parameters after the credentials). An absent optional position, and
    any None, is sent as the empty value of its type (`<string/>`, an empty `<struct>`), as
    the PHP wrappers that work against Mailkit send null; `send_nil=True` sends `<nil/>`
    instead, for a server that wants that extension. Answers are parsed through defusedxml
    with DTDs, entities and external references refused.
    """

    name: Final = "xmlrpc"
    path: Final = "/rpc.fcgi"
    content_type: Final = "text/xml; charset=utf-8"

    @checked_arguments
    def __init__(self, *, send_nil: bool = False) -> None:
        if not isinstance(send_nil, bool):
            raise InvalidArgumentError(f"send_nil must be a bool, not {type(send_nil).__name__}")
        self._send_nil = send_nil

    @property
    def send_nil(self) -> bool:
        """Whether absent values go as `<nil/>` rather than their type's empty value."""
        return self._send_nil

    def __repr__(self) -> str:
        return f"XmlRpcCodec(send_nil={self._send_nil})"

    @checked_arguments
    def encode_call(self, function: str, params: Params, credentials: Credentials) -> bytes:
        """The request body, as `SecretBytes` (its repr hides the md5 it holds)."""
        check_codec_call(function, credentials)
        given: object = params  # checked at run time: callers may pass anything
        if isinstance(given, Mapping):
            check_params(function, given, XMLRPC_PARAMS)
            positional = _place(function, given, nil=self._send_nil)
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
            document = method_call(function, positional, nil=self._send_nil)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{function}: {exc}") from None
        at = document.index(_PARAMS) + len(_PARAMS)
        block = _credential_params(self, credentials)
        return SecretBytes(b"".join((document[:at], block, document[at:])))

    @checked_arguments
    def decode_reply(self, body: bytes, *, function: str) -> object:
        check_codec_reply(body, function)
        return parse_response(body, function=function)


def client_id_value(client_id: str) -> int | str:
    """The client_id as sent: `<int>` as the pages show, unless that would change it.

    An ID that is not the plain decimal form of a 32-bit number ("0042", "99999999999",
    "ab12") goes as the `<string>` the PHP wrappers always send, which the live service
    takes; `<int>42</int>` for "0042" would be a different credential.
    """
    if _DIGITS.fullmatch(client_id):
        number = int(client_id)
        if number <= _I4_MAX and str(number) == client_id:
            return number
    return client_id


def _credential_params(codec: XmlRpcCodec, credentials: Credentials) -> SecretBytes:
    """The client_id and md5 `<param>`s, made once per credentials (made on first use:
    subclasses need not call __init__)."""
    cached: tuple[Credentials, SecretBytes] | None = codec.__dict__.get("_credential_params")
    if cached is not None and cached[0] is credentials:
        return cached[1]
    client_id = client_id_value(credentials.client_id)
    first = (
        f"<int>{client_id}</int>"
        if isinstance(client_id, int)
        else f"<string>{escape(client_id)}</string>"
    )
    # Credentials hold no character XML cannot carry, and none that needs more than escape().
    block = SecretBytes(
        b"".join(
            (
                f"<param><value>{first}</value></param><param><value><string>".encode(),
                escape(credentials.md5).encode("utf-8"),
                b"</string></value></param>",
            )
        )
    )
    codec.__dict__["_credential_params"] = (credentials, block)
    return block


def _place(function: str, params: Mapping[str, object], *, nil: bool) -> list[object]:
    spec = spec_for(function)
    if spec is None or spec.xmlrpc_order is None:
        raise UnknownFunctionOrderError(function)
    order = spec.xmlrpc_order
    remaining = dict(params)
    placed = [_fill(function, slot, remaining) for slot in order]
    if remaining:
        # Dropping a parameter silently would send a different call than the caller wrote.
        raise InvalidArgumentError(
            f"{function}: no XML-RPC position for parameter(s) {sorted(remaining)}; "
            f"the order is {[slot.name for slot in order]}"
        )
    # Unfilled trailing positions are left off, as the PHP wrappers leave them off for
    # getstatus and unsubscribe; an order with a placeholder is sent whole, as its page asks
    # and as the wrappers send revalidate.
    if not any(slot.kind is SlotKind.PLACEHOLDER for slot in order):
        while placed and placed[-1] is _ABSENT:
            placed.pop()
    return [
        (None if nil else slot.kind.empty) if value is _ABSENT else value
        for slot, value in zip(order, placed, strict=False)
    ]


def _fill(function: str, slot: Slot, remaining: dict[str, object]) -> object:
    if slot.kind is SlotKind.PLACEHOLDER:
        return _ABSENT
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
    return _coerce(function, slot.kind, given[0], values[given[0]])


def _coerce(function: str, kind: SlotKind, name: str, value: object) -> object:
    """`value` as its position's documented type, or InvalidArgumentError."""
    if kind is SlotKind.ANY:
        return value
    if kind is SlotKind.STRING:
        if isinstance(value, str):
            return value
        if type(value) is int:
            return str(value)
        raise InvalidArgumentError(f"{function}: {name!r} must be a string")
    if kind is SlotKind.INT or kind is SlotKind.ID_OR_EMAIL:
        if type(value) is int:
            return value
        if isinstance(value, str):
            text = value.strip()
            # An ID_OR_EMAIL keeps digits an int would change ("0042") as the text given.
            if (
                _DIGITS.fullmatch(text)
                and int(text) <= _I8_MAX
                and (kind is SlotKind.INT or str(int(text)) == text)
            ):
                return int(text)
            if kind is SlotKind.ID_OR_EMAIL:
                return value  # an address, or digits an int would change: the text as given
        what = "an ID or an email address" if kind is SlotKind.ID_OR_EMAIL else "an integer"
        raise InvalidArgumentError(f"{function}: {name!r} must be {what}")
    if kind is SlotKind.BOOLEAN or kind is SlotKind.TRUE_FALSE:
        flag = value if isinstance(value, bool) else None
        if isinstance(value, str):
            flag = _FLAG_VALUES.get(value.upper())
        if flag is None:
            raise InvalidArgumentError(f"{function}: {name!r} must be a bool or 'TRUE'/'FALSE'")
        if kind is SlotKind.TRUE_FALSE:
            return "TRUE" if flag else "FALSE"
        return flag
    if kind is SlotKind.STRUCT:
        if isinstance(value, Mapping):
            return value
        raise InvalidArgumentError(f"{function}: {name!r} must be a mapping (an XML-RPC struct)")
    if kind is SlotKind.ARRAY:
        if isinstance(value, list | tuple):
            return value
        raise InvalidArgumentError(f"{function}: {name!r} must be a list (an XML-RPC array)")
    raise AssertionError(f"unhandled slot kind {kind}")  # pragma: no cover
