"""The core: one `(function, params)` call through a codec and a sender to a classifier."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Final, TypeVar

from ._classify import raise_for_global_error
from ._codec import Codec, Params
from ._credentials import Credentials
from ._errors import HTTPStatusError, MailkitError, MalformedResponseError, RateLimitedError
from ._http import HttpReply, Sender, parse_retry_after
from ._version import __version__

__all__ = ["Dispatcher"]

T = TypeVar("T")

_USER_AGENT: Final = f"mailkit-async/{__version__}"


class Dispatcher:
    """Encodes a call, POSTs it, decodes the answer and hands it to `interpret`.

    Everything per-client (URL, headers, codec) is fixed here once; a call allocates only its
    body. The semaphore keeps in-flight requests at or below the HTTP pool size, because
    httpcore leaks pool slots when requests are cancelled while more wait than it has
    connections (encode/httpcore#1093).
    """

    __slots__ = ("_codec", "_credentials", "_headers", "_sender", "_slots", "_url")

    def __init__(
        self,
        *,
        codec: Codec,
        credentials: Credentials,
        sender: Sender,
        base_url: str,
        max_concurrency: int,
    ) -> None:
        self._codec = codec
        self._credentials = credentials
        self._sender = sender
        self._url = base_url.rstrip("/") + codec.path
        self._headers: Mapping[str, str] = {
            "Content-Type": codec.content_type,
            # Compressed answers are handled, but under a bound; identity costs no CPU.
            "Accept-Encoding": "identity",
            "User-Agent": _USER_AGENT,
        }
        self._slots = asyncio.Semaphore(max_concurrency)

    @property
    def codec(self) -> Codec:
        return self._codec

    @property
    def url(self) -> str:
        return self._url

    async def dispatch(self, function: str, params: Params, interpret: Callable[[object], T]) -> T:
        """One call; every failure is a MailkitError."""
        body = self._codec.encode_call(function, params, self._credentials)
        async with self._slots:
            reply = await self._sender.post(self._url, body, self._headers, function=function)
        if not 200 <= reply.status < 300:
            raise _status_error(reply, function)
        try:
            value = self._codec.decode_reply(reply.body, function=function)
        except MailkitError:
            raise
        except Exception as exc:  # a user's codec must not crash a batch with a stray error
            raise MalformedResponseError(
                f"codec {self._codec.name!r} failed: {type(exc).__name__}", function=function
            ) from exc
        raise_for_global_error(value, function)
        return interpret(value)


def _status_error(reply: HttpReply, function: str) -> HTTPStatusError:
    try:
        phrase = HTTPStatus(reply.status).phrase
    except ValueError:
        phrase = "unknown status"
    retry_after = parse_retry_after(reply.headers.get("retry-after"))
    error_type = RateLimitedError if reply.status == 429 else HTTPStatusError
    return error_type(
        f"HTTP {reply.status} {phrase}",
        function=function,
        status_code=reply.status,
        retry_after=retry_after,
    )
