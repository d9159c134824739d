"""The emulator on a real loopback HTTP/1.1 server, driven by httpx and by raw sockets.

Proves that the server answers both protocols as the in-process core does; that it keeps
connections alive, honours Connection: close and HTTP/1.0, answers pipelined requests in
order and many concurrent clients; that what it cannot serve is refused and closed; that a
client leaving mid-request does not hurt it; and that it listens on loopback only and, on
exit (even through an exception), closes every connection and leaves no task behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import xmlrpc.client

import httpx
import pytest

from mailkit_async.testing import MailkitEmulator, serve

CLIENT_ID = "12345"
MD5 = "0123456789abcdef0123456789abcdef"
JANE = 12345678
LIST_BODY = json.dumps(
    {"function": "mailkit.mailinglist.list", "id": CLIENT_ID, "md5": MD5}
).encode()
LIST_REPLY = b'[{"ID_USER_LIST":"1","NAME":"Default","DESCRIPTION":"","STATUS":"enabled"}]'


@pytest.fixture
def emu() -> MailkitEmulator:
    emulator = MailkitEmulator(CLIENT_ID, MD5)
    emulator.add_recipient("jane@example.com")
    return emulator


def client(base_url: str) -> httpx.AsyncClient:
    # trust_env=False: a proxy from the environment must never see loopback test traffic.
    return httpx.AsyncClient(base_url=base_url, trust_env=False)


async def open_raw(base_url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", httpx.URL(base_url).port)


async def close_raw(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):  # the server may have reset it first
        await writer.wait_closed()


async def exchange(base_url: str, data: bytes) -> bytes:
    """Send raw bytes and read until the server hangs up."""
    reader, writer = await open_raw(base_url)
    writer.write(data)
    try:
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        await close_raw(writer)


def post(body: bytes, *extra: str, path: str = "/json.fcgi") -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def test_json_and_xmlrpc_over_loopback(emu: MailkitEmulator) -> None:
    xml = xmlrpc.client.dumps((int(CLIENT_ID), MD5, "jane@example.com"), "mailkit.email.wipe")
    async with serve(emu) as server, client(server.base_url) as http:
        assert server.base_url.startswith("http://127.0.0.1:")
        response = await http.post("/json.fcgi", content=LIST_BODY)
        assert (response.status_code, response.content) == (200, LIST_REPLY)
        assert response.headers["content-type"] == "application/json"
        response = await http.post("/rpc.fcgi", content=xml.encode())
        assert response.headers["content-type"] == "text/xml; charset=utf-8"
        assert xmlrpc.client.loads(response.content)[0] == (
            {"email": "jane@example.com", "error_status": 0, "ID_email": JANE, "error": "OK"},
        )
    assert emu.wipe_queue == frozenset({JANE})


async def test_http_errors_over_loopback(emu: MailkitEmulator) -> None:
    async with serve(emu) as server, client(server.base_url) as http:
        assert (await http.get("/json.fcgi")).status_code == 405
        assert (await http.post("/elsewhere", content=b"x")).status_code == 404
        response = await http.post("/rpc.fcgi?x=1", content=b"junk")
        assert (response.status_code, response.text) == (
            400,
            "Bad Request: body is not an XML-RPC methodCall\n",
        )
        # Errors of the API itself are still 200s; the connection survives all of them.
        response = await http.post("/json.fcgi", content=LIST_BODY.replace(MD5.encode(), b"x"))
        assert response.content == b'{"error_status":1,"error":"Unauthorized"}'
    assert server.connections_opened == 1


async def test_keep_alive_reuses_one_connection(emu: MailkitEmulator) -> None:
    async with serve(emu) as server, client(server.base_url) as http:
        for _ in range(50):
            response = await http.post("/json.fcgi", content=LIST_BODY)
            assert response.content == LIST_REPLY
            assert "connection" not in response.headers
    assert server.connections_opened == 1
    assert len(emu.calls) == 50


async def test_connection_close_is_honoured(emu: MailkitEmulator) -> None:
    async with serve(emu) as server, client(server.base_url) as http:
        for _ in range(3):
            response = await http.post(
                "/json.fcgi", content=LIST_BODY, headers={"Connection": "close"}
            )
            assert response.headers["connection"] == "close"
            assert response.content == LIST_REPLY
    assert server.connections_opened == 3


async def test_http_1_0_closes_unless_asked_to_keep_alive(emu: MailkitEmulator) -> None:
    async with serve(emu) as server:
        request = post(LIST_BODY).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
        reply = await exchange(server.base_url, request)
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\nConnection: close\r\n" in reply
        assert reply.endswith(b"\r\n\r\n" + LIST_REPLY)


async def test_pipelined_requests_on_one_connection(emu: MailkitEmulator) -> None:
    async with serve(emu) as server:
        reply = await exchange(
            server.base_url, post(LIST_BODY) + post(LIST_BODY, "Connection: close")
        )
    assert reply.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert reply.count(LIST_REPLY) == 2
    assert server.connections_opened == 1


async def test_many_concurrent_clients(emu: MailkitEmulator) -> None:
    limits = httpx.Limits(max_connections=20)
    async with serve(emu) as server:
        async with httpx.AsyncClient(
            base_url=server.base_url, trust_env=False, limits=limits
        ) as http:
            responses = await asyncio.gather(
                *(http.post("/json.fcgi", content=LIST_BODY) for _ in range(300))
            )
        assert {r.content for r in responses} == {LIST_REPLY}
        assert 1 < server.connections_opened <= 20
    assert len(emu.calls) == 300


async def test_many_concurrent_connections(emu: MailkitEmulator) -> None:
    """100 raw connections, each with 10 keep-alive requests, served side by side."""

    async def one_connection(base_url: str) -> int:
        reader, writer = await open_raw(base_url)
        served = 0
        for _ in range(10):
            writer.write(post(LIST_BODY))
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert f"Content-Length: {len(LIST_REPLY)}\r\n".encode() in head
            served += await reader.readexactly(len(LIST_REPLY)) == LIST_REPLY
        await close_raw(writer)
        return served

    async with serve(emu) as server:
        served = await asyncio.gather(*(one_connection(server.base_url) for _ in range(100)))
        assert server.connections_opened == 100
    assert served == [10] * 100
    assert len(emu.calls) == 1000


async def test_client_ip_is_the_peer_address() -> None:
    emu = MailkitEmulator(CLIENT_ID, MD5, allowed_ips=[])
    async with serve(emu) as server, client(server.base_url) as http:
        response = await http.post("/json.fcgi", content=LIST_BODY)
    assert response.content == b'{"error_status":1,"error":"Disallowed IP 127.0.0.1"}'


async def test_inject_over_loopback(emu: MailkitEmulator) -> None:
    emu.inject(
        "*",
        b"<html>maintenance</html>",
        status=503,
        content_type="text/html",
        headers={"Retry-After": "2"},
    )
    async with serve(emu) as server, client(server.base_url) as http:
        response = await http.post("/json.fcgi", content=b"not even json")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert response.text == "<html>maintenance</html>"
        response = await http.post("/json.fcgi", content=LIST_BODY)
        assert response.content == LIST_REPLY


async def test_odd_injected_status_has_an_empty_reason(emu: MailkitEmulator) -> None:
    emu.inject("*", b"?", status=599)
    async with serve(emu) as server:
        reply = await exchange(server.base_url, post(LIST_BODY, "Connection: close"))
    assert reply.startswith(b"HTTP/1.1 599 \r\n")


@pytest.mark.parametrize(
    ("request_bytes", "status_line"),
    [
        (
            b"POST /json.fcgi HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n",
            b"HTTP/1.1 411 Length Required\r\n",
        ),
        (b"POST /json.fcgi HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 411 Length Required\r\n"),
        (
            b"POST /json.fcgi HTTP/1.1\r\nContent-Length: 16777217\r\n\r\n",
            b"HTTP/1.1 413 ",  # the phrase changed in Python 3.13
        ),
        (
            b"POST /json.fcgi HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\n",
        ),
        (
            b"POST /json.fcgi HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"HTTP/1.1 400 Bad Request\r\n",
        ),
        (b"POST /json.fcgi\r\n\r\n", b"HTTP/1.1 400 Bad Request\r\n"),
        (b"POST /json.fcgi HTTP/2.0\r\n\r\n", b"HTTP/1.1 400 Bad Request\r\n"),
        (b"POST /json.fcgi HTTP/1.1\r\nno colon\r\n\r\n", b"HTTP/1.1 400 Bad Request\r\n"),
        (
            b"POST /json.fcgi HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        ),
    ],
)
async def test_unsupported_requests_are_refused_and_closed(
    emu: MailkitEmulator, request_bytes: bytes, status_line: bytes
) -> None:
    async with serve(emu) as server:
        reply = await exchange(server.base_url, request_bytes)
    assert reply.startswith(status_line)
    assert b"\r\nConnection: close\r\n" in reply
    assert emu.calls == []


async def test_get_without_a_body_is_405(emu: MailkitEmulator) -> None:
    async with serve(emu) as server:
        reply = await exchange(
            server.base_url, b"GET /json.fcgi HTTP/1.1\r\nConnection: close\r\n\r\n"
        )
    assert reply.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert b"\r\nAllow: POST\r\n" in reply


@pytest.mark.parametrize(
    "partial",
    [
        post(LIST_BODY)[:-10],  # mid-body
        b"POST /json.fcgi HTTP/1.1\r\nContent-Len",  # mid-head
        b"",  # connected and left
    ],
)
async def test_client_leaving_mid_request_does_not_hurt_the_server(
    emu: MailkitEmulator, partial: bytes
) -> None:
    async with serve(emu) as server:
        _, writer = await open_raw(server.base_url)
        writer.write(partial)
        await writer.drain()
        await close_raw(writer)
        async with client(server.base_url) as http:
            response = await http.post("/json.fcgi", content=LIST_BODY)
        assert response.content == LIST_REPLY
        assert server.connections_opened == 2
    assert emu.calls == [("json", "mailkit.mailinglist.list")]


async def test_shutdown_closes_every_connection_and_leaves_no_tasks(emu: MailkitEmulator) -> None:
    """Idle, half-sent and stalled (not reading a large reply) connections all end on exit."""
    emu.inject("mailkit.mailinglist.list", b"x" * (32 * 1024 * 1024))
    async with asyncio.timeout(10), serve(emu) as server:
        idle = await open_raw(server.base_url)
        half = await open_raw(server.base_url)
        half[1].write(post(LIST_BODY)[:-5])
        stalled = await open_raw(server.base_url)
        stalled[1].write(post(LIST_BODY))
        # Once its reply has begun, the server is stuck writing 32 MiB nobody reads.
        assert await stalled[0].readexactly(17) == b"HTTP/1.1 200 OK\r\n"
        async with client(server.base_url) as http:  # and one a client still holds open
            assert (await http.post("/json.fcgi", content=LIST_BODY)).content == LIST_REPLY
            assert server.connections_opened == 4
    assert asyncio.all_tasks() == {asyncio.current_task()}
    for reader, writer in (idle, half):
        assert await reader.read() == b""
        await close_raw(writer)
    received = 0
    while chunk := await stalled[0].read(1024 * 1024):
        received += len(chunk)
    assert received < 32 * 1024 * 1024  # cut short, not finished
    await close_raw(stalled[1])
    with pytest.raises(httpx.ConnectError):
        async with client(server.base_url) as http:
            await http.post("/json.fcgi", content=LIST_BODY)
    gc.collect()  # an unclosed socket or stream would warn here, and warnings are errors


async def test_serve_can_run_twice_and_concurrently(emu: MailkitEmulator) -> None:
    async with serve(emu) as first, serve(emu) as second:
        assert first.base_url != second.base_url
        for server in (first, second):
            async with client(server.base_url) as http:
                assert (await http.post("/json.fcgi", content=LIST_BODY)).content == LIST_REPLY
    async with serve(emu) as third, client(third.base_url) as http:
        assert (await http.post("/json.fcgi", content=LIST_BODY)).status_code == 200


@pytest.mark.parametrize("host", ["localhost", ""])
async def test_serve_listens_on_loopback_only(emu: MailkitEmulator, host: str) -> None:
    with pytest.raises(ValueError, match="loopback IP address only"):
        async with serve(emu, host=host):
            pass


async def test_an_exception_in_the_block_still_closes_everything(emu: MailkitEmulator) -> None:
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def fail_while_serving() -> None:
        async with serve(emu) as server:
            opened.append(await open_raw(server.base_url))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_while_serving()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    [(reader, writer)] = opened
    assert await reader.read() == b""
    await close_raw(writer)
