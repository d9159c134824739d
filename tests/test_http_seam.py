"""The HTTP seam over real loopback sockets: every httpx failure becomes the documented error.

After each failing call the same client must still complete a normal call, so a failure never
poisons the connection pool.
"""

from __future__ import annotations

import email.utils
import json
import math
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailkit_async import (
    ConnectError,
    ConnectionDroppedError,
    HTTPStatusError,
    MailkitClient,
    MalformedResponseError,
    RateLimitedError,
    RequestTimeoutError,
    RetryPolicy,
    WipeStatus,
)
from mailkit_async._http import parse_retry_after
from mailkit_async._httpx_sender import HttpxSender
from tests._loopback import Action, LoopbackServer, Reply, closed_port, serve

CLIENT_ID = "12345"
CLIENT_MD5 = "0123456789abcdef0123456789abcdef"
ADDRESS = "a@example.com"

WIPE_OK_JSON = Reply(
    headers=(("Content-Type", "application/json"),),
    body=json.dumps(
        {"ID_email": 12345678, "email": ADDRESS, "error_status": 0, "error": "OK"}
    ).encode(),
)
WIPE_OK_XML = Reply(
    headers=(("Content-Type", "text/xml"),),
    body=b"<?xml version='1.0'?>\n<methodResponse><params><param><value><string>OK</string>"
    b"</value></param></params></methodResponse>",
)
OK = {"json": WIPE_OK_JSON, "xmlrpc": WIPE_OK_XML}
HTML = b"<!doctype html><html><body><h1>Down for maintenance</h1></body></html>"


#: Options every client here gets; the `_engine` fixture sets the HTTP engine under test.
CLIENT_OPTIONS: dict[str, object] = {}


@pytest.fixture(autouse=True)
def _engine(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CLIENT_OPTIONS, "engine", engine)


def client_for(base_url: str, protocol: str = "json", **options: object) -> MailkitClient:
    options = {**CLIENT_OPTIONS, **options}
    options.setdefault("timeout", 5.0)  # a broken test fails in seconds, not after 30
    # These tests look at how one attempt's failure is translated; retries have their own.
    options.setdefault("retry", RetryPolicy(max_attempts=1))
    return MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        protocol=protocol,  # type: ignore[arg-type]
        base_url=base_url,
        **options,  # type: ignore[arg-type]
    )


async def still_works(client: MailkitClient, server: LoopbackServer, protocol: str) -> None:
    """The next call on the same client gets through and is decoded as success."""
    seen = len(server.requests)
    server.then(OK[protocol])
    result = await client.wipe(ADDRESS)
    assert result.status is WipeStatus.QUEUED
    assert result.message == "OK"
    assert len(server.requests) == seen + 1


# --- exception translation -------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
async def test_closed_port_is_connect_error_that_was_never_sent(protocol: str) -> None:
    port = closed_port()
    async with client_for(f"http://127.0.0.1:{port}", protocol) as client:
        with pytest.raises(ConnectError) as caught:
            await client.wipe(ADDRESS)
        assert type(caught.value) is ConnectError
        assert caught.value.request_sent is False
        assert caught.value.function == "mailkit.email.wipe"
        assert CLIENT_MD5 not in str(caught.value)
        # Something starts listening there: the very same client now gets through.
        async with serve(port=port) as server:
            await still_works(client, server, protocol)
            assert server.requests[0].target.endswith(".fcgi")


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
async def test_hang_up_without_answer_is_connection_dropped(protocol: str) -> None:
    async with serve() as server, client_for(server.base_url, protocol) as client:
        server.then(Action.DROP)
        with pytest.raises(ConnectionDroppedError) as caught:
            await client.wipe(ADDRESS)
        assert type(caught.value) is ConnectionDroppedError
        assert caught.value.request_sent is True
        assert len(server.requests) == 1  # the service did see it: it may have acted
        await still_works(client, server, protocol)
        assert server.connections == 2  # the broken connection was not reused


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
async def test_no_answer_within_timeout_is_request_timeout(protocol: str) -> None:
    async with serve() as server, client_for(server.base_url, protocol, timeout=0.2) as client:
        server.then(Action.HANG)
        started = time.perf_counter()
        with pytest.raises(RequestTimeoutError) as caught:
            await client.wipe(ADDRESS)
        assert time.perf_counter() - started < 5.0
        assert caught.value.request_sent is True
        assert isinstance(caught.value, TimeoutError)
        assert len(server.requests) == 1
        await still_works(client, server, protocol)


async def test_429_with_retry_after_is_rate_limited() -> None:
    async with serve() as server, client_for(server.base_url) as client:
        server.then(Reply(429, (("Retry-After", "7"),), b"slow down"))
        with pytest.raises(RateLimitedError) as caught:
            await client.wipe(ADDRESS)
        assert caught.value.status_code == 429
        assert caught.value.retry_after == 7.0
        assert caught.value.request_sent is True
        await still_works(client, server, "json")


async def test_429_without_retry_after_has_none() -> None:
    async with serve() as server, client_for(server.base_url) as client:
        server.then(Reply(429, body=b""))
        with pytest.raises(RateLimitedError) as caught:
            await client.wipe(ADDRESS)
        assert caught.value.retry_after is None
        await still_works(client, server, "json")


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
async def test_503_with_html_is_http_status_error(protocol: str) -> None:
    async with serve() as server, client_for(server.base_url, protocol) as client:
        server.then(Reply(503, (("Content-Type", "text/html"), ("Retry-After", "2")), HTML))
        with pytest.raises(HTTPStatusError) as caught:
            await client.wipe(ADDRESS)
        assert type(caught.value) is HTTPStatusError  # not RateLimitedError
        assert caught.value.status_code == 503
        assert caught.value.retry_after == 2.0
        assert "503" in str(caught.value)
        await still_works(client, server, protocol)


@pytest.mark.parametrize("status", [500, 302, 404, 599])
async def test_other_non_2xx_statuses_are_http_status_errors(status: int) -> None:
    async with serve() as server, client_for(server.base_url) as client:
        server.then(Reply(status, (("Location", "http://127.0.0.1:1/"),), HTML))
        with pytest.raises(HTTPStatusError) as caught:
            await client.wipe(ADDRESS)
        assert type(caught.value) is HTTPStatusError
        assert caught.value.status_code == status
        await still_works(client, server, "json")


async def test_200_with_html_on_json_is_malformed() -> None:
    async with serve() as server, client_for(server.base_url) as client:
        server.then(Reply(200, (("Content-Type", "text/html"),), HTML))
        with pytest.raises(MalformedResponseError):
            await client.wipe(ADDRESS)
        await still_works(client, server, "json")


@pytest.mark.parametrize("header", [b"\xb2", b"\xc2\xb2", b"\xb9\xb2"])
async def test_superscript_digit_retry_after_is_ignored_not_crashing(header: bytes) -> None:
    # A Latin-1 or UTF-8 "²" decodes to a str that isdigit() but int() refuses.
    async with serve() as server, client_for(server.base_url) as client:
        server.then(Reply(429, (("Retry-After", header.decode("latin-1")),), b""))
        with pytest.raises(RateLimitedError) as caught:
            await client.wipe(ADDRESS)
        assert caught.value.retry_after is None
        await still_works(client, server, "json")


async def test_truncated_body_is_connection_dropped() -> None:
    async with serve() as server, client_for(server.base_url) as client:
        # The reply promises 100 bytes, sends 9 and hangs up.
        server.then(Reply(200, (("Content-Length", "100"),), b'{"error":', close=True))
        with pytest.raises(ConnectionDroppedError) as caught:
            await client.wipe(ADDRESS)
        assert caught.value.request_sent is True
        await still_works(client, server, "json")


@pytest.mark.parametrize(
    "raw",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["status-line", "conflicting-lengths", "transfer-coding", "chunk-size"],
)
@pytest.mark.parametrize("function", ["wipe", "revalidate"])
async def test_broken_http_framing_is_a_protocol_error_never_resent(
    raw: bytes, function: str
) -> None:
    # Both engines: the answer arrived, so the request reached the server; refusing it is
    # deterministic, so neither a safe wipe (retries on) nor an unsafe revalidate is sent
    # again. The connection is never reused: nothing after broken framing can be trusted.
    retry = RetryPolicy(max_attempts=4, initial_backoff=0.0)
    async with serve() as server, client_for(server.base_url, retry=retry) as client:
        server.then(Reply(raw=raw, close=True))
        call = (
            client.wipe(ADDRESS)
            if function == "wipe"
            else client.revalidate(ADDRESS, agreement=False)
        )
        with pytest.raises(MalformedResponseError, match="malformed HTTP answer"):
            await call
        assert len(server.requests) == 1
        await still_works(client, server, "json")
        assert server.connections == 2


async def test_sender_reports_status_headers_and_body() -> None:
    # The seam itself, without the client: a non-2xx is not an exception at this layer.
    async with serve(Reply(418, (("X-Probe", "yes"),), b"teapot")) as server:
        async with httpx.AsyncClient(timeout=5.0) as http:
            sender = HttpxSender(http, owns_client=False, max_body=1024, max_concurrency=4)
            reply = await sender.post(
                server.base_url + "/json.fcgi", b"{}", {"X-Seen": "1"}
            )
            await sender.aclose()  # not owned: must leave `http` usable
            assert not http.is_closed
        assert reply.status == 418
        assert reply.headers["x-probe"] == "yes"
        assert reply.body == b"teapot"
        assert server.requests[0].headers["x-seen"] == "1"
        assert server.requests[0].body == b"{}"


async def test_sender_closes_the_client_it_owns() -> None:
    http = httpx.AsyncClient()
    sender = HttpxSender(http, owns_client=True, max_body=1024, max_concurrency=4)
    await sender.aclose()
    assert http.is_closed


async def test_request_goes_out_as_documented() -> None:
    async with serve(WIPE_OK_JSON) as server, client_for(server.base_url) as client:
        await client.wipe(ADDRESS)
    (request,) = server.requests
    assert request.method == "POST"
    assert request.target == "/json.fcgi"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept-encoding"] == "identity"
    assert json.loads(request.body)["function"] == "mailkit.email.wipe"


# --- Retry-After -----------------------------------------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("7", 7.0),
        ("  12 ", 12.0),
        ("120", 120.0),
        (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
        (email.utils.formatdate(NOW - 3600, usegmt=True), 0.0),  # past: no wait, not negative
        (None, None),
        ("-5", None),
        ("+5", None),
        ("7.5", None),
        ("inf", None),
        ("-inf", None),
        ("nan", None),
        ("1e10", None),
        ("", None),
        ("   ", None),
        ("garbage", None),
        ("Wed, 21 Oct 100000 07:28:00 GMT", None),  # year beyond datetime
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),
        ("Wed, 21 Oct 2015 07:28:00 -0000", None),  # RFC 2822 "unknown zone" is naive
        (str(10**35), None),
        ("\u00b2", None),  # superscript two: isdigit() is True, int() refuses
        ("\u00b9\u00b2", None),
        ("\u2460", None),  # circled digit one, likewise
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(max_size=40) | st.from_regex(r"\s*[0-9\u00b2\u00b3\u00b9\u2460]{0,12}\s*"))
def test_parse_retry_after_never_raises(value: str) -> None:
    result = parse_retry_after(value, now=NOW)
    assert result is None or (type(result) is float and math.isfinite(result) and result >= 0)


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_parse_retry_after_http_dates(offset: int) -> None:
    stamp = email.utils.formatdate(NOW + offset, usegmt=True)
    assert parse_retry_after(stamp, now=NOW) == max(0.0, float(offset))
