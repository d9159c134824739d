"""The one loopback HTTP/1.1 server core: under the emulator's `serve`, the test suite's
scripted server and the benchmark server.

An `asyncio.Protocol` per connection, so that a request costs no task and no stream: it
splits requests (keep-alive, pipelining, Content-Length bodies), refuses what it does not
support with an HTTP error and a hang-up, and hands each request to a handler. The handler
answers by writing on the `Connection`, either at once (it returns None: the fast path) or
from a coroutine it returns, which holds the connection's next request until it ends. That is
how faults happen on a real socket: a delay, a hang-up, a body cut short, a stream that never
ends. Shutdown aborts every connection and awaits every handler still running.
"""

from __future__ import annotations

import asyncio
import http
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

__all__ = ["Connection", "Handler", "HeadHandler", "HttpServer", "Request"]

DEFAULT_MAX_HEAD: Final = 64 * 1024


class Request:
    """One request. `headers` has lower-case names; a repeated header keeps its last value."""

    __slots__ = ("_fields", "_headers", "body", "keep_alive", "method", "target", "version")

    def __init__(
        self, method: str, target: str, version: str, fields: str, body: bytes, keep_alive: bool
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.body = body
        self.keep_alive = keep_alive  # what the client asked for
        self._fields = fields  # the header lines, each after its CRLF
        self._headers: dict[str, str] | None = None

    @property
    def headers(self) -> Mapping[str, str]:
        # Built when asked for: serving a request needs only the framing headers.
        if self._headers is None:
            headers: dict[str, str] = {}
            for line in self._fields.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.lower()] = value.strip()
            self._headers = headers
        return self._headers


#: Answers one request by writing on the connection; a coroutine it returns is awaited
#: before the connection's next request is read.
Handler = Callable[[Request, "Connection"], Awaitable[None] | None]
#: Sees a request's head (its body not read yet, `body` empty); True takes the connection
#: over: nothing more is read from it (an answer before the body, say).
HeadHandler = Callable[[Request, "Connection"], bool]


class _RefusedError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class Connection(asyncio.Protocol):
    """One client connection, as the handler sees it: write, drain, close, wait."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._head: Request | None = None  # a request whose body is still coming
        self._needed = 0
        self._busy = False  # a handler's coroutine runs, or a head handler took over
        self._paused = False
        self._drained: asyncio.Future[None] | None = None
        self._closed: asyncio.Future[None] | None = None
        self._lost = False
        self._idle_timer: asyncio.TimerHandle | None = None
        self.peer_ip = ""

    # --- for handlers -------------------------------------------------------------------

    @property
    def server_closing(self) -> bool:
        """The server is shutting down: answer with `Connection: close`."""
        return self._server.closing

    def write(self, data: bytes) -> None:
        transport = self._transport
        if transport is not None and not self._lost and not transport.is_closing():
            transport.write(data)

    async def drain(self) -> None:
        """Wait while the client is not reading what was written (flow control)."""
        while self._paused and not self._lost:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained
        if self._lost:
            raise ConnectionResetError("the client left")

    def close(self) -> None:
        """Hang up once what was written is out: the client gets a FIN."""
        if self._transport is not None and not self._transport.is_closing():
            self._server.closes += 1
            self._transport.close()

    def abort(self) -> None:
        """Hang up at once, dropping whatever was not written yet."""
        if self._transport is not None and not self._transport.is_closing():
            self._server.closes += 1
            self._transport.abort()

    def pause_reading(self) -> None:
        """Stop reading what the client sends (it stalls once the buffers are full)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()

    async def wait_closed(self) -> None:
        """Until the client hangs up (or the server closes the connection)."""
        if self._lost:
            return
        if self._closed is None:
            self._closed = asyncio.get_running_loop().create_future()
        await self._closed

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self._transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer_ip = peer[0] if peer else ""
        self._server._opened(self)

    def data_received(self, data: bytes) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self._buffer += data
        if not self._busy:
            self._process()

    def eof_received(self) -> bool:
        self._set_closed()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._server._lost(self)
        self._set_closed()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if not self._busy and self._buffer:
            self._process()  # requests held back while the client was not reading answers

    # --- the requests -------------------------------------------------------------------

    def _process(self) -> None:
        """Serve every complete request in the buffer, in order, until one needs a task."""
        buffer = self._buffer
        server = self._server
        while buffer and not self._lost and not self._paused:
            head = self._head
            if head is None:
                end = buffer.find(b"\r\n\r\n")
                if end < 0 or end > server.max_head:
                    if len(buffer) > server.max_head:
                        self._refuse(_RefusedError(431, "Request Header Fields Too Large"))
                    return
                try:
                    head, self._needed = _parse_head(buffer[:end], server.max_body)
                except _RefusedError as refusal:
                    self._refuse(refusal)
                    return
                del buffer[: end + 4]
                if server.head_handler is not None and server.head_handler(head, self):
                    self._busy = True  # the head handler has the connection now
                    self.pause_reading()
                    return
                self._head = head
            needed = self._needed
            if needed:
                if len(buffer) < needed:
                    return  # the body is still coming
                head.body = bytes(buffer[:needed])
                del buffer[:needed]
            self._head = None
            pending = server.handler(head, self)
            if pending is not None:
                self._busy = True
                task = asyncio.ensure_future(self._finish(head, pending))
                server._tasks.add(task)
                task.add_done_callback(server._tasks.discard)
                return
            if not head.keep_alive or server.closing:
                self.close()
                return
        if not buffer and server.idle_timeout is not None:
            self._went_idle()

    def _went_idle(self) -> None:
        """Between requests: a server with an idle timeout starts counting (as uvicorn does)."""
        timeout = self._server.idle_timeout
        if timeout is not None and not self._busy and not self._lost:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            self._idle_timer = asyncio.get_running_loop().call_later(timeout, self.close)

    async def _finish(self, request: Request, pending: Awaitable[None]) -> None:
        try:
            await pending
        except (ConnectionError, ssl.SSLError):
            pass  # the client left mid-answer: nobody to answer
        finally:
            self._busy = False
        if self._lost:
            return
        if not request.keep_alive or self._server.closing:
            self.close()
        elif self._buffer:
            self._process()
        else:
            self._went_idle()

    def _refuse(self, refusal: _RefusedError) -> None:
        # As the emulator always answered: plain text, then a hang-up.
        body = refusal.text.encode() + b"\n"
        head = (
            f"HTTP/1.1 {refusal.status} {http.HTTPStatus(refusal.status).phrase}\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        self.write(head.encode("latin-1") + body)
        self._buffer.clear()
        self.close()

    def _set_closed(self) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)


#: Header lines, each after its CRLF: a name with no space at either end, a colon, a value.
_FIELDS: Final = re.compile(r"(?:\r\n[^:\s][^:\r\n]*+(?<!\s):[^\r\n]*+)*+")


def _parse_head(raw: bytearray, max_body: int | None) -> tuple[Request, int]:
    """A request head (without its blank line) and how many body bytes follow it.

    Checked whole by one regular expression and searched for the three headers that frame
    the request, rather than split into a dict field by field: the benchmark server must
    stay far faster than the clients it measures.
    """
    text = raw.decode("latin-1")
    end = text.find("\r\n")
    request_line, fields = (text, "") if end < 0 else (text[:end], text[end:])
    method, _, rest = request_line.partition(" ")
    target, _, version = rest.partition(" ")
    if version not in ("HTTP/1.1", "HTTP/1.0") or not target.startswith("/"):
        raise _RefusedError(400, "Bad Request")
    if fields and _FIELDS.fullmatch(fields) is None:
        raise _RefusedError(400, "Bad Request")
    lower = fields.lower()
    needed = 0
    at = lower.find("\r\ncontent-length:")
    if at >= 0:
        lengths = set(_values(fields, lower, "\r\ncontent-length:", at))
        if len(lengths) > 1:
            raise _RefusedError(400, "Bad Request")
        length = lengths.pop()
        if not (length.isascii() and length.isdigit()):
            raise _RefusedError(400, "Bad Request")
        needed = int(length)
        if max_body is not None and needed > max_body:
            raise _RefusedError(413, "Content Too Large")
    # Chunked bodies are not supported; 411 asks the client for a Content-Length instead.
    if "\r\ntransfer-encoding:" in lower or (at < 0 and method == "POST"):
        raise _RefusedError(411, "Length Required")
    at = lower.rfind("\r\nconnection:")  # the last one counts
    if at < 0:
        keep_alive = version == "HTTP/1.1"
    else:
        tokens = {
            token.strip().lower()
            for token in _values(fields, lower, "\r\nconnection:", at)[0].split(",")
        }
        keep_alive = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
    return Request(method, target, version, fields, b"", keep_alive), needed


def _values(fields: str, lower: str, key: str, at: int) -> list[str]:
    """The values of the `key` header lines from the one at `at` on (`key` lower-case, with
    its CRLF and colon)."""
    values = []
    while at >= 0:
        start = at + len(key)
        end = fields.find("\r\n", start)
        values.append(fields[start : end if end >= 0 else len(fields)].strip())
        at = lower.find(key, start)
    return values


class HttpServer:
    """A listening server; `start` it, read `base_url`, `close` it."""

    def __init__(
        self,
        handler: Handler,
        *,
        head_handler: HeadHandler | None = None,
        max_head: int = DEFAULT_MAX_HEAD,
        max_body: int | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        self.handler = handler
        self.idle_timeout = idle_timeout  # close a connection idle this long
        self.head_handler = head_handler
        self.max_head = max_head
        self.max_body = max_body
        self.closing = False
        self.connections_opened = 0
        self.closes = 0  # connections the server hung up on (refusals, handlers' choice)
        self.base_url = ""
        self._listeners: list[asyncio.Server] = []
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Future[None]] = set()

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
    ) -> int:
        """Listen on `host`:`port` (0: any free port); the port. May be called again."""
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(
            lambda: Connection(self), host, port, ssl=tls, backlog=1024
        )
        self._listeners.append(listener)
        bound_host, bound_port = listener.sockets[0].getsockname()[:2]
        if not self.base_url:
            bound_host = f"[{bound_host}]" if ":" in bound_host else bound_host
            self.base_url = f"{'https' if tls else 'http'}://{bound_host}:{bound_port}"
        return int(bound_port)

    async def close(self) -> None:
        """Stop listening, abort every connection, await every handler still running."""
        self.closing = True
        for listener in self._listeners:
            listener.close()  # first, so that no new connection slips in
        # Aborting makes every pending write or drain fail at once, so handlers end on
        # their own; cancelling is for those that wait on something else (a delay).
        for connection in list(self._connections):
            connection.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for listener in self._listeners:
            await listener.wait_closed()

    def _opened(self, connection: Connection) -> None:
        self.connections_opened += 1
        self._connections.add(connection)
        if self.closing:
            connection.abort()

    def _lost(self, connection: Connection) -> None:
        self._connections.discard(connection)
