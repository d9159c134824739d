"""Hostile and odd answers on loopback, both engines: each ends its call at once, typed, and
never leaks into another call.

Forged answers sent unasked (with the event loop busy or not), many header fields, an
oversized head, an answer before the request body is read, endless one-byte chunks, peers
that do not speak HTTP/1.x, and connections the server closes while the loop is blocked or
a margin before its own idle timeout. All served by the scripted server in `tests._loopback`,
over the library's one loopback server core.
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc

import httpx
import pytest

import mailkit_async as mk
from mailkit_async._h1_sender import H1Sender
from tests._loopback import LoopbackServer, Reply, reading_nothing, serve, serve_in_thread

CLIENT_ID = "12345"
CLIENT_MD5 = "0123456789abcdef0123456789abcdef"
JSON = (("Content-Type", "application/json"),)
CAP = 1024 * 1024


def wipe_answer(id_email: int, email: str) -> bytes:
    return json.dumps(
        {"ID_email": id_email, "email": email, "error_status": 0, "error": "OK"}
    ).encode()


def wipe_reply(id_email: int, email: str, **options: object) -> Reply:
    return Reply(200, JSON, wipe_answer(id_email, email), **options)  # type: ignore[arg-type]


def raw_answer(body: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return head % len(body) + body


def client(server: LoopbackServer, engine: str, **options: object) -> mk.MailkitClient:
    options.setdefault("timeout", 5.0)  # every refusal below must come long before this
    return mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        base_url=server.base_url,
        engine=engine,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


# --- answers nobody asked for --------------------------------------------------------------


@pytest.mark.parametrize("loop", ["busy", "idle"])
async def test_an_unsolicited_answer_is_never_read_as_the_next_one(engine: str, loop: str) -> None:
    forged = raw_answer(wipe_answer(666, "somebody.else@example.com"))
    # In a thread of its own: the server must go on while this test blocks its loop.
    async with serve_in_thread() as server, client(server, engine) as mailkit:
        server.then(
            wipe_reply(1, "jane@example.com", unsolicited=forged, unsolicited_after=0.02),
            wipe_reply(2, "joe@example.com"),
        )
        first = await mailkit.wipe("jane@example.com")
        if loop == "busy":
            time.sleep(0.15)  # noqa: ASYNC251  # the forged bytes reach the kernel, unseen
        else:
            await asyncio.sleep(0.15)  # the loop sees them arrive on an idle connection
        second = await mailkit.wipe("joe@example.com")
    assert (first.id_email, first.email) == (1, "jane@example.com")
    assert (second.id_email, second.email) == (2, "joe@example.com")
    assert server.connections == 2  # the connection that carried the forgery was dropped
    assert len(server.requests) == 2


async def test_a_second_answer_in_the_same_segment_is_never_read(engine: str) -> None:
    forged = raw_answer(wipe_answer(666, "somebody.else@example.com"))
    async with serve() as server, client(server, engine) as mailkit:
        server.then(
            Reply(raw=raw_answer(wipe_answer(1, "jane@example.com")) + forged),
            wipe_reply(2, "joe@example.com"),
        )
        first = await mailkit.wipe("jane@example.com")
        second = await mailkit.wipe("joe@example.com")
    assert (first.id_email, second.id_email) == (1, 2)
    assert len(server.requests) == 2


# --- heads: as generous as h11, bounded all the same -----------------------------------------


@pytest.mark.parametrize("fields", [120, 2000])
async def test_many_header_fields_are_taken(engine: str, fields: int) -> None:
    many = tuple((f"X-Field-{i}", f"value {i}") for i in range(fields))
    async with serve() as server, client(server, engine) as mailkit:
        server.then(Reply(200, JSON + many, wipe_answer(1, "jane@example.com")))
        result = await mailkit.wipe("jane@example.com")
    assert result.status is mk.WipeStatus.QUEUED
    assert len(server.requests) == 1


@pytest.mark.parametrize("function", ["wipe", "revalidate"])
async def test_an_oversized_head_is_a_protocol_error_sent_once(engine: str, function: str) -> None:
    big = (("X-Big", "v" * (200 * 1024)),)  # past both engines' bounds (128 and 100 KiB)
    retry = mk.RetryPolicy(max_attempts=4, initial_backoff=0.0)
    async with (
        serve(Reply(200, JSON + big, b"{}")) as server,
        client(server, engine, retry=retry) as mailkit,
    ):
        call = (
            mailkit.wipe("jane@example.com")
            if function == "wipe"
            else mailkit.revalidate("jane@example.com", agreement=False)
        )
        with pytest.raises(mk.MalformedResponseError, match="malformed HTTP answer"):
            await call
    assert len(server.requests) == 1  # refused the same way each time: never sent again


# --- peers that are not speaking HTTP/1.x --------------------------------------------------

NOT_HTTP_1 = {
    "HTTP/0.9 body": b"<html><body>Welcome</body></html>\n",
    "HTTP/2 SETTINGS frame": b"\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64",
}


@pytest.mark.parametrize("raw", list(NOT_HTTP_1.values()), ids=list(NOT_HTTP_1))
async def test_a_peer_not_speaking_http_1_fails_the_call_at_once(engine: str, raw: bytes) -> None:
    # The connection stays open: waiting for more would wait out the 5 s read timeout.
    async with serve(Reply(raw=raw)) as server, client(server, engine) as mailkit:
        started = time.monotonic()
        with pytest.raises(mk.MalformedResponseError, match=r"not an HTTP/1\.x answer"):
            await mailkit.revalidate("jane@example.com", agreement=False)
        assert time.monotonic() - started < 2.0
    assert len(server.requests) == 1


async def test_a_bare_lf_head(engine: str) -> None:
    """Refused at once by the built-in engine; the httpx engine parses it as h11 does."""
    body = wipe_answer(1, "jane@example.com")
    raw = b"HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: %d\n\n" % len(body)
    async with serve(Reply(raw=raw + body)) as server, client(server, engine) as mailkit:
        started = time.monotonic()
        if engine == "builtin":
            with pytest.raises(mk.MalformedResponseError, match="bare LF"):
                await mailkit.wipe("jane@example.com")
        else:
            assert (await mailkit.wipe("jane@example.com")).id_email == 1
        assert time.monotonic() - started < 2.0
    assert len(server.requests) == 1


# --- bodies: bounded by the cap, however they are framed -----------------------------------


async def test_endless_one_byte_chunks_end_at_the_cap_in_bounded_memory(engine: str) -> None:
    # h11 costs the httpx engine some 20 us a chunk: a smaller cap keeps this test short.
    cap = 1024 * 1024 if engine == "builtin" else 32 * 1024
    endless = Reply(200, JSON, b"x", repeat=10**9, chunked=True, chunk_size=1)
    async with (
        serve_in_thread(endless) as server,
        client(server, engine, max_response_bytes=cap) as mailkit,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(mk.ResponseTooLargeError):
                await mailkit.wipe("jane@example.com")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # Kept a piece a chunk, a body takes some 80 bytes a byte: 80 MiB at the built-in's cap.
    # The socket reads (up to 256 KiB) and the server's writes are in the peak too.
    assert peak < 2 * cap + 1024 * 1024


# --- an answer before the request is all sent ----------------------------------------------


async def test_an_early_answer_ends_the_call_before_the_body_is_sent() -> None:
    """A server answers 413 as soon as the head is in, and reads no more of a 64 MiB body."""
    early = Reply(413, (("Content-Type", "text/plain"),), b"too large\n", early=True)
    async with serve(early) as server:
        h1 = H1Sender(max_connections=2, timeout=httpx.Timeout(5.0), max_body=CAP)
        started = time.monotonic()
        reply = await h1.post(
            server.base_url + "/json.fcgi",
            b"x" * (64 << 20),  # far more than the socket buffers hold
            {},
            deadline=time.monotonic() + 4.0,
        )
        elapsed = time.monotonic() - started
        assert (reply.status, reply.body) == (413, b"too large\n")
        assert elapsed < 2.0  # not the 5 s write timeout, not the 4 s deadline
        server.default = wipe_reply(1, "jane@example.com")
        again = await h1.post(server.base_url + "/json.fcgi", b"{}", {})
        await h1.aclose()
    assert again.status == 200
    assert server.connections == 2  # the half-sent request's connection was not reused


async def test_an_early_413_is_an_http_status_error_at_once(engine: str) -> None:
    """The answer is read while the body is still being written, on both engines: not the
    5 s write timeout, and the call is not sent again."""
    early = Reply(413, (("Content-Type", "text/plain"),), b"too large\n", early=True)
    async with serve(early) as server, client(server, engine) as mailkit:
        started = time.monotonic()
        with pytest.raises(mk.HTTPStatusError) as caught:
            await mailkit.call(
                "mailkit.email.wipe", {"email": "jane@example.com", "pad": "x" * (32 << 20)}
            )
        elapsed = time.monotonic() - started
    assert caught.value.status_code == 413
    assert elapsed < 2.0
    assert len(server.requests) == 1


async def test_the_deadline_bounds_writing_the_body(engine: str) -> None:
    """A server that reads nothing: the call ends at its deadline, not the write timeout."""
    policy = mk.RetryPolicy(max_attempts=1, deadline=0.5)
    async with reading_nothing() as base_url:
        async with mk.MailkitClient(
            CLIENT_ID,
            CLIENT_MD5,
            base_url=base_url,
            engine=engine,  # type: ignore[arg-type]
            timeout=httpx.Timeout(10.0),
            retry=policy,
        ) as mailkit:
            payload = {"email": "jane@example.com", "pad": "x" * (32 << 20)}
            started = time.monotonic()
            with pytest.raises(mk.RequestTimeoutError, match="deadline") as caught:
                await mailkit.call("mailkit.email.wipe", payload, idempotent=True)
            # Encoding 32 MiB comes before the deadline starts; the rest is bounded by it.
            assert time.monotonic() - started < 5.0
        assert caught.value.request_sent is True


# --- keep-alive: closed while the loop was busy, retired before the server closes ----------


async def test_a_connection_closed_while_the_loop_was_blocked_is_not_reused(engine: str) -> None:
    async with (
        serve_in_thread(wipe_reply(1, "jane@example.com"), idle_timeout=0.1) as server,
        client(server, engine) as mailkit,
    ):
        await mailkit.revalidate("jane@example.com", agreement=False)
        await asyncio.sleep(0.05)
        time.sleep(0.15)  # noqa: ASYNC251  # the server's FIN arrives; the loop sees none
        result = await mailkit.revalidate("jane@example.com", agreement=False)
    assert result is not None
    assert server.connections == 2
    assert len(server.requests) == 2


async def test_a_servers_keep_alive_timeout_is_honoured_with_a_margin(engine: str) -> None:
    # The server says 1 s (and would keep it longer): reused after 0.1 s, not after 0.8 s.
    kept = Reply(200, (*JSON, ("Keep-Alive", "timeout=1, max=100")), wipe_answer(1, "a@x.cz"))
    async with serve(kept) as server, client(server, engine) as mailkit:
        await mailkit.wipe("jane@example.com")
        await asyncio.sleep(0.1)
        await mailkit.wipe("jane@example.com")
        assert server.connections == 1
        await asyncio.sleep(0.8)
        await mailkit.wipe("jane@example.com")
    assert server.connections == 2


async def test_the_idle_time_after_which_a_server_closes_is_learned() -> None:
    """The server sends no Keep-Alive header and closes connections idle 0.3 s: once one
    closes, a connection idle longer than that, less the margin, is not reused."""
    async with (
        serve(wipe_reply(1, "jane@example.com"), idle_timeout=0.3) as server,
        client(server, "builtin") as mailkit,
    ):
        await mailkit.wipe("jane@example.com")
        await asyncio.sleep(0.2)
        await mailkit.wipe("jane@example.com")
        assert server.connections == 1  # nothing learned yet: reused
        await asyncio.sleep(0.4)  # the server closes it; the client sees that at 0.3 s
        await mailkit.wipe("jane@example.com")
        assert server.connections == 2
        await asyncio.sleep(0.26)  # past 0.3 s less the margin, short of the server's 0.3
        await mailkit.wipe("jane@example.com")
    assert server.connections == 3
    assert len(server.requests) == 4
