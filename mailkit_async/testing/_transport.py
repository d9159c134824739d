"""The emulator mounted in-process, as an httpx transport: no sockets, no threads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx

from .._validate import check_instance, check_text, checked_arguments

if TYPE_CHECKING:
    from ._emulator import MailkitEmulator

__all__ = ["EmulatorTransport"]


class EmulatorTransport(httpx.AsyncBaseTransport):
    """Serve a `MailkitEmulator` to an `httpx.AsyncClient` in-process.

    Every request appears to come from `client_ip`, for testing the IP allow-list.
    Injected hang-ups raise what httpx raises for them over loopback: `RemoteProtocolError`,
    for a truncated body only once the body is read (as a streamed response shows).
    """

    @checked_arguments
    def __init__(self, emulator: MailkitEmulator, *, client_ip: str = "127.0.0.1") -> None:
        from ._emulator import MailkitEmulator  # the emulator imports this module

        check_instance(emulator, MailkitEmulator, name="emulator", what="a MailkitEmulator")
        check_text(client_ip, name="client_ip", max_length=100)
        self._emulator = emulator
        self._client_ip = client_ip

    @checked_arguments
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_instance(request, httpx.Request, name="request", what="an httpx.Request")
        # The body holds the md5: passed on, never kept in a local of this frame (which is in
        # the traceback of the hang-ups raised below).
        reply = self._emulator.handle(
            request.url.path, await request.aread(), client_ip=self._client_ip,
            method=request.method,
        )
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.action == "reply":
            return httpx.Response(reply.status, headers=reply.headers, content=reply.body)
        if reply.action == "drop":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        headers = [*reply.headers, ("Content-Length", str(len(reply.body)))]
        stream = _TruncatedStream(reply.body, request)
        return httpx.Response(reply.status, headers=headers, stream=stream)


class _TruncatedStream(httpx.AsyncByteStream):
    """Half the body, then the error httpx raises when the peer hangs up mid-body."""

    def __init__(self, body: bytes, request: httpx.Request) -> None:
        self._body = body
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = len(self._body) // 2
        if sent:
            yield self._body[:sent]
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {sent} bytes, expected {len(self._body)})",
            request=self._request,
        )
