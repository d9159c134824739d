"""The seam between the dispatcher and HTTP.

The dispatcher needs one thing from HTTP: POST these bytes, give back status, headers and a
body read under a size cap. `Sender` is that contract. Two engines fulfil it: `H1Sender`, a
lean HTTP/1.1 client on asyncio (the default), and `HttpxSender`, over any
`httpx.AsyncClient` (proxies, custom transports, event hooks).
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from typing import Protocol

import attrs

__all__ = ["HttpReply", "Sender", "parse_retry_after"]


@attrs.frozen
class HttpReply:
    """A complete HTTP answer. Header names are matched case-insensitively (lower-case)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Sender(Protocol):
    """POSTs one request body and reads the answer whole, under the sender's size cap.

    A sender bounds how many exchanges run at once, and ends one that is still running at
    `deadline` (a `time.monotonic()` value) with `RequestTimeoutError`. Its errors say what
    failed, not for which call: the dispatcher, which knows the call, names the function.
    """

    @property
    def name(self) -> str:
        """The engine's name, as `MailkitClient.engine` reports it."""
        ...

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        deadline: float | None = None,
    ) -> HttpReply: ...

    async def aclose(self) -> None: ...


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
