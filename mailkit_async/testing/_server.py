"""The emulator mounted on a real loopback socket, over the one loopback server core.

Just enough HTTP for API clients (`_http_server`): keep-alive, pipelining, Content-Length
bodies. Injected faults really happen on the socket: a delay, a hang-up, a body cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import ipaddress
from collections.abc import AsyncIterator, Awaitable

from .._errors import InvalidArgumentError
from .._validate import check_count, check_instance, check_text, checked_arguments, describe
from ._emulator import MailkitEmulator
from ._http_server import Connection, HttpServer, Request
from ._wire import EmulatorResponse

__all__ = ["EmulatorServer", "serve"]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024


class EmulatorServer:
    """A running loopback server; get one from `serve`."""

    def __init__(self, emulator: MailkitEmulator) -> None:
        self._emulator = emulator
        self._http = HttpServer(self._handle, max_head=_MAX_HEAD, max_body=_MAX_BODY)

    @property
    def base_url(self) -> str:
        """Where the server listens, e.g. "http://127.0.0.1:8080"."""
        return self._http.base_url

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far; stays 1 while a client keeps its connection."""
        return self._http.connections_opened

    def _handle(self, request: Request, connection: Connection) -> Awaitable[None] | None:
        response = self._emulator.handle(
            request.target, request.body, client_ip=connection.peer_ip, method=request.method
        )
        if response.delay or response.action != "reply":
            return self._misbehave(response, request, connection)
        keep_alive = request.keep_alive and not connection.server_closing
        connection.write(_encode(response, keep_alive=keep_alive))
        return None

    async def _misbehave(
        self, response: EmulatorResponse, request: Request, connection: Connection
    ) -> None:
        if response.delay:
            await asyncio.sleep(response.delay)
        if response.action == "truncate":
            # The head promises the whole body (and keep-alive): the server "died".
            half = response.body[: len(response.body) // 2]
            connection.write(_encode_head(response, keep_alive=True) + half)
        if response.action != "reply":
            # A graceful close: the request was read in full, so the client gets a FIN
            # (not an RST) and httpx a RemoteProtocolError.
            connection.close()
            return
        keep_alive = request.keep_alive and not connection.server_closing
        connection.write(_encode(response, keep_alive=keep_alive))
        await connection.drain()


@checked_arguments
@contextlib.asynccontextmanager
async def serve(
    emulator: MailkitEmulator, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[EmulatorServer]:
    """Serve `emulator` over HTTP on a loopback address for the duration of the block.

    `port=0` picks a free port; read `base_url`. On exit the listener and every open
    connection are closed and their handlers awaited.
    """
    check_instance(emulator, MailkitEmulator, name="emulator", what="a MailkitEmulator")
    check_text(host, name="host", max_length=100)
    check_count(port, name="port", minimum=0, maximum=65535)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: resolving it could reach beyond this machine
        loopback = False
    if not loopback:
        raise InvalidArgumentError(
            f"host: serve() listens on a loopback IP address only, not {describe(host)}"
        )
    server = EmulatorServer(emulator)
    await server._http.start(host, port)
    try:
        yield server
    finally:
        await server._http.close()


def _encode(response: EmulatorResponse, *, keep_alive: bool) -> bytes:
    return _encode_head(response, keep_alive=keep_alive) + response.body


def _encode_head(response: EmulatorResponse, *, keep_alive: bool) -> bytes:
    try:
        reason = http.HTTPStatus(response.status).phrase
    except ValueError:  # injected replies may carry any status
        reason = ""
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    lines.append(f"Content-Length: {len(response.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n"
