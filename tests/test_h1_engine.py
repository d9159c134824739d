"""The built-in HTTP engine on loopback sockets: pooling, timeouts, cancellation, TLS, choice.

Proves that sequential calls share one connection, that a connection the server will not
keep, closed while idle or past its expiry is never reused, and that a cancelled exchange
never returns its connection to the pool; that the pool timeout never sends, the deadline
bounds the wait and the exchange, a stalled write times out, a large body goes out whole and
header injection is refused before connecting; that HTTPS verifies against the given CA; and
that `engine=` (and a proxy in the environment) picks the engine, contradictions refused.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trustme

import mailkit_async as mk
from mailkit_async._h1_sender import H1Sender
from mailkit_async.testing import EmulatorTransport, MailkitEmulator
from tests._loopback import Action, LoopbackServer, Reply, reading_nothing, serve

from .conftest import CLIENT_ID, CLIENT_MD5

OK = Reply(200, (("Content-Type", "application/json"),), b'{"error":"OK","error_status":0}')
FUNCTION = "mailkit.email.wipe"


def sender(**options: object) -> H1Sender:
    settings: dict[str, object] = {
        "max_connections": 4,
        "timeout": httpx.Timeout(5.0),
        "max_body": 1024 * 1024,
    }
    settings.update(options)
    return H1Sender(**settings)  # type: ignore[arg-type]


async def post(h1: H1Sender, server: LoopbackServer, body: bytes = b"{}") -> int:
    reply = await h1.post(server.base_url + "/json.fcgi", body, {"X-A": "1"})
    return reply.status


async def test_sequential_calls_share_one_connection() -> None:
    async with serve(OK) as server:
        h1 = sender()
        for _ in range(20):
            assert await post(h1, server) == 200
        await h1.aclose()
    assert server.connections == 1
    assert len(server.requests) == 20


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, (("Connection", "close"),), b"{}"),
        Reply(200, (("Keep-Alive", "timeout=0"),), b"{}"),  # kept for no time at all
    ],
    ids=["connection-close", "short-keep-alive"],
)
async def test_server_that_will_not_keep_the_connection_gets_a_new_one(reply: Reply) -> None:
    async with serve(reply) as server:
        h1 = sender()
        for _ in range(3):
            assert await post(h1, server) == 200
        await h1.aclose()
    assert server.connections == 3


async def test_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async with serve() as server:
        h1 = sender()
        server.then(Reply(200, (), b"{}", close=True), OK)
        assert await post(h1, server) == 200
        await asyncio.sleep(0.05)  # the server's FIN reaches us while the connection is idle
        assert await post(h1, server) == 200  # a new connection, not a dropped call
        await h1.aclose()
    assert server.connections == 2


async def test_idle_connections_expire() -> None:
    async with serve(OK) as server:
        h1 = sender(keepalive_expiry=0.0)
        for _ in range(3):
            assert await post(h1, server) == 200
        await h1.aclose()
    assert server.connections == 3


async def test_cancelled_exchange_never_returns_its_connection_to_the_pool() -> None:
    async with serve() as server:
        h1 = sender()
        server.then(Action.HANG, OK)
        call = asyncio.create_task(post(h1, server))
        await server.seen_request.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert await post(h1, server) == 200
        await h1.aclose()
    assert server.connections == 2


async def test_pool_timeout_never_sends() -> None:
    async with serve(Action.HANG) as server:
        h1 = sender(max_connections=1, timeout=httpx.Timeout(5.0, pool=0.1))
        first = asyncio.create_task(post(h1, server))
        await server.seen_request.wait()
        with pytest.raises(mk.RequestTimeoutError) as caught:
            await post(h1, server)
        assert caught.value.request_sent is False
        assert len(server.requests) == 1
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await h1.aclose()


async def test_deadline_bounds_the_wait_for_a_connection_and_the_exchange() -> None:
    async with serve(Action.HANG) as server:
        h1 = sender(max_connections=1)  # every timeout 5 s: only the deadline can end these
        url = server.base_url + "/json.fcgi"
        first = asyncio.create_task(
            h1.post(url, b"{}", {}, deadline=time.monotonic() + 0.3)
        )
        await server.seen_request.wait()
        with pytest.raises(mk.RequestTimeoutError, match="deadline") as waited:
            await h1.post(url, b"{}", {}, deadline=time.monotonic() + 0.1)
        assert waited.value.request_sent is False
        with pytest.raises(mk.RequestTimeoutError, match="deadline") as stalled:
            await first
        assert stalled.value.request_sent is True
        assert len(server.requests) == 1
        await h1.aclose()


async def test_write_timeout_when_the_server_reads_nothing() -> None:
    async with reading_nothing() as base_url:
        h1 = sender(timeout=httpx.Timeout(5.0, write=0.3))
        try:
            with pytest.raises(mk.RequestTimeoutError) as caught:
                # Far more than loopback socket buffers hold, so the write must stall.
                await h1.post(f"{base_url}/json.fcgi", b"x" * (64 << 20), {})
            assert caught.value.request_sent is True
        finally:
            await h1.aclose()


async def test_large_body_goes_out_whole() -> None:
    body = bytes(range(256)) * 8192  # 2 MiB: past the size sent in one write with the head
    async with serve(OK) as server:
        h1 = sender()
        assert await post(h1, server, body) == 200
        await h1.aclose()
    assert server.requests[0].body == body
    assert server.requests[0].headers["content-length"] == str(len(body))


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "1\r\nX-Injected: 1"}, {"X A": "1"}, {"X-A": "nul\0"}],
    ids=["crlf-in-value", "space-in-name", "nul-in-value"],
)
async def test_header_injection_is_refused_before_connecting(headers: dict[str, str]) -> None:
    async with serve(OK) as server:
        h1 = sender()
        with pytest.raises(mk.ConfigurationError):
            await h1.post(server.base_url + "/json.fcgi", b"{}", headers)
        await h1.aclose()
    assert server.connections == 0


async def test_closed_sender_refuses_calls() -> None:
    h1 = sender()
    await h1.aclose()
    with pytest.raises(mk.ConfigurationError, match="closed"):
        await h1.post("http://127.0.0.1:9/json.fcgi", b"{}", {})


# --- over TLS, both engines ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[LoopbackServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    async with serve(
        Reply(200, (("Content-Type", "application/json"),), b'{"error":"OK","error_status":0}'),
        tls=context,
    ) as server:
        yield server


def trusting_client(
    ca: trustme.CA, server: LoopbackServer, engine: str, **options: Any
) -> mk.MailkitClient:
    """A client of `server` over HTTPS that trusts `ca`."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, base_url=server.base_url, engine=engine, ssl_context=context,
        **options,
    )  # fmt: skip


async def test_https_with_a_trusted_ca(
    ca: trustme.CA, tls_server: LoopbackServer, engine: str
) -> None:
    async with trusting_client(ca, tls_server, engine) as client:
        for _ in range(5):
            result = await client.wipe("jane@example.com")
            assert result.status is mk.WipeStatus.QUEUED
    assert tls_server.connections == 1
    assert tls_server.base_url.startswith("https://")


@pytest.mark.parametrize("early", [False, True], ids=["read-whole", "early-413"])
async def test_https_long_bodies_get_their_answer_early_or_not(
    ca: trustme.CA, tls_server: LoopbackServer, engine: str, early: bool
) -> None:
    """A body far past the socket buffers, over TLS: answered after it is read whole (the
    connection kept), or by a 413 before it is (at once, the connection not reused)."""
    if early:
        tls_server.plan.append(Reply(413, (("Content-Type", "text/plain"),), b"no", early=True))
    async with trusting_client(ca, tls_server, engine, timeout=5.0) as client:
        params = {"email": "jane@example.com", "pad": "x" * (16 << 20)}
        started = time.monotonic()
        if early:
            with pytest.raises(mk.HTTPStatusError) as caught:
                await client.call("mailkit.email.wipe", params)
            assert caught.value.status_code == 413
            assert time.monotonic() - started < 2.0  # not the 5 s write timeout
        else:
            assert (await client.call("mailkit.email.wipe", params)) == {
                "error": "OK",
                "error_status": 0,
            }
        result = await client.wipe("jane@example.com")
        assert result.status is mk.WipeStatus.QUEUED
    assert tls_server.connections == (2 if early else 1)


async def test_https_with_an_unknown_ca_is_a_connect_error(
    tls_server: LoopbackServer, engine: str
) -> None:
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        base_url=tls_server.base_url,
        engine=engine,  # type: ignore[arg-type]
        retry=mk.RetryPolicy(max_attempts=1),
    ) as client:
        with pytest.raises(mk.ConnectError) as caught:
            await client.wipe("jane@example.com")
    assert caught.value.request_sent is False
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert tls_server.requests == []


# --- which engine a client gets -----------------------------------------------------------


def client(**options: object) -> mk.MailkitClient:
    return mk.MailkitClient(CLIENT_ID, CLIENT_MD5, **options)  # type: ignore[arg-type]


async def test_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    async with httpx.AsyncClient() as http:
        chosen = {
            "default": client(),
            "explicit httpx": client(engine="httpx"),
            "transport": client(transport=EmulatorTransport(emulator)),
            "http_client": client(http_client=http),
        }
        engines = {label: c.engine for label, c in chosen.items()}
        for c in chosen.values():
            await c.aclose()
    assert engines == {
        "default": "builtin",
        "explicit httpx": "httpx",
        "transport": "httpx",
        "http_client": "httpx",
    }
    assert "engine='builtin'" in repr(client())


@pytest.mark.parametrize(
    ("environment", "engine"),
    [
        ({"HTTPS_PROXY": "http://proxy.invalid:3128"}, "httpx"),
        ({"ALL_PROXY": "http://proxy.invalid:3128"}, "httpx"),
        ({"HTTP_PROXY": "http://proxy.invalid:3128"}, "builtin"),  # only for http:// URLs
        ({"HTTPS_PROXY": "http://proxy.invalid:3128", "NO_PROXY": "api.mailkit.eu"}, "builtin"),
        ({"HTTPS_PROXY": "http://proxy.invalid:3128", "NO_PROXY": ".mailkit.eu"}, "builtin"),
    ],
)
def test_a_proxy_in_the_environment_selects_httpx(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], engine: str
) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert client().engine == engine


def _mock() -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200))


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"engine": "aiohttp"}, mk.InvalidArgumentError),
        ({"engine": "builtin", "transport": _mock()}, mk.ConfigurationError),
        ({"engine": "builtin", "http_client": True}, mk.ConfigurationError),
        ({"ssl_context": ssl.create_default_context(), "http_client": True}, mk.ConfigurationError),
        ({"ssl_context": "cert.pem"}, mk.InvalidArgumentError),
    ],
    ids=["unknown", "builtin+transport", "builtin+http_client", "ssl+http_client", "ssl-path"],
)
async def test_contradictory_engine_options_fail_at_construction(
    options: dict[str, object], error: type[Exception]
) -> None:
    async with httpx.AsyncClient() as http:
        if options.get("http_client") is True:
            options = {**options, "http_client": http}
        with pytest.raises(error):
            client(**options)
