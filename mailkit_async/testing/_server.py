"""The emulator mounted on a real loopback socket: a minimal HTTP/1.1 server on asyncio streams.

Just enough HTTP for API clients: keep-alive, Content-Length bodies, one task per connection.
Injected faults really happen on the socket: a delay, a hang-up, a body cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import ipaddress
from collections.abc import AsyncIterator

import attrs

from .._errors import InvalidArgumentError
from .._validate import check_count, check_instance, check_text, checked_arguments, describe
from ._emulator import MailkitEmulator
from ._wire import EmulatorResponse, plain

__all__ = ["EmulatorServer", "serve"]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 16 * 1024 * 1024


class _HttpError(Exception):
    """A request we answer with an HTTP error and then hang up on."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.response = plain(status, text)


@attrs.frozen
class _Request:
    method: str
    target: str
    body: bytes
    keep_alive: bool


class EmulatorServer:
    """A running loopback server; get one from `serve`."""

    def __init__(self, emulator: MailkitEmulator) -> None:
        self._emulator = emulator
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._closing = False
        self._connections_opened = 0
        self._base_url = ""

    @property
    def base_url(self) -> str:
        """Where the server listens, e.g. "http://127.0.0.1:8080"."""
        return self._base_url

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far; stays 1 while a client keeps its connection."""
        return self._connections_opened

    async def _start(self, host: str, port: int) -> asyncio.Server:
        listener = await asyncio.start_server(self._accept, host, port, limit=_MAX_HEAD)
        bound_host, bound_port = listener.sockets[0].getsockname()[:2]
        bound_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self._base_url = f"http://{bound_host}:{bound_port}"
        return listener

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Our own task, so that shutdown can find and await every handler.
        task = asyncio.get_running_loop().create_task(self._serve_connection(reader, writer))
        self._connections[task] = writer
        task.add_done_callback(self._connections.pop)
        self._connections_opened += 1

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")
        client_ip = peer[0] if peer else ""
        try:
            keep_alive = not self._closing
            while keep_alive:
                try:
                    request = await _read_request(reader)
                except _HttpError as error:
                    writer.write(_encode(error.response, keep_alive=False))
                    await writer.drain()
                    break
                if request is None:
                    break
                response = self._emulator.handle(
                    request.target, request.body, client_ip=client_ip, method=request.method
                )
                if response.delay:
                    # Shutdown waits this out: it is short, and the handler then sees
                    # its aborted socket and ends.
                    await asyncio.sleep(response.delay)
                if response.action == "truncate":
                    # The head promises the whole body (and keep-alive): the server "died".
                    half = response.body[: len(response.body) // 2]
                    writer.write(_encode_head(response, keep_alive=True) + half)
                    await writer.drain()
                if response.action != "reply":
                    # The finally clause closes gracefully: the request was read in full,
                    # so the client gets a FIN (not an RST) and httpx a RemoteProtocolError.
                    break
                keep_alive = request.keep_alive and not self._closing
                writer.write(_encode(response, keep_alive=keep_alive))
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client left mid-request or mid-reply: nobody to answer
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _close(self, listener: asyncio.Server) -> None:
        self._closing = True
        listener.close()
        # Aborting makes every pending read or drain fail at once, so each handler ends on
        # its own; cancelling them instead would leave their sockets to the garbage collector.
        while self._connections:
            for writer in self._connections.values():
                writer.transport.abort()
            await asyncio.wait(list(self._connections))
        await listener.wait_closed()


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
    listener = await server._start(host, port)
    try:
        yield server
    finally:
        await server._close(listener)


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    """Read one request; None when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None
    except asyncio.LimitOverrunError:
        raise _HttpError(431, "Request Header Fields Too Large") from None
    request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    method, _, rest = request_line.partition(" ")
    target, _, version = rest.partition(" ")
    if version not in ("HTTP/1.1", "HTTP/1.0") or not target.startswith("/"):
        raise _HttpError(400, "Bad Request")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _HttpError(400, "Bad Request")
        name, value = name.lower(), value.strip()
        if name == "content-length" and headers.get(name, value) != value:
            raise _HttpError(400, "Bad Request")
        headers[name] = value
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    keep_alive = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
    length = headers.get("content-length")
    # Chunked bodies are not supported; 411 asks the client for a Content-Length instead.
    if "transfer-encoding" in headers or (length is None and method == "POST"):
        raise _HttpError(411, "Length Required")
    if length is None:
        return _Request(method, target, b"", keep_alive)
    if not (length.isascii() and length.isdigit()):
        raise _HttpError(400, "Bad Request")
    if int(length) > _MAX_BODY:
        raise _HttpError(413, "Content Too Large")
    body = await reader.readexactly(int(length))
    return _Request(method, target, body, keep_alive)


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
