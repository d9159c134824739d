"""Both engines against real servers nobody here wrote: no error of any kind when calls meet
a server closing its idle keep-alive connections.

uvicorn (h11 and httptools), hypercorn and aiohttp.web, each in a child process with a
0.1 s keep-alive timeout (`tests._real_servers`). The idle race sends bursts of unsafe
`revalidate(agreement=False)` calls after pauses on either side of that timeout; the busy
loop blocks the event loop while the server's close arrives; a pause between a connect and
its first request outlasts a server's timer that runs from the accept (hypercorn's, aiohttp's).
A call that met a closing connection would end as OutcomeUnknownError; a server that is not
installed is skipped.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterator
from typing import Any

import pytest

import mailkit_async as mk
from tests._real_servers import CLIENT_ID, CLIENT_MD5, available, busy_loop, idle_race, running

KEEP_ALIVE = 0.1
SERVERS = ["uvicorn-h11", "uvicorn-httptools", "hypercorn", "aiohttp.web"]


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    name = str(request.param)
    if not available(name):
        pytest.skip(f"{name} is not installed")
    with running(name, keep_alive=KEEP_ALIVE) as base_url:
        yield base_url


async def test_idle_race(server: str, engine: str) -> None:
    outcomes = await idle_race(
        server, engine, calls=200, burst=10, keep_alive=KEEP_ALIVE, spread=0.01
    )
    assert outcomes == collections.Counter(ok=200)


async def test_busy_loop(server: str, engine: str) -> None:
    outcomes = await busy_loop(server, engine, rounds=3, keep_alive=KEEP_ALIVE)
    assert outcomes == collections.Counter(ok=3)


async def test_a_new_connection_closed_before_its_request_is_replaced(
    server: str, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that gets no CPU between its connect and its write (here: a pause after the
    first connect, past the server's keep-alive timeout) finds that connection closed by a
    server whose idle timer runs from the accept, and sends on a new one: the unsafe call
    succeeds. Servers that wait for a first request anyway answer on the first connection."""
    from mailkit_async._h1_sender import H1Sender
    from mailkit_async._httpx_network import NetworkBackend

    connects: list[str] = []

    def pausing(original: Any) -> Any:
        async def connect(*args: Any, **kwargs: Any) -> Any:
            connection = await original(*args, **kwargs)
            connects.append(server)
            if len(connects) == 1:
                await asyncio.sleep(KEEP_ALIVE * 2)
            return connection

        return connect

    monkeypatch.setattr(H1Sender, "_connect", pausing(H1Sender._connect))
    monkeypatch.setattr(NetworkBackend, "connect_tcp", pausing(NetworkBackend.connect_tcp))
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, base_url=server, engine=engine  # type: ignore[arg-type]
    ) as client:
        result = await client.revalidate("jane@example.com", agreement=False)
    assert result.status is mk.RevalidateStatus.CONFIRMATION_SENT
    assert len(connects) in (1, 2)
