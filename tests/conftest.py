"""Fixtures: clients wired to the emulator, in-process and over real loopback HTTP, for both
protocols and both engines, so that one test proves its claim on every mount."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import mailkit_async as mk
from mailkit_async.testing import EmulatorTransport, MailkitEmulator, serve

# Hypothesis builds its Unicode tables on the first text it draws: seconds on a cold machine,
# no fault of whichever test happens to draw first.
settings.register_profile("mailkit", suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("mailkit")

CLIENT_ID = "12345"
CLIENT_MD5 = "0123456789abcdef0123456789abcdef"

ClientFactory = Callable[..., AbstractAsyncContextManager[mk.MailkitClient]]


@pytest.fixture
def emulator() -> MailkitEmulator:
    return MailkitEmulator(client_id=CLIENT_ID, client_md5=CLIENT_MD5)


@pytest.fixture(params=["json", "xmlrpc"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["in-process", "loopback", "loopback-httpx"])
def mode(request: pytest.FixtureRequest) -> str:
    """In-process (an httpx transport), or real loopback HTTP through either engine."""
    return str(request.param)


@pytest.fixture(params=["builtin", "httpx"])
def engine(request: pytest.FixtureRequest) -> str:
    """The HTTP engine, for tests that must hold for both."""
    return str(request.param)


def engine_of(mode: str) -> str:
    return "httpx" if mode == "loopback-httpx" else "builtin"


@pytest.fixture
def make_client(emulator: MailkitEmulator, protocol: str, mode: str) -> ClientFactory:
    """`async with make_client(**options) as client:` on this test's protocol and mode."""

    @asynccontextmanager
    async def factory(**options: Any) -> AsyncIterator[mk.MailkitClient]:
        options.setdefault("client_id", CLIENT_ID)
        options.setdefault("client_md5", CLIENT_MD5)
        options.setdefault("protocol", protocol)
        if mode == "in-process":
            async with mk.MailkitClient(transport=EmulatorTransport(emulator), **options) as client:
                yield client
        else:
            async with (
                serve(emulator) as server,
                mk.MailkitClient(
                    base_url=server.base_url, engine=engine_of(mode), **options
                ) as client,
            ):
                yield client

    return factory
