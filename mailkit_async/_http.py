"""The seam between the dispatcher and HTTP.

The dispatcher needs one thing from HTTP: POST these bytes, give back status, headers and a
body read under a size cap. `Sender` is that contract; `HttpxSender` fulfils it over an
`httpx.AsyncClient`. Another transport (an aiohttp one, say) plugs in here without touching
codecs or classifiers.
"""

from __future__ import annotations

import email.utils
import math
import time
import zlib
from collections.abc import Mapping
from typing import Final, Protocol

import attrs
import httpx

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

__all__ = ["HttpReply", "HttpxSender", "Sender", "parse_retry_after"]

#: How far zlib may decode past the cap before we notice: one read of it.
_DECODE_CHUNK: Final = 64 * 1024


@attrs.frozen
class HttpReply:
    """A complete HTTP answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Sender(Protocol):
    """POSTs one request body and reads the answer whole, under `max_body` bytes."""

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, function: str
    ) -> HttpReply: ...

    async def aclose(self) -> None: ...


class HttpxSender:
    """A `Sender` over an `httpx.AsyncClient`, which it closes only if it owns it."""

    def __init__(self, client: httpx.AsyncClient, *, owns_client: bool, max_body: int) -> None:
        self._client = client
        self._owns_client = owns_client
        self._max_body = max_body

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, function: str
    ) -> HttpReply:
        try:
            async with self._client.stream("POST", url, content=body, headers=headers) as response:
                payload = await _read_capped(response, self._max_body, function)
                return HttpReply(response.status_code, response.headers, payload)
        except httpx.HTTPError as exc:
            raise _translate(exc, function) from exc
        except httpx.InvalidURL as exc:
            raise ConfigurationError(f"invalid URL: {exc}") from exc

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


async def _read_capped(response: httpx.Response, limit: int, function: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(
            f"answer of {declared} bytes exceeds the {limit}-byte cap", function=function
        )
    if response.is_stream_consumed:
        # A transport that built its Response from bytes (httpx.MockTransport does) hands it
        # over already read and decoded; there is nothing left to bound but the size.
        if len(response.content) > limit:
            raise ResponseTooLargeError(f"answer exceeds the {limit}-byte cap", function=function)
        return response.content
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        # httpx would inflate without any bound (a 255 KB gzip bomb becomes 256 MiB): read
        # the raw bytes and inflate them ourselves, never past the cap.
        inflater: zlib._Decompress | None = zlib.decompressobj(
            zlib.MAX_WBITS | 16 if "gzip" in encoding else zlib.MAX_WBITS
        )
    elif encoding in ("identity", ""):
        inflater = None
    else:
        raise MalformedResponseError(
            f"unsupported Content-Encoding {encoding!r}", function=function
        )
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        if inflater is None:
            pieces = [chunk]
        else:
            pieces = _inflate(inflater, chunk, limit - size + 1, function)
        for piece in pieces:
            size += len(piece)
            if size > limit:
                raise ResponseTooLargeError(
                    f"answer exceeds the {limit}-byte cap", function=function
                )
            parts.append(piece)
    if inflater is not None:
        if not inflater.eof:
            raise MalformedResponseError("compressed answer is truncated", function=function)
        if inflater.unused_data.strip(b"\0"):
            raise MalformedResponseError("data after the compressed answer", function=function)
    return b"".join(parts)


def _inflate(inflater: zlib._Decompress, chunk: bytes, budget: int, function: str) -> list[bytes]:
    pieces: list[bytes] = []
    data = chunk
    try:
        while data and not inflater.eof:
            piece = inflater.decompress(data, min(budget, _DECODE_CHUNK))
            pieces.append(piece)
            budget -= len(piece)
            if budget <= 0:
                break  # the caller sees the size and refuses
            data = inflater.unconsumed_tail
    except zlib.error:
        raise MalformedResponseError("compressed answer is corrupt", function=function) from None
    return pieces


# Most specific first. Connect-phase failures never sent the request; read-phase ones may have.
_TRANSLATIONS: Final[tuple[tuple[type[httpx.HTTPError], type[TransportError], bool], ...]] = (
    (httpx.ConnectTimeout, RequestTimeoutError, False),
    (httpx.PoolTimeout, RequestTimeoutError, False),
    (httpx.TimeoutException, RequestTimeoutError, True),
    (httpx.ConnectError, ConnectError, False),
    (httpx.RemoteProtocolError, ConnectionDroppedError, True),
    (httpx.NetworkError, ConnectionDroppedError, True),
)


def _translate(exc: httpx.HTTPError, function: str) -> MailkitError:
    # The message names the cause class; httpx messages carry no request body (nor the md5).
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    for source, target, sent in _TRANSLATIONS:
        if isinstance(exc, source):
            if target is RequestTimeoutError:
                return RequestTimeoutError(message, function=function, request_sent=sent)
            return target(message, function=function)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigurationError(message)
    return TransportError(message, function=function)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if unusable.

    Negative, non-finite and unparsable values give None rather than an error: a bad header
    must never crash a call or make it sleep forever.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text)) if len(text) <= 10 else None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        return None
    delay = moment.timestamp() - (time.time() if now is None else now)
    return max(0.0, delay) if math.isfinite(delay) else None
