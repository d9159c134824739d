"""The network backend the httpx engine's pool runs over: plain asyncio, each connection checked.

httpcore's own asyncio backend goes through anyio, whose `send` yields to the event loop
before it writes in some releases (4.4 does; 4.16 only when cancelled): between the moment
a caller last looked at a connection and the bytes reaching the kernel, a busy loop can
stretch that yield past a server's keep-alive timeout, and the request then meets the
server's close. Here the check and the transport's `write` run in one
synchronous step, as in the built-in engine: nothing else runs in between. Reads come
from what the protocol has buffered (without a trip through the loop when data is
there), and one waiter serves a read, a drain, and an answer that comes before the
request is all sent.

Exceptions are those of httpcore's asyncio backend (`httpcore.ConnectError`,
`ConnectTimeout`, `ReadError`, `ReadTimeout`, `WriteError`, `WriteTimeout`), for the same
causes, so httpx and the sender classify every failure as before.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
import typing
from collections import deque
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Final

import httpcore

from ._errors import MailkitError
from ._h1_parse import FramingError, ResponseParser
from ._keepalive import IdleLimit, keep_for
from ._readable import never_readable, readability_check

__all__ = ["NetworkBackend", "StaleConnectionError"]

_HTTP_1: Final = b"HTTP/1."
#: Unread bytes past which the socket is no longer read (resumed as they are taken).
_READ_HIGH_WATER: Final = 256 * 1024
#: How often a TLS write waiting for the socket looks at it (seconds).
_TLS_DRAIN_POLL: Final = 0.005


class StaleConnectionError(Exception):
    """A pooled connection was found closed before any byte of the request was written."""


class NetworkBackend(httpcore.AsyncNetworkBackend):
    """Connections over asyncio's own transports, each one a `_Connection`."""

    def __init__(self) -> None:
        self._limits: dict[tuple[str, int], IdleLimit] = {}

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface, as all below)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        limit = self._limits.get((host, port))
        if limit is None:
            limit = self._limits[host, port] = IdleLimit()
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        try:
            async with asyncio.timeout(timeout):
                # anyio's default: the next address is tried after 250 ms (RFC 8305).
                _, connection = await loop.create_connection(
                    lambda: _Connection(limit), host, port, local_addr=local,
                    happy_eyeballs_delay=0.25,
                )  # fmt: skip
            connection.set_options(socket_options)
        except OSError as exc:  # TimeoutError included, as httpcore maps them
            raise _connect_error(exc) from exc
        return connection

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover (no uds= here)
        limit = IdleLimit()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_unix_connection(lambda: _Connection(limit), path)
            connection.set_options(socket_options)
        except OSError as exc:
            raise _connect_error(exc) from exc
        return connection

    async def sleep(self, seconds: float) -> None:  # pragma: no cover (retries=0)
        await asyncio.sleep(seconds)


class _Written:
    """What `write` returns when the kernel took every byte: done, holding nothing."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that ends at once: `await` takes no trip through the loop


_WRITTEN: Final = _Written()


def _connect_error(exc: OSError) -> Exception:
    """httpcore's exception for a failed connect or TLS handshake (its backends' mapping)."""
    if isinstance(exc, TimeoutError):
        return httpcore.ConnectTimeout(exc)
    return httpcore.ConnectError(exc)


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


def _address(address: Any) -> Any:
    """A socket address as anyio gives it: IPv6 as (host, port), the scope ID in the host."""
    if isinstance(address, tuple) and len(address) == 4:
        host, port, _flow, scope = address
        return (f"{host}%{scope}" if scope else host, port)
    return address


class _Connection(asyncio.Protocol, httpcore.AsyncNetworkStream):
    """One connection: the asyncio protocol and the stream httpcore reads and writes.

    It says it is unusable once its server closed it or may be about to. httpcore asks
    `get_extra_info("is_readable")` of an idle connection before it hands it out (a
    readable idle connection was closed by its server, or holds bytes nobody asked for);
    this answers yes also once it has been idle as long as its server is known to keep
    one, or when bytes came after the last answer, and the first write of the next request
    asks again, in the same step as it writes.

    Each answer's framing is followed beside h11, by the built-in engine's parser without
    its body: it tells where the answer ends (the connection is idle from then on), the
    server's Keep-Alive timeout, and bytes beyond the answer, which h11 would keep and read
    as the answer to the next request.
    """

    def __init__(self, limit: IdleLimit) -> None:
        self._limit = limit
        self._transport: asyncio.Transport | None = None
        self._readable: Callable[[], bool] = never_readable
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._arrived = 0.0  # time.monotonic() of the last bytes in
        self._eof = False
        self._lost = False
        self._error: Exception | None = None  # what the connection was lost to, if anything
        self._closed = False  # by us
        self._raw: asyncio.Transport | None = None  # under TLS: the socket's transport
        self._paused = False  # writing: the transport holds bytes the kernel did not take
        self._reading_paused = False
        self._waiter: asyncio.Future[bool] | None = None  # True: woken; False: timed out
        self._fresh = True  # no request written yet
        self._framing: ResponseParser | None = None  # the answer being read, if any
        self._started = False  # its first bytes show HTTP/1.
        self._idle_since: float | None = None  # since its last answer was read whole
        self._idle_until = math.inf
        self._spoilt = False  # bytes beyond an answer, or one whose end is not known

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        # Paused as soon as the kernel leaves anything over, as anyio's streams are: a write
        # is done when the kernel holds it (and its timeout counts until then).
        transport.set_write_buffer_limits(0)
        self._readable = readability_check(transport.get_extra_info("socket"))

    def data_received(self, data: bytes) -> None:
        if type(data) is not bytes:  # pragma: no cover (the proactor loop's bytearray)
            data = bytes(data)
        self._chunks.append(data)
        self._buffered += len(data)
        self._arrived = time.monotonic()
        if self._buffered > _READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            assert self._transport is not None
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        # A plain socket stays open for writing, as anyio's does; TLS closes on its own.
        return self._raw is None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._error = exc
        self._paused = False
        self._wake()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    # --- httpcore.AsyncNetworkStream ----------------------------------------------------

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        waiting = not (self._chunks or self._eof or self._lost or self._closed)
        if waiting and not await self._wait(timeout):
            raise httpcore.ReadTimeout("timed out")
        data = self._take(max_bytes)
        if not data:
            if self._closed:
                raise httpcore.ReadError("the connection was closed")
            if self._error is not None:
                raise httpcore.ReadError(str(self._error)) from self._error
            return b""  # the server's end of stream
        framing = self._framing
        if framing is None:
            self._spoilt = True  # after the answer's end, or with no request out
            return data
        if not self._started:
            # h11 waits for a blank line before it looks at a status line: a peer that is
            # not speaking HTTP/1.x at all (an HTTP/0.9 body) would be waited out.
            start = data[: len(_HTTP_1)]
            if start != _HTTP_1[: len(start)]:
                raise httpcore.RemoteProtocolError(f"not an HTTP/1.x answer: {data[:16]!r}")
            self._started = True  # a first read shorter than the prefix passes: rare
        try:
            done = framing.feed(data)
        except (FramingError, MailkitError):
            # h11 decides about this answer (it takes bare LF, say); nothing follows it.
            self._framing = None
            self._spoilt = True
            return data
        if done:
            self._framing = None
            # Idle since the answer's last bytes came in, not since h11 asked for them: a
            # busy loop may run much else in between. The pool's keepalive_expiry applies too.
            since = self._idle_since = self._arrived
            self._idle_until = math.inf
            if framing.keep_alive_timeout is not None:
                self._idle_until = since + keep_for(framing.keep_alive_timeout)
            self._spoilt = self._spoilt or framing.overrun
        return data

    def write(  # type: ignore[override]  # awaited by httpcore, as its coroutine would be
        self, buffer: bytes, timeout: float | None = None
    ) -> Awaitable[None]:
        # Not a coroutine: the check and the transport's write run in the caller's step, with
        # nothing else in between, and no frame of ours holds the request (and its md5)
        # while the kernel has yet to take it.
        if self._idle_since is not None:  # the first write of the next request
            if self._unusable():
                raise StaleConnectionError
            self._idle_since = None
        elif self._fresh and self._unusable():
            # A server's idle timer may run from the accept (aiohttp's does): a process that
            # got no CPU for longer than that after connecting finds the connection closed.
            raise StaleConnectionError
        self._fresh = False
        if not buffer:
            return _WRITTEN
        if self._framing is None:
            self._framing = ResponseParser(0, keep_body=False)
            self._started = False
        transport = self._transport
        if self._closed or self._error is not None or transport is None:
            del buffer
            raise httpcore.WriteError("the connection is closed")
        try:
            transport.write(buffer)
        except RuntimeError as exc:  # pragma: no cover (a transport closing under TLS)
            del buffer
            raise httpcore.WriteError(str(exc)) from exc
        if not (self._paused or (self._raw is not None and self._raw.get_write_buffer_size())):
            return _WRITTEN
        return self._drain(timeout)

    async def _drain(self, timeout: float | None) -> None:  # noqa: ASYNC109
        """Until the kernel takes what the transport holds, or the server answers first.

        An answer that comes before the request is all sent (a 413 to a body the server
        will not read) ends the write: h11 reads nothing while it writes, so that answer
        would wait out the write timeout. httpcore reads the answer after a WriteError, as
        it does when a server closes early; the bytes stay here for that read.

        Under TLS, asyncio tells the protocol nothing when the socket's own buffer drains
        (only its TLS layer's), so that buffer is looked at every few milliseconds.
        """
        loop = asyncio.get_running_loop()
        deadline = math.inf if timeout is None else loop.time() + timeout
        raw = self._raw
        while not self._lost and (
            self._paused or (raw is not None and raw.get_write_buffer_size())
        ):
            if self._chunks or self._eof:
                raise httpcore.WriteError("the server answered before the request was sent")
            left = deadline - loop.time()
            if left <= 0:
                raise httpcore.WriteTimeout("timed out")
            if raw is not None:
                left = min(left, _TLS_DRAIN_POLL)
            await self._wait(None if left == math.inf else left)
        if self._closed:
            raise httpcore.WriteError("the connection was closed")
        if self._error is not None:
            raise httpcore.WriteError(str(self._error)) from self._error

    async def _wait(self, timeout: float | None) -> bool:  # noqa: ASYNC109
        """Until the protocol has news (True) or `timeout` passes (False)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiter = waiter
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            return await waiter  # cancelled with its task: nothing is left pending
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def _take(self, max_bytes: int) -> bytes:
        chunks = self._chunks
        if not chunks:
            return b""
        data = chunks.popleft()
        if len(data) > max_bytes:
            chunks.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        self._buffered -= len(data)
        if self._reading_paused and self._buffered <= _READ_HIGH_WATER // 2:
            self._reading_paused = False
            assert self._transport is not None
            self._transport.resume_reading()
        return data

    async def aclose(self) -> None:
        self._closed = True
        if self._transport is not None:
            self._transport.abort()
        self._wake()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        transport = self._transport
        assert transport is not None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(
                    transport, self, ssl_context, server_hostname=server_hostname
                )
        except BaseException as exc:
            await self.aclose()
            if isinstance(exc, OSError):  # ssl.SSLError and TimeoutError included
                raise _connect_error(exc) from exc
            raise
        assert tls is not None
        self._raw = transport
        self._transport = tls
        # Its TLS layer pauses the protocol at its high-water mark or above: at 0, always.
        tls.set_write_buffer_limits(1, 0)
        # A readable socket says nothing here: the server's session tickets follow the handshake.
        self._fresh = False
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._unusable()
        transport = self._transport
        if transport is None:  # pragma: no cover (never handed out before it connects)
            return None
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return _address(transport.get_extra_info("sockname"))
        if info == "server_addr":
            return _address(transport.get_extra_info("peername"))
        if info == "socket":
            return transport.get_extra_info("socket")
        return None

    # --- ours -----------------------------------------------------------------------------

    def set_options(self, options: typing.Iterable[httpcore.SOCKET_OPTION] | None) -> None:
        """Apply httpcore's socket options (as anyio's backend does, after connecting)."""
        if not options:
            return
        assert self._transport is not None
        sock = self._transport.get_extra_info("socket")
        try:
            for option in options:
                sock.setsockopt(*option)
        except BaseException:
            self._transport.abort()
            raise

    def _is_readable(self) -> bool:
        """httpcore's meaning: a read would not wait (bytes, an end, a failure), whether
        the protocol holds it already or the kernel does and the loop has not looked yet."""
        return bool(self._chunks) or self._eof or self._lost or self._closed or self._readable()

    def _unusable(self) -> bool:
        if self._spoilt:
            return True
        readable = self._is_readable()
        if self._idle_since is None:
            return readable
        now = time.monotonic()
        age = now - self._idle_since
        if readable:
            # Closed at some time while it sat idle: its server keeps one at most this long.
            self._limit.closed_within(age)
            return True
        return now >= self._idle_until or age >= self._limit.keep_for

