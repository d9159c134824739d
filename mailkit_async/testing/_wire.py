"""Both wire protocols as the emulator speaks them: request documents in, reply documents out.

Written without the client's codecs on purpose, so the two can catch each other's mistakes;
only the positions of XML-RPC calls come from the function table, the one record of them.
"""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Mapping
from typing import Any, Literal
from xml.parsers.expat import ExpatError

import attrs
from defusedxml.xmlrpc import (  # type: ignore[import-untyped, unused-ignore]
    DefusedExpatParser,
)

from .._functions import FUNCTIONS, SlotKind

__all__ = [
    "Action",
    "BadRequestError",
    "Call",
    "EmulatorResponse",
    "decode",
    "failure",
    "plain",
    "reply",
]

Protocol = Literal["json", "xmlrpc"]
Action = Literal["reply", "drop", "truncate"]

PROTOCOLS: Mapping[str, Protocol] = {"/json.fcgi": "json", "/rpc.fcgi": "xmlrpc"}

# XML-RPC parameters are positional; the function table names them (after client_id and
# client_md5) with their JSON names, so the handlers only ever see JSON-style names. None
# marks a struct position built from named parameters, whose members become parameters.
_XMLRPC_NAMES: Mapping[str, tuple[tuple[str | None, SlotKind], ...]] = {
    spec.name: tuple(zip(names, (slot.kind for slot in spec.xmlrpc_order or ()), strict=True))
    for spec in FUNCTIONS.values()
    if (names := spec.xmlrpc_names()) is not None
}

# The Unmarshaller "gladly accepts bogus XML-RPC data" and fails in many ways on the rest:
# bad numbers (ValueError), bad booleans (TypeError), odd structs (IndexError), incomplete
# documents (ResponseError), faults (Fault). defusedxml's refusals are ValueErrors.
_XMLRPC_ERRORS = (ExpatError, ValueError, TypeError, IndexError, KeyError, xmlrpc.client.Error)

_JSON_HEADERS = (("Content-Type", "application/json"),)
_XMLRPC_HEADERS = (("Content-Type", "text/xml; charset=utf-8"),)


class BadRequestError(ValueError):
    """The body is not a request document of its protocol."""


@attrs.frozen
class EmulatorResponse:
    """One HTTP reply of the emulator, and what the mount must do with it.

    After `delay` seconds, `action` "reply" sends it; "drop" hangs up without sending a byte
    (status, headers and body are then the lost answer, or a status 0 placeholder when
    nothing was done); "truncate" sends the head, with the full Content-Length, and only
    the first half of the body, then hangs up.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    action: Action = "reply"
    delay: float = 0.0


@attrs.frozen
class Call:
    """A decoded request; `params` uses the JSON names for both protocols."""

    protocol: Protocol
    function: str
    client_id: object
    md5: object
    params: Mapping[str, object]


def decode(protocol: Protocol, body: bytes) -> Call:
    """Read one request document; raise `BadRequestError` if it is not one."""
    return _decode_json(body) if protocol == "json" else _decode_xmlrpc(body)


def reply(protocol: Protocol, value: Any) -> EmulatorResponse:
    """Encode a result exactly as given, as the single value of a reply."""
    if protocol == "json":
        # Compact and ASCII-escaped, as PHP's json_encode writes it.
        text = json.dumps(value, separators=(",", ":"))
        return EmulatorResponse(200, _JSON_HEADERS, text.encode())
    text = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True, encoding="utf-8")
    return EmulatorResponse(200, _XMLRPC_HEADERS, text.encode())


def failure(protocol: Protocol, message: str) -> EmulatorResponse:
    """The API's usual error: an error object in JSON, a bare string in XML-RPC."""
    if protocol == "json":
        return reply(protocol, {"error_status": 1, "error": message})
    return reply(protocol, message)


def plain(status: int, text: str, *headers: tuple[str, str]) -> EmulatorResponse:
    """An HTTP-level reply outside both protocols."""
    return EmulatorResponse(
        status, (("Content-Type", "text/plain; charset=utf-8"), *headers), text.encode() + b"\n"
    )


def _decode_json(body: bytes) -> Call:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: deeply nested arrays
        raise BadRequestError("body is not JSON") from exc
    if not isinstance(document, dict) or not isinstance(document.get("function"), str):
        raise BadRequestError("expected a JSON object with a string 'function'")
    params = document.get("parameters")
    if params is None:
        params = {}
    elif not isinstance(params, dict):
        raise BadRequestError("'parameters' must be a JSON object")
    return Call("json", document["function"], document.get("id"), document.get("md5"), params)


def _decode_xmlrpc(body: bytes) -> Call:
    unmarshaller = xmlrpc.client.Unmarshaller()
    # Composed per request: monkey_patch() would rewire the stdlib for the whole process.
    parser = DefusedExpatParser(unmarshaller, forbid_dtd=True)
    try:
        parser.feed(body)
        parser.close()
        args = unmarshaller.close()
    except _XMLRPC_ERRORS as exc:
        raise BadRequestError("body is not an XML-RPC methodCall") from exc
    function = unmarshaller.getmethodname()
    if not isinstance(function, str):
        raise BadRequestError("body is not an XML-RPC methodCall")
    client_id = args[0] if args else None
    md5 = args[1] if len(args) > 1 else None
    params: dict[str, object] = {}
    for (name, kind), value in zip(_XMLRPC_NAMES.get(function, ()), args[2:], strict=False):
        if isinstance(value, dict) and (name is None or kind is not SlotKind.STRUCT):
            # A struct of named parameters contributes its members; so does one in a
            # non-struct position: unsubscribe's {timeout, timeout_days}, which older doc
            # pages place one slot earlier.
            params.update(value)
        elif name is not None:
            params[name] = value
    return Call("xmlrpc", function, client_id, md5, params)
