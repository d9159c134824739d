"""The emulator mounted in-process, as an httpx transport: no sockets, no threads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._emulator import MailkitEmulator

__all__ = ["EmulatorTransport"]


class EmulatorTransport(httpx.AsyncBaseTransport):
    """Serve a `MailkitEmulator` to an `httpx.AsyncClient` in-process.

    Every request appears to come from `client_ip`, for testing the IP allow-list.
    """

    def __init__(self, emulator: MailkitEmulator, *, client_ip: str = "127.0.0.1") -> None:
        self._emulator = emulator
        self._client_ip = client_ip

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        reply = self._emulator.handle(
            request.url.path, body, client_ip=self._client_ip, method=request.method
        )
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body)
