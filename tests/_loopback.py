"""A tiny scripted HTTP/1.1 server on 127.0.0.1 for the seam and XML-attack tests.

Each request takes the next behaviour from `plan` (then `default`): a `Reply`, or one of the
`Action`s that misbehave (hang up, never answer). Only Content-Length request bodies are read;
the server keeps what it saw (`requests`, `connections`) so tests assert on server-side truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import socket
import ssl
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

__all__ = ["Action", "LoopbackServer", "Reply", "Request", "closed_port", "serve"]

_REASONS = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Unavailable"}
_PIECE = 64 * 1024


class Action(enum.Enum):
    DROP = "drop"  # read the request, then close the connection without a word
    HANG = "hang"  # read the request, then never answer (until the client hangs up)


@dataclass(frozen=True)
class Reply:
    """One answer. The body goes out `repeat` times, so a 20 MiB body needs no 20 MiB buffer."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    repeat: int = 1
    chunked: bool = False  # Transfer-Encoding: chunked instead of Content-Length
    close: bool = False  # hang up right after writing it
    raw: bytes | None = None  # sent as is instead of all of the above (framing tests)


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LoopbackServer:
    default: Reply | Action | None = None
    plan: deque[Reply | Action] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    seen_request: asyncio.Event = field(default_factory=asyncio.Event)  # set by each request
    base_url: str = ""
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def then(self, *behaviours: Reply | Action) -> None:
        """Queue behaviours for the next requests, in order."""
        self.plan.extend(behaviours)

    async def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port, ssl=tls)
        bound = self._server.sockets[0].getsockname()[1]
        self.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{bound}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()  # stop listening first, so no new connection slips in
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.get_running_loop().create_task(self._connection(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                self.seen_request.set()
                behaviour = self.plan.popleft() if self.plan else self.default
                if behaviour is None or behaviour is Action.DROP:
                    return
                if behaviour is Action.HANG:
                    await reader.read()  # until the client gives up and closes
                    return
                await _write_reply(writer, behaviour)
                if behaviour.close:
                    return
        except (
            ConnectionError,
            ssl.SSLError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            return  # the client hung up mid-exchange, as oversized-body tests make it do
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.CancelledError):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # closed between requests
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, target, headers, body)


async def _write_reply(writer: asyncio.StreamWriter, reply: Reply) -> None:
    if reply.raw is not None:
        writer.write(reply.raw)
        await writer.drain()
        return
    head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
    head += [f"{name}: {value}" for name, value in reply.headers]
    names = {name.lower() for name, _ in reply.headers}
    if reply.chunked:
        head.append("Transfer-Encoding: chunked")
    elif "content-length" not in names:
        head.append(f"Content-Length: {len(reply.body) * reply.repeat}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    for piece in _pieces(reply.body, reply.repeat):
        writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if reply.chunked else piece)
        await writer.drain()
    if reply.chunked:
        writer.write(b"0\r\n\r\n")
    await writer.drain()


def _pieces(body: bytes, repeat: int) -> Iterable[bytes]:
    for _ in range(repeat):
        for start in range(0, len(body), _PIECE):
            yield body[start : start + _PIECE]


@contextlib.asynccontextmanager
async def serve(
    default: Reply | Action | None = None, *, port: int = 0, tls: ssl.SSLContext | None = None
) -> AsyncIterator[LoopbackServer]:
    """A started server on 127.0.0.1 (HTTPS with `tls`), closed with every connection on exit."""
    server = LoopbackServer(default=default)
    await server.start(port, tls)
    try:
        yield server
    finally:
        await server.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, never listened on, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
