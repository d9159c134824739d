"""No failing call shows the md5 to an error tracker: not in captured frame locals, anywhere.

Error trackers (Sentry, rich tracebacks, `traceback.TracebackException(capture_locals=True)`)
record the repr of every local of every frame a failure passed through, chained exceptions
included. For every failure class, on both engines and both protocols, over real loopback
sockets, the md5 (or any 12-character piece of it) must be absent from that output, from the
DEBUG logs of the library, httpx and httpcore, from reprs, str, `__cause__`/`__context__`
chains and pickles of the exceptions.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import logging
import pickle
import re
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

import mailkit_async as mk
from mailkit_async._credentials import Credentials, SecretBytes
from mailkit_async.testing import Faults, MailkitEmulator, serve
from tests._loopback import Action, Reply, closed_port
from tests._loopback import serve as serve_loopback

CLIENT_ID = "12345"
#: Distinct windows throughout, so a half or a third of it would be noticed too.
SECRET = "9b1c0f3e7a4d2c6b8e5f1a0d3c7b9e2f"
_WINDOW = 12
PIECES = tuple(SECRET[i : i + _WINDOW] for i in range(len(SECRET) - _WINDOW + 1))
_ANY_PIECE = re.compile("|".join(PIECES))
ADDRESS = "jane@example.com"

UNAUTHORIZED = {
    "json": Reply(body=b'{"error_status":1,"error":"Unauthorized"}'),
    "xmlrpc": Reply(
        body=b"<?xml version='1.0'?><methodResponse><params><param><value><string>Unauthorized"
        b"</string></value></param></params></methodResponse>"
    ),
}


def leaks(text: str) -> list[str]:
    """The pieces of the md5 found in `text` (empty: none)."""
    return _ANY_PIECE.findall(text)


def chain(error: BaseException) -> list[BaseException]:
    """`error` and every exception linked from it, causes and (even suppressed) contexts."""
    found: list[BaseException] = []
    pending = [error]
    while pending:
        link = pending.pop()
        if any(link is seen for seen in found):
            continue
        found.append(link)
        pending.extend(e for e in (link.__cause__, link.__context__) if e is not None)
    return found


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception as exc:  # a half-built third-party object; trackers show this too
        return f"<repr raised {type(exc).__name__}>"


def captured(error: BaseException) -> str:
    """Everything an error tracker records of `error`: frames with locals, every chain link.

    `TracebackException(capture_locals=True)` formatted in full, and the same walk done by
    hand (as Sentry does), which also reaches suppressed contexts and survives a local whose
    repr raises (Python 3.11's TracebackException does not).
    """
    parts = []
    for link in chain(error):
        parts.append(_safe_repr(link))
        tb = link.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            parts.append(frame.f_code.co_qualname)
            parts.extend(f"{name}={_safe_repr(value)}" for name, value in frame.f_locals.items())
            tb = tb.tb_next
    try:
        report = traceback.TracebackException.from_exception(error, capture_locals=True)
        parts.append("".join(report.format(chain=True)))
    except Exception:  # 3.11: a local whose repr raises aborts it; the walk above covered it
        pass
    return "\n".join(parts)


def assert_clean(error: BaseException, records: list[logging.LogRecord]) -> None:
    text = captured(error)
    assert not leaks(text), text
    for link in chain(error):
        for shown in (repr(link), str(link), _safe_repr(vars(link)), repr(link.args)):
            assert not leaks(shown), shown
        try:
            pickled = pickle.dumps(link)
        except Exception:  # refused (ours hold no secret; a redacted body refuses); none written
            pickled = b""
        assert not leaks(pickled.decode("latin-1")), type(link)
    for record in records:
        assert not leaks(record.getMessage()), record.getMessage()
        assert not leaks(repr(record.args)), record.args
        if record.exc_info and record.exc_info[1] is not None:
            assert not leaks(captured(record.exc_info[1]))


async def failure_of(call: Awaitable[object]) -> mk.MailkitError:
    """The error `call` ends in, caught here: the traceback starts in this clean frame, not
    in a test's, whose locals (the loopback server's record of requests) hold the md5."""
    try:
        await call
    except mk.MailkitError as error:
        return error
    raise AssertionError("the call succeeded")


async def cancellation_of(task: asyncio.Future[object]) -> asyncio.CancelledError:
    try:
        await task
    except asyncio.CancelledError as error:
        return error
    raise AssertionError("the task was not cancelled")


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """DEBUG records of every logger: the library's, httpx's, httpcore's, asyncio's."""
    caplog.set_level(logging.DEBUG)
    for name in ("mailkit_async", "httpx", "httpcore", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog.records


# -- the failure classes --------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """How to make one class of failure: what the server does and which error follows."""

    behaviour: Callable[[str], Reply | Action | None]  # of the protocol; None: no server
    error: type[mk.MailkitError]
    options: tuple[tuple[str, object], ...] = ()


_BAD_FRAMING = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 9\r\n\r\nhello"
FAILURES: dict[str, Failure] = {
    "connect refused": Failure(lambda _: None, mk.ConnectError),
    "dropped": Failure(lambda _: Action.DROP, mk.ConnectionDroppedError),
    "read timeout": Failure(
        lambda _: Action.HANG, mk.RequestTimeoutError, (("timeout", 0.15),)
    ),
    "deadline": Failure(
        lambda _: Action.HANG,
        mk.RequestTimeoutError,
        (("retry", mk.RetryPolicy(max_attempts=1, deadline=0.15)),),
    ),
    "http 500": Failure(lambda _: Reply(500, body=b"oops"), mk.HTTPStatusError),
    "http 503 retried": Failure(
        lambda _: Reply(503, (("Retry-After", "0"),), b"busy"),
        mk.HTTPStatusError,
        (("retry", mk.RetryPolicy(max_attempts=2, initial_backoff=0)),),
    ),
    "malformed answer": Failure(
        lambda _: Reply(200, (("Content-Type", "text/html"),), b"<html>down</html>"),
        mk.MalformedResponseError,
    ),
    "bad framing": Failure(
        lambda _: Reply(raw=_BAD_FRAMING, close=True), mk.MalformedResponseError
    ),
    "cut short": Failure(
        lambda _: Reply(200, (("Content-Length", "100"),), b'{"error":', close=True),
        mk.ConnectionDroppedError,
    ),
    "too large": Failure(
        lambda _: Reply(200, body=b"x" * 2048), mk.ResponseTooLargeError,
        (("max_response_bytes", 1024),),
    ),
    "unauthorized": Failure(lambda p: UNAUTHORIZED[p], mk.AuthenticationError),
}


def secret_client(
    base_url: str, *, engine: str = "builtin", protocol: str = "json", **options: Any
) -> mk.MailkitClient:
    """A client holding SECRET as its md5, for `base_url` through `engine`."""
    return mk.MailkitClient(
        CLIENT_ID,
        SECRET,
        protocol=protocol,  # type: ignore[arg-type]
        engine=engine,  # type: ignore[arg-type]
        base_url=base_url,
        **options,
    )


@asynccontextmanager
async def client_facing(
    failure: Failure, engine: str, protocol: str
) -> AsyncIterator[tuple[mk.MailkitClient, Any]]:
    options: dict[str, Any] = {"timeout": 5.0, "retry": mk.RetryPolicy(max_attempts=1)}
    options.update(failure.options)
    async with serve_loopback() as server:
        behaviour = failure.behaviour(protocol)
        if behaviour is None:
            base_url = f"http://127.0.0.1:{closed_port()}"
        else:
            server.default = behaviour
            base_url = server.base_url
        async with secret_client(base_url, engine=engine, protocol=protocol, **options) as client:
            yield client, server


CALLS: dict[str, Callable[[mk.MailkitClient], Awaitable[object]]] = {
    "wipe": lambda client: client.wipe(ADDRESS),
    "call": lambda client: client.call("mailkit.email.wipe", {"email": ADDRESS}),
    "revalidate unsafe": lambda client: client.revalidate(ADDRESS, agreement=False),
}


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
@pytest.mark.parametrize("engine", ["builtin", "httpx"])
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("method", list(CALLS))
async def test_failing_calls_keep_the_md5_out_of_every_frame(
    failure: str, engine: str, protocol: str, method: str, records: list[logging.LogRecord]
) -> None:
    """Connect, drop, timeouts, 5xx, malformed, framing, size, auth: nothing readable."""
    case = FAILURES[failure]
    async with client_facing(case, engine, protocol) as (client, server):
        error = await failure_of(CALLS[method](client))
        if method == "revalidate unsafe" and isinstance(error, mk.OutcomeUnknownError):
            assert isinstance(error.__cause__, case.error)
        else:
            assert isinstance(error, case.error), repr(error)
        if case.behaviour(protocol) is not None:
            # The md5 did go out: the API needs it. Only what stays behind must not show it.
            assert SECRET.encode() in server.requests[0].body
    assert_clean(error, records)


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
@pytest.mark.parametrize("engine", ["builtin", "httpx"])
async def test_batch_outcome_errors_keep_the_md5_out(
    engine: str, protocol: str, records: list[logging.LogRecord]
) -> None:
    """An error handed back in an Outcome carries frames too: they are clean."""
    async with client_facing(FAILURES["dropped"], engine, protocol) as (client, _):
        errors = [o.error async for o in client.wipe_many([ADDRESS, 12345678]) if o.error]
    assert len(errors) == 2
    for error in errors:
        assert_clean(error, records)


# -- invalid arguments: refused before sending, frames clean --------------------------------


def _deep(levels: int) -> object:
    value: object = "leaf"
    for _ in range(levels):
        value = [value]
    return value


_CYCLE: list[object] = []
_CYCLE.append(_CYCLE)
BAD_PARAMS: dict[str, object] = {
    "nan": float("nan"),
    "infinity": float("-inf"),
    "lone surrogate": "a\ud800b",
    "nul": "a\x00b",
    "deep": _deep(5000),
    "cycle": _CYCLE,
    "object": object(),
    "huge int": 10**5000,  # more digits than str() writes: beyond JSON, far beyond <i8>
    "aware datetime": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
    "non-str key": {1: "x"},
    "set": {"a", "b"},
}
#: Values one protocol carries and the other cannot.
BAD_FOR = {
    "json": {"bytes": b"raw", "datetime": datetime.datetime(2024, 1, 1)},
    "xmlrpc": {"int beyond 64 bits": 2**64, "bell": "a\x07b", "U+FFFE": "\ufffe"},
}


@pytest.mark.parametrize(
    ("protocol", "bad"),
    [("json", bad) for bad in [*BAD_PARAMS, *BAD_FOR["json"]]]
    + [("xmlrpc", bad) for bad in [*BAD_PARAMS, *BAD_FOR["xmlrpc"]]],
)
@pytest.mark.parametrize("engine", ["builtin", "httpx"])
async def test_invalid_arguments_keep_the_md5_out(
    bad: str, engine: str, protocol: str, records: list[logging.LogRecord]
) -> None:
    """Refused in the codec or before it: nothing sent, nothing readable in the frames."""
    value = BAD_PARAMS[bad] if bad in BAD_PARAMS else BAD_FOR[protocol][bad]
    function = "mailkit.custom.thing"
    # Named for JSON; a positional list for XML-RPC (the function's order is unknown).
    given: Any = {"a": {"b": [value]}} if protocol == "json" else ["x", {"b": [value]}]
    async with client_facing(FAILURES["http 500"], engine, protocol) as (client, server):
        error = await failure_of(client.call(function, given))
        assert isinstance(error, mk.InvalidArgumentError)
        assert server.requests == []
    assert_clean(error, records)


async def test_constructor_failures_keep_the_md5_out(
    monkeypatch: pytest.MonkeyPatch, records: list[logging.LogRecord]
) -> None:
    """A bad option next to a good md5, or a bad md5, leaves no frame showing it."""
    monkeypatch.delenv("MAILKIT_CLIENT_ID", raising=False)
    attempts: list[Callable[[], object]] = [
        lambda: mk.MailkitClient(CLIENT_ID, SECRET, timeout="soon"),  # type: ignore[arg-type]
        lambda: mk.MailkitClient(CLIENT_ID, SECRET, base_url="ftp://x"),
        lambda: mk.MailkitClient(CLIENT_ID, SECRET, max_concurrency=0),
        lambda: mk.MailkitClient(CLIENT_ID, SECRET, protocol="soap"),  # type: ignore[arg-type]
        lambda: mk.MailkitClient(CLIENT_ID, SECRET, no_such_option=1),  # type: ignore[call-arg]
        lambda: mk.MailkitClient(None, SECRET),
        lambda: mk.MailkitClient(CLIENT_ID, SECRET + "\x00"),
        lambda: mk.MailkitClient(CLIENT_ID, SECRET + "\ud800"),
        lambda: mk.MailkitClient(CLIENT_ID, SECRET.encode()),  # type: ignore[arg-type]
        lambda: Credentials(CLIENT_ID, " " + SECRET + "\n\x7f"),
        lambda: Credentials(None, SECRET),  # type: ignore[arg-type]
        lambda: Credentials(CLIENT_ID + "\x00", SECRET),
        lambda: MailkitEmulator(CLIENT_ID, SECRET, allowed_ips="127.0.0.1"),
        lambda: MailkitEmulator(CLIENT_ID, SECRET, auto_create="yes"),  # type: ignore[arg-type]
    ]
    for attempt in attempts:
        with pytest.raises(mk.MailkitError) as info:
            attempt()
        assert_clean(info.value, records)


async def test_environment_md5_stays_out_of_frames(
    monkeypatch: pytest.MonkeyPatch, records: list[logging.LogRecord]
) -> None:
    """The md5 read from MAILKIT_CLIENT_MD5 is no more visible than a passed one."""
    monkeypatch.setenv("MAILKIT_CLIENT_MD5", SECRET)
    monkeypatch.delenv("MAILKIT_CLIENT_ID", raising=False)
    with pytest.raises(mk.MissingCredentialsError) as info:
        mk.MailkitClient()
    assert_clean(info.value, records)
    with pytest.raises(mk.InvalidArgumentError) as info2:
        mk.MailkitClient(CLIENT_ID, retry="x")  # type: ignore[arg-type]
    assert_clean(info2.value, records)


# -- the in-process emulator -----------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
@pytest.mark.parametrize("kind", ["drop_before", "drop_after", "truncate", "http_503"])
async def test_emulator_faults_keep_the_md5_out(
    protocol: str, kind: str, records: list[logging.LogRecord]
) -> None:
    """Mounted in-process, the emulator's own frames are in the chain: they are clean too."""
    emulator = MailkitEmulator(CLIENT_ID, SECRET)
    emulator.add_recipient(ADDRESS)
    emulator.faults = Faults(**{kind: 1.0})
    async with mk.MailkitClient(
        CLIENT_ID,
        SECRET,
        protocol=protocol,  # type: ignore[arg-type]
        transport=emulator.transport(),
        retry=mk.RetryPolicy(max_attempts=1),
    ) as client:
        with pytest.raises(mk.TransportError) as info:
            await client.wipe(ADDRESS)
    assert emulator.calls == [(protocol, "mailkit.email.wipe")]
    assert_clean(info.value, records)


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
async def test_loopback_emulator_failures_keep_the_md5_out(
    protocol: str, records: list[logging.LogRecord]
) -> None:
    """The emulator over loopback (`serve`), faults on: both engines' errors are clean."""
    emulator = MailkitEmulator(CLIENT_ID, SECRET)
    emulator.add_recipient(ADDRESS)
    emulator.faults = Faults(drop_after=1.0)
    async with serve(emulator) as server:
        for engine in ("builtin", "httpx"):
            once = mk.RetryPolicy(max_attempts=1)
            async with secret_client(
                server.base_url, engine=engine, protocol=protocol, retry=once
            ) as client:
                with pytest.raises(mk.ConnectionDroppedError) as info:
                    await client.wipe(ADDRESS)
            assert_clean(info.value, records)


# -- the values themselves -------------------------------------------------------------------


def test_the_encoded_body_hides_itself_all_the_way_down() -> None:
    """The body a codec returns is a SecretBytes: every way to show it is redacted."""
    credentials = Credentials(CLIENT_ID, SECRET)
    for codec in (mk.JsonCodec(), mk.XmlRpcCodec()):
        body = codec.encode_call("mailkit.email.wipe", {"email": ADDRESS}, credentials)
        assert isinstance(body, SecretBytes)
        assert SECRET.encode() in body  # the real bytes, for the wire
        for shown in (repr(body), str(body), f"{body}", f"{body!r}", "%s %r" % (body, body)):  # noqa: UP031
            assert not leaks(shown), shown
        assert not leaks(repr([body, (body,), {"k": body}]))
        assert copy.copy(body) is body
        assert copy.deepcopy(body) is body
        with pytest.raises(TypeError, match="secret"):
            pickle.dumps(body)
    assert not leaks(repr(credentials.md5))
    assert not leaks(repr([credentials.md5]))
    assert credentials.md5 == SECRET


def test_httpx_keeps_the_redacted_body_in_its_request() -> None:
    """What httpx stores as the request's stream is the SecretBytes itself (no plain copy
    shows in a local); its `content`, a plain copy httpx makes, is behind a clean repr."""
    credentials = Credentials(CLIENT_ID, SECRET)
    body = mk.JsonCodec().encode_call("mailkit.email.wipe", {"email": ADDRESS}, credentials)
    request = httpx.Request("POST", "http://127.0.0.1/json.fcgi", content=body)
    chunks = list(request.stream)  # type: ignore[arg-type]
    assert len(chunks) == 1
    assert isinstance(chunks[0], SecretBytes)
    assert not leaks(repr(request))
    assert not leaks(repr(request.stream))


async def test_the_md5_still_reaches_the_server_intact() -> None:
    """Redaction changes only how values print: the emulator authorizes the call."""
    emulator = MailkitEmulator(CLIENT_ID, SECRET)
    jane = emulator.add_recipient(ADDRESS)
    async with serve(emulator) as server:
        for protocol in ("json", "xmlrpc"):
            for engine in ("builtin", "httpx"):
                async with secret_client(
                    server.base_url, engine=engine, protocol=protocol
                ) as client:
                    await client.wipe(jane.id_email)
    assert emulator.wipe_requests == {jane.id_email: 4}


async def test_a_cancelled_call_leaves_nothing_readable(records: list[logging.LogRecord]) -> None:
    """Cancellation mid-exchange (a caller's timeout) passes through the same frames."""
    async with serve_loopback(Action.HANG) as server:
        for engine in ("builtin", "httpx"):
            async with secret_client(server.base_url, engine=engine) as client:
                task = asyncio.ensure_future(client.wipe(ADDRESS))
                await server.seen_request.wait()
                server.seen_request.clear()
                task.cancel()
                error = await cancellation_of(task)
            assert_clean(error, records)


# -- the one place httpx holds a plain copy: while writing ----------------------------------


def frames_showing_the_md5(error: BaseException) -> set[str]:
    """`module.function:local` of every frame, in every chain link, whose local shows it."""
    found = set()
    for link in chain(error):
        tb = link.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            for name, value in frame.f_locals.items():
                if leaks(_safe_repr(value)):
                    module = frame.f_globals.get("__name__", "?")
                    found.add(f"{module}.{frame.f_code.co_qualname}:{name}")
            tb = tb.tb_next
    return found


#: Where httpcore holds the plain copy h11 makes (`b"".join`) of what it writes. The stream
#: under it (`_httpx_network`) hands the bytes to the transport and returns: while the write
#: waits for the socket, no frame of the library's holds them.
HTTPX_WRITE_FRAMES = {
    "httpcore._async.http11.AsyncHTTP11Connection._send_event:bytes_to_send",
}


def _more_than_the_kernel_buffers() -> int:
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as limits:  # min, default, max
            largest = int(limits.read().split()[2])
    except (OSError, ValueError, IndexError):
        largest = 4 * 1024 * 1024  # Linux's usual maximum
    return largest + 2 * 1024 * 1024


@asynccontextmanager
async def not_reading() -> AsyncIterator[str]:
    """A server that reads a request's head and then nothing more: the body's write stalls."""

    writers: list[asyncio.StreamWriter] = []
    done = asyncio.Event()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.readuntil(b"\r\n\r\n")
        await done.wait()
        writer.transport.abort()

    listener = socket.socket()
    # A small receive window (inherited by accepted sockets) fills with a small body.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.start_server(accept, sock=listener)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        done.set()
        server.close()
        await server.wait_closed()
        for writer in writers:
            writer.transport.abort()
        await asyncio.sleep(0)


@pytest.mark.parametrize("engine", ["builtin", "httpx"])
async def test_a_write_timeout_shows_the_md5_only_inside_httpcore(
    engine: str, records: list[logging.LogRecord]
) -> None:
    """A body too big to leave (the server stopped reading) times out while being written.

    The built-in engine's frames are clean. httpx's path writes through h11, which joins what
    it sends into plain bytes: httpcore's frame that holds them, and only it, shows the md5
    (documented in the README). No smaller call can fail in the middle of its write.
    """
    blob = "x" * _more_than_the_kernel_buffers()
    async with not_reading() as base_url, mk.MailkitClient(
        CLIENT_ID,
        SECRET,
        engine=engine,  # type: ignore[arg-type]
        base_url=base_url,
        timeout=httpx.Timeout(2.0, write=0.3),
        retry=mk.RetryPolicy(max_attempts=1),
    ) as client:
        error = await failure_of(
            client.call("mailkit.custom.thing", {"blob": blob}, idempotent=True)
        )
    del blob
    assert isinstance(error, mk.RequestTimeoutError), repr(error)
    shown = frames_showing_the_md5(error)
    if engine == "builtin":
        assert shown == set()
        assert_clean(error, records)
    else:
        assert shown, "the write did not fail inside httpcore: the test proves nothing"
        assert shown == HTTPX_WRITE_FRAMES, shown
        # Our own error, its message and pickle stay clean even then.
        for shown_text in (repr(error), str(error)):
            assert not leaks(shown_text)
