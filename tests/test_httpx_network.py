"""The httpx engine's network stream (`_httpx_network`) on loopback sockets, plain and TLS.

Proves that nothing else runs on the event loop between a reused connection's check and its
request reaching the kernel; that connections are reused and report what httpcore asks of
them (addresses, socket, TLS object, readability); that connect refused or timed out never
sends, a silent server is a read timeout, an answer cut short a dropped connection; that a
body larger than the socket buffers goes out whole to a server that reads slowly, and a
write to one that reads nothing times out; and that a call cancelled mid-read leaves
nothing pending and the pool usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trustme

import mailkit_async as mk
from mailkit_async._httpx_sender import checked_transport
from tests._loopback import Action, Reply, closed_port, reading_nothing, serve

from .conftest import CLIENT_ID, CLIENT_MD5

ANSWER = b'{"error":"OK","error_status":0}'
OK = Reply(200, (("Content-Type", "application/json"),), ANSWER)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def pool(verify: ssl.SSLContext | bool = True, **timeouts: float) -> httpx.AsyncClient:
    """An httpx client over the transport the library mounts (so over the new stream)."""
    return httpx.AsyncClient(
        transport=checked_transport(verify, httpx.Limits()),
        timeout=httpx.Timeout(5.0, **timeouts),
    )


class Server:
    """An asyncio HTTP/1.1 server answering every POST, that can peek at a connection's
    socket: what the kernel holds for it that the server's loop has not read yet."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.bodies: list[bytes] = []
        self.url = ""
        self.read_pause = 0.0  # between reads of a body: a server slow to read
        self.extra_head = b""  # more header lines, each ending in CRLF
        self.body_after = 0.0  # the answer's body sent this long after its head

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A second socket object on the same connection, to peek with (the transport's own
        # socket refuses recv).
        self.sockets.append(socket.socket(fileno=os.dup(writer.get_extra_info("socket").fileno())))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                body = bytearray()
                while len(body) < length:
                    body += await reader.read(min(65536, length - len(body)))
                    if self.read_pause:
                        await asyncio.sleep(self.read_pause)
                self.bodies.append(bytes(body))
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%s"
                    b"Content-Length: %d\r\n\r\n" % (self.extra_head, len(ANSWER))
                )
                if self.body_after:
                    await writer.drain()
                    await asyncio.sleep(self.body_after)
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def pending(self, index: int) -> bytes:
        """What the kernel holds, unread, on the server's `index`th connection."""
        try:
            return self.sockets[index].recv(1 << 20, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return b""


@contextlib.asynccontextmanager
async def peeking_server(tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    server = Server()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/json.fcgi"
    try:
        yield server
    finally:
        listener.close()
        for sock in server.sockets:
            sock.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await listener.wait_closed()


# --- the gap between the check and the write ------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_nothing_runs_between_the_check_and_the_write(ca: trustme.CA, scheme: str) -> None:
    """A reused idle connection is checked as its request's first bytes go out. Whatever
    else the loop has ready (here, a callback queued just before that check; under load,
    other tasks for as long as they take) runs only once those bytes are in the kernel: a
    server's close can no longer slip in between a check that passed and the write.

    On httpcore's anyio stream (anyio releases whose send starts with a checkpoint), the
    queued callback runs first and finds nothing written yet.
    """
    tls = server_context(ca) if scheme == "https" else None
    loop = asyncio.get_running_loop()
    seen: list[bytes] = []

    async def trace(event: str, info: dict[str, Any]) -> None:
        # httpcore calls this, then checks and writes the request without yielding.
        if event == "http11.send_request_headers.started":
            loop.call_soon(lambda: seen.append(server.pending(0)))

    async with peeking_server(tls) as server:
        async with pool(client_context(ca) if tls else True) as client:
            first = await client.post(server.url, content=b"{}")
            assert first.status_code == 200
            second = await client.post(server.url, content=b"{}", extensions={"trace": trace})
            assert second.status_code == 200
        assert len(server.sockets) == 1  # the idle connection was reused
    assert len(seen) == 1
    assert seen[0], "another callback ran before the request reached the kernel"


async def test_idle_time_counts_from_the_answers_last_bytes() -> None:
    """An answer read late (its body arrived while the caller did something else) leaves
    its connection idle since the body arrived, as the server counts, not since it was
    read: with `Keep-Alive: timeout=1` (reused up to 0.75 s), 0.5 s of waiting before the
    read and 0.4 s after it retire the connection."""
    async with peeking_server() as server, pool() as client:
        server.extra_head = b"Keep-Alive: timeout=1\r\n"
        server.body_after = 0.05
        async with client.stream("POST", server.url, content=b"{}") as response:
            await asyncio.sleep(0.5)  # the body comes in meanwhile
            assert await response.aread() == ANSWER
        await asyncio.sleep(0.4)
        assert (await client.post(server.url, content=b"{}")).status_code == 200
        assert len(server.sockets) == 2


# --- connections, plain and TLS --------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_connections_are_reused_and_describe_themselves(
    ca: trustme.CA, scheme: str
) -> None:
    tls = server_context(ca) if scheme == "https" else None
    async with peeking_server(tls) as server, pool(client_context(ca) if tls else True) as client:
        streams = []
        for _ in range(5):
            async with client.stream("POST", server.url, content=b"{}") as response:
                assert await response.aread() == ANSWER
                streams.append(response.extensions["network_stream"])
        stream = streams[0]
        assert all(other is stream for other in streams)
        assert len(server.sockets) == 1
        client_addr = stream.get_extra_info("client_addr")
        assert client_addr[0] == "127.0.0.1"
        port = int(server.url.split(":")[2].split("/")[0])
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
        assert stream.get_extra_info("socket").getsockname() == client_addr
        ssl_object = stream.get_extra_info("ssl_object")
        assert (ssl_object is not None) is (tls is not None)
        if ssl_object is not None:
            assert ssl_object.version() is not None
        assert stream.get_extra_info("is_readable") is False
        assert stream.get_extra_info("no such thing") is None
        # The server closes it while idle: readable, so the pool drops it.
        for sock in server.sockets:
            sock.shutdown(socket.SHUT_RDWR)
        await asyncio.sleep(0.05)
        assert stream.get_extra_info("is_readable") is True
        assert (await client.post(server.url, content=b"{}")).status_code == 200
        assert len(server.sockets) == 2


async def test_an_unknown_ca_is_a_connect_error(ca: trustme.CA) -> None:
    async with peeking_server(server_context(ca)) as server, mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, base_url=server.url.rsplit("/", 1)[0], engine="httpx"
    ) as client:
        with pytest.raises(mk.ConnectError) as caught:
            await client.wipe("jane@example.com")
    assert caught.value.request_sent is False
    assert server.bodies == []


# --- failures, as the library classifies them -------------------------------------------


def httpx_client(base_url: str, **timeouts: float) -> mk.MailkitClient:
    return mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, base_url=base_url, engine="httpx",
        timeout=httpx.Timeout(5.0, **timeouts), retry=mk.RetryPolicy(max_attempts=1),
    )  # fmt: skip


async def test_connect_refused_never_sends() -> None:
    async with httpx_client(f"http://127.0.0.1:{closed_port()}") as client:
        with pytest.raises(mk.ConnectError) as caught:
            await client.revalidate("jane@example.com", agreement=False)
    assert caught.value.request_sent is False


@contextlib.contextmanager
def full_backlog() -> Any:
    """A port whose accept queue is full: a new connection's SYN goes unanswered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(address)
            fillers.append(filler)
        time.sleep(0.05)
        yield address[1]
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_connect_timeout_never_sends() -> None:
    with full_backlog() as port:
        async with httpx_client(f"http://127.0.0.1:{port}", connect=0.2) as client:
            started = time.monotonic()
            with pytest.raises(mk.RequestTimeoutError, match="ConnectTimeout") as caught:
                await client.revalidate("jane@example.com", agreement=False)
    assert caught.value.request_sent is False
    assert time.monotonic() - started < 3


async def test_a_silent_server_is_a_read_timeout() -> None:
    async with serve(Action.HANG) as server, httpx_client(server.base_url, read=0.2) as client:
        with pytest.raises(mk.RequestTimeoutError, match="ReadTimeout") as caught:
            await client.wipe("jane@example.com")
    assert caught.value.request_sent is True
    assert len(server.requests) == 1


async def test_an_answer_cut_short_is_a_dropped_connection() -> None:
    cut = Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"error", close=True)
    async with serve(cut) as server, httpx_client(server.base_url) as client:
        with pytest.raises(mk.ConnectionDroppedError) as caught:
            await client.wipe("jane@example.com")
    assert caught.value.request_sent is True


async def test_a_reset_mid_answer_is_a_dropped_connection() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()  # linger 0: an RST, not a FIN

    listener = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        async with httpx_client(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(mk.ConnectionDroppedError, match="ReadError") as caught:
                await client.wipe("jane@example.com")
        assert caught.value.request_sent is True
    finally:
        listener.close()
        await listener.wait_closed()


# --- writes longer than the socket takes at once ----------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_a_large_body_drains_to_a_slow_reader(ca: trustme.CA, scheme: str) -> None:
    """8 MiB to a server that takes 64 KiB per millisecond or so: the transport pauses
    many times, and every byte arrives, in order."""
    body = bytes(range(256)) * (32 * 1024)
    tls = server_context(ca) if scheme == "https" else None
    async with peeking_server(tls) as server, pool(client_context(ca) if tls else True) as client:
        server.read_pause = 0.001
        response = await client.post(server.url, content=body)
        assert response.status_code == 200
        assert server.bodies == [body]
        assert (await client.post(server.url, content=b"{}")).status_code == 200
        assert len(server.sockets) == 1


async def test_a_write_to_a_server_reading_nothing_times_out() -> None:
    async with reading_nothing() as base_url, pool(write=0.3) as client:
        started = time.monotonic()
        with pytest.raises(httpx.WriteTimeout):
            await client.post(base_url, content=b"x" * (64 << 20))
    assert time.monotonic() - started < 3


# --- cancellation ---------------------------------------------------------------------


def armed_timers(loop: asyncio.AbstractEventLoop) -> int:
    return sum(not timer.cancelled() for timer in loop._scheduled)  # type: ignore[attr-defined]


async def test_a_call_cancelled_mid_read_leaves_the_pool_usable() -> None:
    """Cancelled while it waits for an answer: httpcore closes that connection, nothing of
    the stream's is left pending (no waiter, no timer), the next call goes on a new one."""
    loop = asyncio.get_running_loop()
    async with serve() as server, pool() as client:
        server.then(Action.HANG, OK, OK)
        call = asyncio.ensure_future(client.post(server.base_url + "/json.fcgi", content=b"{}"))
        await server.seen_request.wait()
        assert armed_timers(loop) == 1  # the read timeout's
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert armed_timers(loop) == 0
        for _ in range(2):
            response = await client.post(server.base_url + "/json.fcgi", content=b"{}")
            assert response.status_code == 200
        assert asyncio.all_tasks() == {asyncio.current_task()}
    assert server.connections == 2


async def test_library_calls_after_a_cancelled_one_succeed() -> None:
    async with serve() as server, httpx_client(server.base_url, read=1.0) as client:
        server.then(Action.HANG, OK, OK)
        call = asyncio.ensure_future(client.wipe("jane@example.com"))
        await server.seen_request.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        for _ in range(2):
            result = await client.wipe("jane@example.com")
            assert result.status is mk.WipeStatus.QUEUED
