"""`HttpxSender`: the `Sender` over an `httpx.AsyncClient` (the user's, or one a test mounts).

When the library builds the client itself it mounts `checked_transport()`: httpx's own
transport over a pool whose connections are checked as the built-in engine checks its own.
httpcore asks whether an idle connection is readable when it assigns it to a request, but a
few awaits pass before the request is written, and it knows nothing of a server's idle
timeout. So each connection is checked again as its next request starts to go out (a
connection found closed then is replaced before a byte was written, and the request goes
on a fresh one), and idle connections are retired before the server would close them
(`_keepalive`). That pool runs over `_httpx_network`'s asyncio backend, which checks and
writes in one step.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from typing import Final

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
from ._http import HttpReply
from ._httpx_network import NetworkBackend, StaleConnectionError

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
            except StaleConnectionError:
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
        network_backend=NetworkBackend(),
    )
    return transport
