"""XML-RPC servers nobody here wrote, and what the function table says each must receive.

Shared by `test_xmlrpc_servers` (Python's own servers, in every run) and
`test_xmlrpc_stacks_optional` (Perl, Ruby and PHP servers, where they are installed). Every
server logs each call as `{"method": ..., "params": [{"type": ..., "value": ...}, ...]}` in
its own terms: "int", "string", "boolean", "double", "struct", "array", "nil", or "scalar"
for a stack that keeps no types (XMLRPC::Lite) and "array|struct" for PHP's empty array.
The calls are built from `FUNCTIONS`, so a function added to the table joins the checks.
"""

from __future__ import annotations

import datetime
import json
import threading
import xmlrpc.client
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

import mailkit_async as mk
from mailkit_async._functions import FUNCTIONS, FunctionSpec, Slot, SlotKind

CLIENT_ID = "12345"
CLIENT_MD5 = "0123456789abcdef0123456789abcdef"

#: (type, value) as a server should see one value; a struct's value maps names to Wires.
Wire = tuple[str, Any]

#: Methods beyond the table that every stack serves, for the reading checks.
TEST_METHODS = (
    "mailkit.test.int40",
    "mailkit.test.empty_struct",
    "mailkit.test.fault",
    "mailkit.test.i8",
    "mailkit.test.nil",
)


@dataclass(frozen=True)
class Case:
    """One call made by name through `client.call()`, and what the server must receive."""

    id: str
    function: str
    params: Mapping[str, object]
    expected: tuple[Wire, ...]  # after client_id and client_md5


def _sample(slot: Slot, *, digits: bool) -> tuple[Mapping[str, object], Wire]:
    """Named parameters filling `slot`, and what its position must carry."""
    if slot.members:
        return dict.fromkeys(slot.members, "member"), (
            "struct",
            dict.fromkeys(slot.members, ("string", "member")),
        )
    name, kind = slot.sources[0], slot.kind
    given: object
    wire: Wire
    if kind is SlotKind.INT:
        given, wire = 7, ("int", 7)
    elif kind is SlotKind.ID_OR_EMAIL:
        given, wire = (
            ("42", ("int", 42)) if digits else ("a@example.com", ("string", "a@example.com"))
        )
    elif kind is SlotKind.BOOLEAN:
        given, wire = False, ("boolean", False)  # a value, unlike an absent flag
    elif kind is SlotKind.TRUE_FALSE:
        given, wire = True, ("string", "TRUE")
    elif kind is SlotKind.STRUCT:
        given, wire = {"key": "value"}, ("struct", {"key": ("string", "value")})
    elif kind is SlotKind.ARRAY:
        given, wire = ["item"], ("array", [("string", "item")])
    else:  # STRING, ANY
        given, wire = "text", ("string", "text")
    return {name: given}, wire


def _absent(slot: Slot) -> Wire:
    """What an absent position must carry: its kind's empty value, never nil."""
    if slot.kind is SlotKind.STRUCT:
        return ("struct", {})
    return ("array", []) if slot.kind is SlotKind.ARRAY else ("string", "")


def _case(spec: FunctionSpec, variant: str) -> Case:
    assert spec.xmlrpc_order is not None
    params: dict[str, object] = {}
    wires: list[Wire | None] = []
    for slot in spec.xmlrpc_order:
        if slot.kind is SlotKind.PLACEHOLDER or (variant == "required" and not slot.required):
            wires.append(None)
            continue
        given, wire = _sample(slot, digits=variant == "required")
        params.update(given)
        wires.append(wire)
    # Without a placeholder, trailing absent positions are left off; with one, all are sent.
    if not any(slot.kind is SlotKind.PLACEHOLDER for slot in spec.xmlrpc_order):
        while wires and wires[-1] is None:
            wires.pop()
    expected = tuple(
        _absent(slot) if wire is None else wire
        for slot, wire in zip(spec.xmlrpc_order, wires, strict=False)
    )
    return Case(f"{spec.name}[{variant}]", spec.name, params, expected)


def function_cases() -> list[Case]:
    """Every function with a known order, with all its positions filled and with the fewest."""
    cases: dict[tuple[str, str], Case] = {}
    for spec in FUNCTIONS.values():
        if spec.xmlrpc_order is None:
            continue
        for variant in ("all", "required"):
            case = _case(spec, variant)
            cases.setdefault((case.function, repr(case.params)), case)
    return list(cases.values())


def served_methods() -> list[str]:
    """The methods a stack must serve: the table's ordered functions and the test methods."""
    return [spec.name for spec in FUNCTIONS.values() if spec.xmlrpc_order is not None] + list(
        TEST_METHODS
    )


#: client_id as given -> what the server must receive in the first position.
CLIENT_IDS: Mapping[str, Wire] = {
    "12345": ("int", 12345),
    "0042": ("string", "0042"),  # as an <int> it would be the credential 42
    "2147483648": ("string", "2147483648"),  # past <int>'s 32 bits
}

# --- reading what a stack logged -----------------------------------------------------------

_TYPE_ALIASES = {"i4": "int", "i8": "int", "dateTime.iso8601": "dateTime"}


def _text(value: object) -> str:
    """A value as a stack that keeps no types holds it (Perl's view of a scalar)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def agrees(received: Mapping[str, Any], expected: Wire) -> bool:
    """Whether a logged value is the expected one, in the terms its stack can tell apart."""
    kind, value = expected
    seen = _TYPE_ALIASES.get(received["type"], received["type"])
    got = received["value"]
    if seen == "scalar":  # no types kept: the text must agree
        return kind not in ("struct", "array", "nil") and got == _text(value)
    if seen == "array|struct":  # PHP: an empty struct and an empty array are one value
        return kind in ("struct", "array") and not value
    if seen != kind:
        return False
    if kind == "struct":
        return set(got) == set(value) and all(agrees(got[k], value[k]) for k in value)
    if kind == "array":
        return len(got) == len(value) and all(map(agrees, got, value))
    if kind == "boolean":
        return got in (True, "1", 1) if value else got in (False, "0", 0)
    return bool(got == value)


def disagreements(
    received: Sequence[Mapping[str, Any]], expected: tuple[Wire, ...]
) -> list[tuple[int, object, Wire]]:
    """(position, received, expected) for every position that differs, extra or missing."""
    out: list[tuple[int, object, Wire]] = []
    for index in range(max(len(received), len(expected))):
        got = received[index] if index < len(received) else None
        want = expected[index] if index < len(expected) else ("<nothing>", None)
        if got is None or index >= len(expected) or not agrees(got, want):
            out.append((index, got, want))
    return out


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# --- Python's own server -------------------------------------------------------------------


def describe(value: object) -> dict[str, Any]:
    """A decoded Python value in the log's terms."""
    if value is None:
        return {"type": "nil", "value": None}
    if isinstance(value, bool):
        return {"type": "boolean", "value": value}
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        return {"type": "double", "value": value}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    if isinstance(value, dict):
        return {"type": "struct", "value": {k: describe(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"type": "array", "value": [describe(v) for v in value]}
    if isinstance(value, bytes | xmlrpc.client.Binary):
        return {"type": "base64", "value": repr(value)}
    if isinstance(value, datetime.datetime | xmlrpc.client.DateTime):
        return {"type": "dateTime", "value": str(value)}
    return {"type": f"object:{type(value).__name__}", "value": repr(value)}


def answer(method: str, params: tuple[Any, ...]) -> object:
    """What every stack answers (each in its own types)."""
    if method == "mailkit.email.wipe":
        echo = params[2] if len(params) > 2 else ""
        return {"email": echo, "error_status": 0, "ID_email": 12345678, "error": "OK"}
    if method == "mailkit.email.revalidate":
        return "Sent subscribe email"
    if method == "mailkit.test.int40":
        return 2**40  # the stdlib marshaller refuses it: the stack's own limit
    if method == "mailkit.test.empty_struct":
        return {}
    if method == "mailkit.test.fault":
        raise xmlrpc.client.Fault(4, "Too many parameters")
    return "OK"


class _Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/rpc.fcgi",)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class _Recorder:
    """The instance SimpleXMLRPCServer dispatches to: logs every call, then answers it."""

    def __init__(self, methods: list[str]) -> None:
        self.methods = set(methods)
        self.calls: list[dict[str, Any]] = []

    def _dispatch(self, method: str, params: tuple[Any, ...]) -> object:
        if method not in self.methods:
            raise xmlrpc.client.Fault(3, f"no such method {method!r}")
        self.calls.append({"method": method, "params": [describe(p) for p in params]})
        return answer(method, params)


@dataclass
class RunningStack:
    """A server listening on loopback, and how to read what it received."""

    name: str
    base_url: str
    _calls: list[dict[str, Any]] | None = None
    _log: Path | None = None

    def records(self) -> list[dict[str, Any]]:
        if self._calls is not None:
            return list(self._calls)
        assert self._log is not None
        return read_log(self._log)

    def last_call(self, function: str) -> list[dict[str, Any]]:
        """The params of the last call received, which must be of `function`."""
        record = self.records()[-1]
        assert record["method"] == function
        params = record["params"]
        assert isinstance(params, list)
        return params

    def client(self, **options: object) -> mk.MailkitClient:
        """An XML-RPC client of this server, client_id "12345" unless given."""
        options.setdefault("client_id", CLIENT_ID)
        options.setdefault("protocol", "xmlrpc")
        return mk.MailkitClient(client_md5=CLIENT_MD5, base_url=self.base_url, **options)  # type: ignore[arg-type]


@contextmanager
def python_stack(*, allow_none: bool) -> Iterator[RunningStack]:
    """Python's SimpleXMLRPCServer in a thread; allow_none=False is the strict kind."""
    recorder = _Recorder(served_methods())
    server = SimpleXMLRPCServer(
        ("127.0.0.1", 0),
        requestHandler=_Handler,
        allow_none=allow_none,
        logRequests=False,
        use_builtin_types=True,
    )
    server.register_instance(recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield RunningStack(
            f"python-{'nil' if allow_none else 'strict'}", f"http://{host!s}:{port}", recorder.calls
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
