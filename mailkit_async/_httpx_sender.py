"""`HttpxSender`: the `Sender` over an `httpx.AsyncClient` (the user's, or one a test mounts).

When the library builds the client itself it mounts `checked_transport()`: httpx's own
transport over a pool whose connections are checked as the built-in engine checks its own.
httpcore asks whether an idle connection is readable when it assigns it to a request, but a
few awaits pass before the request is written, and it knows nothing of a server's idle
timeout. So each connection is checked again as its next request starts to go out (a
connection found closed then is replaced before a byte was written, and the request goes
on a fresh one), and idle connections are retired before the server would close them
(`_keepalive`).
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
import typing
from collections.abc import Coroutine, Mapping
from typing import Any, Final

import httpcore
import httpx

from ._body import BodyReader, check_declared_length
from ._credentials import SecretBytes
from ._errors import (
    ConfigurationError,
    ConnectError,
    ConnectionDroppedError,
    MailkitError,
    MalformedResponseError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
)
from ._h1_parse import FramingError, ResponseParser
from ._http import HttpReply
from ._keepalive import IdleLimit, keep_for

__all__ = ["HttpxSender", "checked_transport"]


class HttpxSender:
    """A `Sender` over an `httpx.AsyncClient`, which it closes only if it owns it.

    httpcore 1.0 loses pool connections when a request is cancelled mid-flight (they stay
    "ACTIVE" or "CONNECTING" forever, and once all are lost every call waits out its timeout).
    So a cancelled caller leaves its request to finish in the background, bounded by the
    client's own timeouts, and the pool stays whole. The same bug bites when more requests
    wait than the pool has connections (encode/httpcore#1093), so at most `max_concurrency`
    are handed to httpx at once.
    """

    name: Final = "httpx"

    def __init__(
        self, client: httpx.AsyncClient, *, owns_client: bool, max_body: int, max_concurrency: int
    ) -> None:
        self._client = client
        self._owns_client = owns_client
        self._max_body = max_body
        self._slots = asyncio.Semaphore(max_concurrency)
        self._slots_total = max_concurrency
        self._orphans: set[asyncio.Task[HttpReply]] = set()

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        deadline: float | None = None,
    ) -> HttpReply:
        sent = False
        try:
            async with asyncio.timeout(None if deadline is None else deadline - time.monotonic()):
                async with self._slots:
                    sent = True
                    exchange = asyncio.ensure_future(self._post(url, body, headers))
                    try:
                        return await asyncio.shield(exchange)
                    except asyncio.CancelledError:
                        if not exchange.done():
                            self._orphans.add(exchange)
                            exchange.add_done_callback(self._forget)
                        raise
        except TimeoutError as exc:
            if isinstance(exc, MailkitError):
                raise
            raise RequestTimeoutError("the call's deadline passed", request_sent=sent) from None

    async def aclose(self) -> None:
        orphans = list(self._orphans)
        for orphan in orphans:
            orphan.cancel()  # the pool is closing anyway; nothing is left to protect
        await asyncio.gather(*orphans, return_exceptions=True)
        if self._owns_client:
            await self._client.aclose()

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply:
        # Each stale connection met is closed, so this many attempts reach a fresh one.
        for _ in range(self._slots_total + 1):
            try:
                request = self._client.build_request("POST", url, content=body, headers=headers)
                # httpx keeps a copy of the body as the request's content: plain bytes, which
                # its exceptions (request=...) would pickle. Ours again, it shows as redacted.
                if isinstance(body, SecretBytes) and getattr(request, "_content", None) is not None:
                    request._content = body
                response = await self._client.send(request, stream=True)
                try:
                    payload = await _read_capped(response, self._max_body)
                    return HttpReply(response.status_code, response.headers, payload)
                finally:
                    await response.aclose()
            except _StaleConnectionError:
                continue  # not a byte of this request was written: send it on another one
            except httpx.HTTPError as exc:
                raise _translate(exc) from exc
            except httpx.InvalidURL as exc:
                raise ConfigurationError(f"invalid URL: {exc}") from exc
        # Not reached in practice: every pooled connection would have to be stale. Not a
        # byte of the request was written.
        raise ConnectError("no usable connection")  # pragma: no cover

    def _forget(self, orphan: asyncio.Task[HttpReply]) -> None:
        self._orphans.discard(orphan)
        if not orphan.cancelled():
            orphan.exception()  # retrieved: nobody waits for an orphan's failure


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    check_declared_length(response.headers.get("content-length"), limit)
    if response.is_stream_consumed:
        # A transport that built its Response from bytes (httpx.MockTransport does) hands it
        # over already read and decoded; there is nothing left to bound but the size.
        if len(response.content) > limit:
            raise ResponseTooLargeError(f"answer exceeds the {limit}-byte cap")
        return response.content
    # Raw bytes, inflated by BodyReader: httpx would inflate a gzip bomb without any bound.
    reader = BodyReader(response.headers.get("content-encoding"), limit)
    async for chunk in response.aiter_raw():
        reader.feed(chunk)
    return reader.finish()


# Most specific first. Connect-phase failures never sent the request; read-phase ones may have.
_TRANSLATIONS: Final[tuple[tuple[type[httpx.HTTPError], type[TransportError], bool], ...]] = (
    (httpx.ConnectTimeout, RequestTimeoutError, False),
    (httpx.PoolTimeout, RequestTimeoutError, False),
    (httpx.TimeoutException, RequestTimeoutError, True),
    (httpx.ConnectError, ConnectError, False),
    (httpx.RemoteProtocolError, ConnectionDroppedError, True),
    (httpx.NetworkError, ConnectionDroppedError, True),
)


#: How httpcore and h11 word a connection that ended before the answer was whole; every
#: other RemoteProtocolError is h11 refusing bytes that did arrive.
_CUT_SHORT: Final = ("Server disconnected", "peer closed connection", "peer unexpectedly closed")


def _translate(exc: httpx.HTTPError) -> MailkitError:
    # The message names the cause class; httpx messages carry no request body (nor the md5).
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.RemoteProtocolError) and not str(exc).startswith(_CUT_SHORT):
        # A malformed answer reached us whole: the request reached the server, and the same
        # answer would be refused again (a protocol error, as the built-in engine raises).
        return MalformedResponseError(f"malformed HTTP answer: {message}")
    for source, target, sent in _TRANSLATIONS:
        if isinstance(exc, source):
            if target is RequestTimeoutError:
                return RequestTimeoutError(message, request_sent=sent)
            return target(message)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigurationError(message)
    return TransportError(message)


# --- the transport the library mounts on a client it builds ---------------------------------


def checked_transport(
    verify: ssl.SSLContext | bool, limits: httpx.Limits
) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, its pool over connections checked before reuse."""
    context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context()
    transport = httpx.AsyncHTTPTransport(verify=context, limits=limits)
    # httpx 0.27 and 0.28 take no network backend, so the pool they built is replaced by
    # the same pool over ours (`_pool` is what their transport sends through).
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_CheckedBackend(),
    )
    return transport


_HTTP_1: Final = b"HTTP/1."


class _StaleConnectionError(Exception):
    """A pooled connection was found closed before any byte of the request was written."""


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's asyncio backend, its streams wrapped in `_CheckedStream`."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()
        self._limits: dict[tuple[str, int], IdleLimit] = {}

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface, as all below)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        limit = self._limits.get((host, port))
        if limit is None:
            limit = self._limits[host, port] = IdleLimit()
        return _CheckedStream(stream, limit)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover (no uds= here)
        return await self._backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:  # pragma: no cover (retries=0)
        await self._backend.sleep(seconds)


#: A write up to this size goes to the kernel at once on any usable socket.
_WATCHED_WRITE: Final = 64 * 1024
#: What a long write's racing read takes at most (h11 reads 64 KiB at a time).
_EARLY_READ: Final = 64 * 1024


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # a task that failed as it was cancelled: nothing left to tell


def _done(data: bytes) -> asyncio.Future[bytes]:
    future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    future.set_result(data)
    return future


class _CheckedStream(httpcore.AsyncNetworkStream):
    """A connection that says it is unusable once its server closed it or may be about to.

    httpcore asks `get_extra_info("is_readable")` of an idle connection before it hands it
    out (a readable idle connection was closed by its server, or holds bytes nobody asked
    for); this answers yes also once it has been idle as long as its server is known to
    keep one, or when bytes came after the last answer, and the first write of the next
    request asks again.

    Each answer's framing is followed beside h11, by the built-in engine's parser without
    its body: it tells where the answer ends (the connection is idle from then on), the
    server's Keep-Alive timeout, and bytes beyond the answer, which h11 would keep and read
    as the answer to the next request.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream, limit: IdleLimit) -> None:
        self._stream = stream
        self._limit = limit
        self._fresh = True  # no request written yet
        self._framing: ResponseParser | None = None  # the answer being read, if any
        self._started = False  # its first bytes show HTTP/1.
        self._idle_since: float | None = None  # since its last answer was read whole
        self._idle_until = math.inf
        self._spoilt = False  # bytes beyond an answer, or one whose end is not known
        self._early: asyncio.Future[bytes] | None = None  # read while a long write was out

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        early = self._early
        if early is None:
            data = await self._stream.read(max_bytes, timeout)
        else:
            self._early = None
            data = early.result()  # what a long write's racing read got (or how it failed)
            if len(data) > max_bytes:
                data, rest = data[:max_bytes], data[max_bytes:]
                self._early = _done(rest)
        framing = self._framing
        if framing is None:
            if data:
                self._spoilt = True  # after the answer's end, or with no request out
            return data
        if not self._started and data:
            # h11 waits for a blank line before it looks at a status line: a peer that is
            # not speaking HTTP/1.x at all (an HTTP/0.9 body) would be waited out.
            start = data[: len(_HTTP_1)]
            if start != _HTTP_1[: len(start)]:
                raise httpcore.RemoteProtocolError(f"not an HTTP/1.x answer: {data[:16]!r}")
            self._started = True  # a first read shorter than the prefix passes: rare
        try:
            done = framing.feed(data) if data else False
        except (FramingError, MailkitError):
            # h11 decides about this answer (it takes bare LF, say); nothing follows it.
            self._framing = None
            self._spoilt = True
            return data
        if done:
            self._framing = None
            # The pool's own keepalive_expiry (httpx's 5 s) applies as well.
            now = time.monotonic()
            self._idle_since = now
            self._idle_until = math.inf
            if framing.keep_alive_timeout is not None:
                self._idle_until = now + keep_for(framing.keep_alive_timeout)
            self._spoilt = self._spoilt or framing.overrun
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> Coroutine[Any, Any, None]:
        # Not a coroutine itself: no frame of ours holds the request (and its md5) while
        # it is written.
        if self._idle_since is not None:  # the first write of the next request
            if self._unusable():
                raise _StaleConnectionError
            self._idle_since = None
        elif self._fresh and self._unusable():
            # A server's idle timer may run from the accept (aiohttp's does): a process that
            # got no CPU for longer than that after connecting finds the connection closed.
            raise _StaleConnectionError
        self._fresh = False
        if self._framing is None and buffer:
            self._framing = ResponseParser(0, keep_body=False)
            self._started = False
        if len(buffer) <= _WATCHED_WRITE:
            return self._stream.write(buffer, timeout)
        return self._write_watching(self._stream.write(buffer, timeout))

    async def _write_watching(self, writing: Coroutine[Any, Any, None]) -> None:
        """A write longer than the socket may take at once, raced by a read: an answer that
        comes before the request is all sent (a 413 to a body the server will not read)
        ends the write, and is kept for h11's first read.

        h11 reads nothing while it writes, so that answer would wait out the write timeout;
        httpcore reads the answer after a WriteError instead, as it does when a server
        closes early. The write is not ours to hold (it holds the md5): only its task is.
        """
        write = asyncio.ensure_future(writing)
        read = asyncio.ensure_future(self._stream.read(_EARLY_READ))
        try:
            await asyncio.wait((write, read), return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()
                await asyncio.wait((read,))  # the stream reads once at a time: let it end
            if not read.cancelled():
                self._early = read  # the answer's first bytes, its end or a failure
            if not write.done():
                raise httpcore.WriteError("the server answered before the request was sent")
            write.result()
        finally:
            for task in (write, read):
                if not task.done():
                    task.cancel()
                    task.add_done_callback(_retrieve)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        checked = _CheckedStream(stream, self._limit)
        # A readable socket says nothing here: the server's session tickets follow the handshake.
        checked._fresh = False
        return checked

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":
            return self._unusable()
        return self._stream.get_extra_info(info)

    def _unusable(self) -> bool:
        if self._spoilt:
            return True
        readable = bool(self._stream.get_extra_info("is_readable"))
        if self._idle_since is None:
            return readable
        now = time.monotonic()
        age = now - self._idle_since
        if readable:
            # Closed at some time while it sat idle: its server keeps one at most this long.
            self._limit.closed_within(age)
            return True
        return now >= self._idle_until or age >= self._limit.keep_for
