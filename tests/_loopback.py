"""A scripted HTTP/1.1 server on 127.0.0.1 for the seam, engine and XML-attack tests.

A thin layer over the library's own loopback server core (`mailkit_async.testing`'s
`_http_server`, which the emulator and the benchmarks use too). Each request takes the next
behaviour from `plan` (then `default`): a `Reply`, or one of the `Action`s that misbehave
(hang up, never answer). Replies can be hostile: raw bytes, endless streams, an answer before
the body is read, a second answer nobody asked for. The server keeps what it saw
(`requests`, `connections`) so tests assert on server-side truth. `reading_nothing` is a
server that never reads at all, so a client's write stalls.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import socket
import ssl
import threading
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Iterable
from dataclasses import dataclass, field

from mailkit_async.testing._http_server import Connection, HttpServer, Request

__all__ = [
    "Action",
    "LoopbackServer",
    "Reply",
    "Request",
    "closed_port",
    "reading_nothing",
    "serve",
    "serve_in_thread",
]

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
    chunk_size: int = _PIECE  # the body's chunks, when chunked (1: one byte each)
    close: bool = False  # hang up right after writing it
    raw: bytes | None = None  # sent as is instead of all of the above (framing tests)
    early: bool = False  # sent as soon as the head is in; the body is never read
    unsolicited: bytes = b""  # sent `unsolicited_after` seconds later, unasked for
    unsolicited_after: float = 0.02


@dataclass
class LoopbackServer:
    default: Reply | Action | None = None
    plan: deque[Reply | Action] = field(default_factory=deque)
    requests: list[Request] = field(default_factory=list)
    seen_request: asyncio.Event = field(default_factory=asyncio.Event)  # set by each request
    idle_timeout: float | None = None  # hang up on a connection idle this long
    _core: HttpServer | None = None
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def connections(self) -> int:
        return 0 if self._core is None else self._core.connections_opened

    @property
    def base_url(self) -> str:
        return "" if self._core is None else self._core.base_url

    def then(self, *behaviours: Reply | Action) -> None:
        """Queue behaviours for the next requests, in order."""
        self.plan.extend(behaviours)

    async def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self._core = HttpServer(
            self._handle, head_handler=self._head, idle_timeout=self.idle_timeout
        )
        await self._core.start("127.0.0.1", port, tls=tls)

    async def close(self) -> None:
        for task in self._pending:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._core is not None:
            await self._core.close()

    def _next(self) -> Reply | Action | None:
        return self.plan.popleft() if self.plan else self.default

    def _seen(self, request: Request) -> None:
        self.requests.append(request)
        self.seen_request.set()

    def _head(self, request: Request, connection: Connection) -> bool:
        upcoming = self.plan[0] if self.plan else self.default
        if not (isinstance(upcoming, Reply) and upcoming.early):
            return False
        self._next()
        self._seen(request)
        # Answer now and read no more: the client is still sending a body nobody reads.
        self._spawn(_write_reply(connection, upcoming))
        return True

    async def _handle(self, request: Request, connection: Connection) -> None:
        self._seen(request)
        behaviour = self._next()
        if behaviour is None or behaviour is Action.DROP:
            connection.close()
            return
        if behaviour is Action.HANG:
            await connection.wait_closed()  # until the client gives up and closes
            connection.close()
            return
        await _write_reply(connection, behaviour)
        if behaviour.close:
            connection.close()
        elif behaviour.unsolicited:
            self._spawn(_later(connection, behaviour.unsolicited_after, behaviour.unsolicited))

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


async def _later(connection: Connection, delay: float, data: bytes) -> None:
    await asyncio.sleep(delay)
    connection.write(data)


async def _write_reply(connection: Connection, reply: Reply) -> None:
    if reply.raw is not None:
        connection.write(reply.raw)
        await connection.drain()
        return
    head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
    head += [f"{name}: {value}" for name, value in reply.headers]
    names = {name.lower() for name, _ in reply.headers}
    if reply.chunked:
        head.append("Transfer-Encoding: chunked")
    elif "content-length" not in names:
        head.append(f"Content-Length: {len(reply.body) * reply.repeat}")
    connection.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    if reply.chunked:
        for batch in _chunked(reply.body, reply.repeat, reply.chunk_size):
            connection.write(batch)
            await connection.drain()
        connection.write(b"0\r\n\r\n")
    else:
        for piece in _pieces(reply.body, reply.repeat, _PIECE):
            connection.write(piece)
            await connection.drain()
    await connection.drain()


def _pieces(body: bytes, repeat: int, size: int) -> Iterable[bytes]:
    for _ in range(repeat):
        for start in range(0, len(body), size):
            yield body[start : start + size]


def _chunked(body: bytes, repeat: int, size: int) -> Iterable[bytes]:
    """The body's chunks, `repeat` times, in writes of about 64 KiB: one-byte chunks must
    not cost the server a write, nor an object, each."""
    once = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in _pieces(body, 1, size))
    if not once:
        return
    per_write = max(1, _PIECE // len(once))
    left = repeat
    while left > 0:
        count = min(left, per_write)
        yield once * count
        left -= count


@contextlib.asynccontextmanager
async def serve(
    default: Reply | Action | None = None,
    *,
    port: int = 0,
    tls: ssl.SSLContext | None = None,
    idle_timeout: float | None = None,
) -> AsyncIterator[LoopbackServer]:
    """A started server on 127.0.0.1 (HTTPS with `tls`), closed with every connection on exit."""
    server = LoopbackServer(default=default, idle_timeout=idle_timeout)
    await server.start(port, tls)
    try:
        yield server
    finally:
        await server.close()


@contextlib.asynccontextmanager
async def serve_in_thread(
    default: Reply | Action | None = None, *, idle_timeout: float | None = None
) -> AsyncIterator[LoopbackServer]:
    """The same server on an event loop of its own, in a thread: it goes on (closing idle
    connections, sending what it was told to) while a test blocks its own loop.

    Its `seen_request` event belongs to that loop: wait on `requests` instead.
    """
    started = threading.Event()
    holder: list[tuple[asyncio.AbstractEventLoop, asyncio.Event, LoopbackServer]] = []

    async def run() -> None:
        stop = asyncio.Event()
        async with serve(default, idle_timeout=idle_timeout) as server:
            holder.append((asyncio.get_running_loop(), stop, server))
            started.set()
            await stop.wait()

    thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    thread.start()
    await asyncio.to_thread(started.wait, 10)
    loop, stop, server = holder[0]
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(stop.set)
        await asyncio.to_thread(thread.join, 10)


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, never listened on, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def reading_nothing() -> AsyncIterator[str]:
    """The base URL of a server that accepts connections and never reads from them."""
    stalled = asyncio.Event()

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stalled.wait()
        writer.close()

    listener = await asyncio.start_server(never_read, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    finally:
        stalled.set()
        listener.close()
        await listener.wait_closed()
