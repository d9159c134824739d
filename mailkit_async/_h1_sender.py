"""`H1Sender`: the default engine, a lean HTTP/1.1 keep-alive client on asyncio protocols.

Why not httpx here: httpcore 1.0's pool scans every connection on every request and release
(encode/httpcore#1035), so a stock `httpx.AsyncClient` spends about 1.8 ms of CPU per call at
50 in flight on our reference machine, ten times aiohttp. This engine does only what the
dispatcher needs, one POST and one whole answer per exchange, and keeps the pool O(1):
a stack of idle connections. Parsing is strict and bounded (`_h1_parse`); TLS, timeouts and
error classes match the httpx engine, which stays available for proxies and custom transports.
"""

from __future__ import annotations

import asyncio
import math
import re
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Final

import attrs
import httpx

from ._errors import (
    ConfigurationError,
    ConnectError,
    ConnectionDroppedError,
    MailkitError,
    MalformedResponseError,
    RequestTimeoutError,
)
from ._gate import Gate
from ._h1_parse import FramingError, IncompleteAnswerError, ResponseParser
from ._http import HttpReply
from ._keepalive import DEFAULT_KEEPALIVE_EXPIRY, IdleLimit, keep_for
from ._readable import never_readable, readability_check
from ._records import record_maker

__all__ = ["H1Sender"]

#: Bodies up to this size go out in one write with the head (one syscall, one TCP segment);
#: larger ones are written apart, uncopied.
_COALESCE_LIMIT: Final = 64 * 1024
#: New connections tried for one request when the server closes them before it is written.
_CONNECT_ATTEMPTS: Final = 3
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE: Final = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
#: HttpReply's constructor without attrs' __init__ (one per call; see `record_maker`).
_reply: Final = record_maker(HttpReply)
#: Set by the sender itself; a caller's copy would contradict the framing.
_RESERVED: Final = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class _DroppedError(Exception):
    """The connection ended before a complete answer."""


class _TimedOutError(Exception):
    """The read or write timeout passed with the peer silent."""


@attrs.frozen
class _Target:
    """One URL, parsed once: where to connect and the request head to send there."""

    origin: tuple[str, str, int]
    host: str
    port: int
    tls: bool
    head: bytes  # everything before the Content-Length value


class _Origin(IdleLimit):
    """One origin's idle connections, and how long its server keeps one (`_keepalive`).

    The connection sees its server close it while idle, as it happens, so the time it
    was idle is learned exactly. Idle connections are retired lazily, when next taken, so
    the ones left in the pool go on telling the server's current timeout.
    """

    __slots__ = ("idle",)

    def __init__(self) -> None:
        super().__init__()
        self.idle: list[_Connection] = []


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection carrying one exchange at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, origin: _Origin) -> None:
        self._loop = loop
        self.origin = origin
        self._transport: asyncio.Transport | None = None
        self._readable: Callable[[], bool] = never_readable
        self._parser: ResponseParser | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._watchdog: _Watchdog | None = None
        self._read_timeout: float | None = None
        self._deadline = math.inf  # loop time
        self.expires = math.inf  # loop time; the watchdog reads it
        self._paused = False
        self._writing = False  # the request is not all handed to the kernel yet
        self.closed = False
        self.idle_since = math.inf  # time.monotonic(), set when it goes back to the pool
        self.idle_until = math.inf

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._readable = readability_check(transport.get_extra_info("socket"))

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            # Bytes nobody asked for, on an idle connection: its framing is lost.
            self.close()
            return
        try:
            done = parser.feed(data)
        except (FramingError, MailkitError) as exc:
            self._settle(exc)
            return
        if done:
            self._settle(None)
        elif self._read_timeout is not None and not self._writing:
            # The read timeout counts silence, as httpx's does, not the whole answer's time.
            self.expires = min(self._deadline, self._loop.time() + self._read_timeout)

    def eof_received(self) -> bool:
        self.closed = True  # whatever happens to this exchange, no other follows it
        parser = self._parser
        if parser is None:
            age = time.monotonic() - self.idle_since
            if age >= 0:
                self.origin.closed_after(age)
        else:
            try:
                parser.feed_eof()
            except IncompleteAnswerError as exc:
                self._settle(exc)
            else:
                self._settle(None)
        return False  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._settle(_DroppedError("connection closed before the answer was complete"))

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._writing:
            # The request is out: from here the read timeout counts.
            self._writing = False
            self._start_reading()
            if self._watchdog is not None:
                self._watchdog.watch(self)

    # --- used by the pool ---------------------------------------------------------------

    async def exchange(
        self,
        head: bytes,
        length: bytes,
        body: bytes,
        parser: ResponseParser,
        limits: httpx.Timeout,
        deadline: float,
        watchdog: _Watchdog,
    ) -> None:
        """Send one request and wait until `parser` holds the whole answer, or `deadline`.

        The answer is read while the request is still being written: a server may answer
        early (413) and stop reading, and that answer then ends the exchange.
        """
        transport = self._transport
        assert transport is not None
        waiter = self._waiter = self._loop.create_future()
        self._parser = parser
        self._deadline = deadline
        self._read_timeout = limits.read
        self._watchdog = watchdog
        try:
            if len(body) <= _COALESCE_LIMIT:
                # One write: one syscall, one TCP segment, one TLS record (writelines would make
                # one record per piece). The joined copy is plain bytes, but never a local here;
                # the transport's write keeps or sends it and reports socket failures through
                # connection_lost, not by raising.
                transport.write(b"".join((head, length, body)))
            else:
                transport.write(head + length)
                transport.write(body)
            if self._paused:
                # The kernel's buffers are full and the rest waits in the transport: the
                # write timeout runs until it drains (resume_writing), bounded by the deadline.
                self._writing = True
                self.expires = deadline
                if limits.write is not None:
                    self.expires = min(deadline, self._loop.time() + limits.write)
            else:
                self._start_reading()
            watchdog.watch(self)
            await waiter
        finally:
            watchdog.unwatch(self)
            self._parser = None
            self._waiter = None
            self._watchdog = None

    def _start_reading(self) -> None:
        self.expires = self._deadline
        if self._read_timeout is not None:
            self.expires = min(self._deadline, self._loop.time() + self._read_timeout)

    @property
    def usable(self) -> bool:
        """Open, and not already being closed by either side."""
        transport = self._transport
        return not self.closed and transport is not None and not transport.is_closing()

    @property
    def reusable(self) -> bool:
        """Usable, and every byte of the last request handed to the kernel."""
        transport = self._transport
        return (
            self.usable
            and not self._writing
            and transport is not None
            and not transport.get_write_buffer_size()
        )

    def sound(self) -> bool:
        """Fit to carry the next request: open, with nothing from the server waiting, and
        idle for less than its server is known to keep a connection (`_keepalive`).

        Asks the kernel, not only the loop's callbacks: a loop that was busy has not yet
        seen a FIN or stray bytes that the kernel already holds.
        """
        now = time.monotonic()
        return (
            self.usable
            and now < self.idle_until
            and now - self.idle_since < self.origin.keep_for
            and not self.readable()
        )

    def readable(self) -> bool:
        """Whether the socket holds bytes or an end of stream not yet read: an idle
        connection like that was closed by the server, or carries bytes nobody asked for.
        Asks the kernel, so it holds even while the event loop has been too busy to look.
        """
        return self._readable()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection at once: its exchange was interrupted mid-way."""
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def time_out(self, now: float) -> None:
        """The watchdog found this exchange past its timeout or the call's deadline."""
        if now >= self._deadline:
            self._settle(_TimedOutError("the call's deadline passed"))
        elif self._writing:
            self._settle(_TimedOutError("write timed out"))
        else:
            self._settle(_TimedOutError("no answer within the read timeout"))

    def _settle(self, error: Exception | None) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)




class _Watchdog:
    """One timer for every exchange in flight, rather than one armed and cancelled per call.

    A timer per exchange costs a heap push with Python-level comparisons on every call, a few
    percent of a call's CPU here. An exchange only states when it expires; the watchdog keeps
    one timer at the earliest expiry and, when it fires, times out what is due and re-arms.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._active: set[_Connection] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._at = math.inf

    def watch(self, connection: _Connection) -> None:
        self._active.add(connection)
        if connection.expires < self._at:
            self._arm(connection.expires)

    def unwatch(self, connection: _Connection) -> None:
        # The timer stays: when it fires with nothing due it re-arms or lapses. Cheaper than
        # moving it on every call.
        self._active.discard(connection)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._at = math.inf

    def _arm(self, at: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._at = at
        self._handle = self.loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._at = math.inf
        now = self.loop.time()
        earliest = math.inf
        for connection in list(self._active):
            if connection.expires <= now:
                connection.time_out(now)
            elif connection.expires < earliest:
                earliest = connection.expires
        if earliest != math.inf:
            self._arm(earliest)


class H1Sender:
    """A `Sender` over its own pool of HTTP/1.1 keep-alive connections.

    Up to `max_connections` exchanges run at once (more wait up to the pool timeout); idle
    connections are reused last-in first-out, so a steady batch keeps the same few warm.
    """

    name: Final = "builtin"

    def __init__(
        self,
        *,
        max_connections: int,
        timeout: httpx.Timeout,
        max_body: int,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
    ) -> None:
        self._timeout = timeout
        self._max_body = max_body
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._slots = Gate(max_connections)
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._all: set[_Connection] = set()
        self._targets: dict[tuple[str, tuple[tuple[str, str], ...]], _Target] = {}
        self._watchdog: _Watchdog | None = None
        self._closed = False

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        deadline: float | None = None,
    ) -> HttpReply:
        if self._closed:
            raise ConfigurationError("this HTTP sender is closed")
        key = (url, tuple(headers.items()))
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = _parse_target(url, headers)
        # Head and body stay apart here: the body is SecretBytes (it holds the md5), a joined
        # copy would be plain bytes in this frame for any traceback to show.
        length = b"%d\r\n\r\n" % len(body)
        loop = asyncio.get_running_loop()
        watchdog = self._watchdog
        if watchdog is None or watchdog.loop is not loop:
            watchdog = self._watchdog = _Watchdog(loop)
        # The deadline arrives on the monotonic clock; timers run on the loop's.
        due = math.inf if deadline is None else loop.time() + (deadline - time.monotonic())

        if not self._slots.take():
            await self._wait_for_slot(loop, due)
        try:
            connection = self._reuse(target.origin)
            if connection is None:
                connection = await self._connect_sound(target, loop, due)
            parser = ResponseParser(self._max_body)
            try:
                await connection.exchange(
                    target.head, length, body, parser, self._timeout, due, watchdog
                )
                reply = _reply(parser.status, parser.headers, parser.body())
            except BaseException as exc:
                # Failed, timed out or cancelled mid-exchange: what is left on the wire of
                # this connection is unknown, so it never carries another request.
                connection.abort()
                self._all.discard(connection)
                raise _translate(exc) from None
            self._release(connection, parser)
            return reply
        finally:
            self._slots.release()

    async def _wait_for_slot(
        self, loop: asyncio.AbstractEventLoop, due: float
    ) -> None:
        limit = self._timeout.pool
        at = due if limit is None else min(due, loop.time() + limit)
        try:
            async with asyncio.timeout_at(None if at == math.inf else at):
                await self._slots.wait()
        except TimeoutError:
            reason = "the call's deadline passed" if at == due else "no free connection"
            raise RequestTimeoutError(
                f"{reason} while waiting for a connection", request_sent=False
            ) from None

    async def aclose(self) -> None:
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.close()
        for connection in self._all:
            connection.close()
        self._all.clear()
        self._origins.clear()

    def _reuse(self, key: tuple[str, str, int]) -> _Connection | None:
        origin = self._origins.get(key)
        if origin is None or not origin.idle:
            return None
        idle = origin.idle
        while idle:
            connection = idle.pop()
            if connection.sound():
                return connection
            connection.abort()
            self._all.discard(connection)
        return None

    async def _connect_sound(
        self, target: _Target, loop: asyncio.AbstractEventLoop, due: float
    ) -> _Connection:
        """A new connection that its server has not already closed as the request goes out.

        A server's idle timer may run from the moment it accepts a connection (aiohttp's
        does): a process that got no CPU for longer than that after its connect completed
        would write into a connection the server has closed, and lose the call. (Over TLS a
        readable socket says nothing: the server's session tickets follow the handshake.)
        """
        for _ in range(_CONNECT_ATTEMPTS):
            connection = await self._connect(target, loop, due)
            if target.tls or (connection.usable and not connection.readable()):
                return connection
            connection.abort()
            self._all.discard(connection)
        raise ConnectError("the server closed each new connection before a request was sent")

    def _release(self, connection: _Connection, parser: ResponseParser) -> None:
        if not connection.reusable:
            # An answer that came before the whole request was out (a 413) leaves the rest
            # of the request unsent: nothing can follow it on this connection.
            connection.abort()
            self._all.discard(connection)
            return
        if not parser.keep_alive or self._closed:
            connection.close()
            self._all.discard(connection)
            return
        expiry = self._keepalive_expiry
        if parser.keep_alive_timeout is not None:
            expiry = min(expiry, keep_for(parser.keep_alive_timeout))
        now = time.monotonic()
        connection.idle_since = now
        connection.idle_until = now + expiry
        connection.origin.idle.append(connection)

    async def _connect(
        self, target: _Target, loop: asyncio.AbstractEventLoop, due: float
    ) -> _Connection:
        context = self._context() if target.tls else None
        origin = self._origins.get(target.origin)
        if origin is None:
            origin = self._origins[target.origin] = _Origin()
        limit = self._timeout.connect
        at = due if limit is None else min(due, loop.time() + limit)
        try:
            async with asyncio.timeout_at(None if at == math.inf else at):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop, origin),
                    target.host,
                    target.port,
                    ssl=context,
                    server_hostname=target.host if context is not None else None,
                )
        except TimeoutError:
            reason = "the call's deadline passed" if at == due else "connect timed out"
            raise RequestTimeoutError(reason, request_sent=False) from None
        except OSError as exc:  # refused, unreachable, DNS, TLS verification (ssl.SSLError)
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise ConnectError(message) from exc
        self._all.add(connection)
        return connection

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            # httpx's own default: certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR if set.
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context


def _translate(exc: BaseException) -> BaseException:
    """The library error for an exchange's failure; anything else (cancellation) unchanged.

    A connection that ends mid-answer may have carried a request the server acted on; an
    answer that arrived whole but is refused is a protocol error: the request reached the
    server, and sending it again would only be refused again.
    """
    if isinstance(exc, _DroppedError | IncompleteAnswerError):
        return ConnectionDroppedError(str(exc))
    if isinstance(exc, FramingError):
        return MalformedResponseError(f"malformed HTTP answer: {exc}")
    if isinstance(exc, _TimedOutError):
        return RequestTimeoutError(str(exc), request_sent=True)
    return exc


def _parse_target(url: str, headers: Mapping[str, str]) -> _Target:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"invalid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"invalid URL {url!r}: need http:// or https:// and a host")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("credentials in the URL are not supported")
    tls = parts.scheme == "https"
    host = parts.hostname
    port = port if port is not None else (443 if tls else 80)
    host_header = parts.netloc
    if port == (443 if tls else 80) and parts.port is not None:
        host_header = parts.netloc.rsplit(":", 1)[0]
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if not path.isascii() or any(c in path for c in " \r\n\t"):
        raise ConfigurationError(f"invalid URL path {path!r}")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host_header}"]
    for name, value in headers.items():
        if _TOKEN.fullmatch(name) is None or _FIELD_VALUE.fullmatch(value) is None:
            raise ConfigurationError(f"invalid HTTP header {name!r}")
        if name.lower() not in _RESERVED:
            lines.append(f"{name}: {value}")
    lines.append("Content-Length: ")
    head = "\r\n".join(lines).encode("latin-1")
    return _Target((parts.scheme, host, port), host, port, tls, head)
