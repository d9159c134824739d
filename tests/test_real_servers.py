"""Both engines against real servers nobody here wrote: no error of any kind when calls meet
a server closing its idle keep-alive connections.

uvicorn (h11 and httptools), hypercorn and aiohttp.web, each in a child process with a
0.1 s keep-alive timeout (`tests._real_servers`). The idle race sends bursts of unsafe
`revalidate(agreement=False)` calls after pauses on either side of that timeout; the busy
loop blocks the event loop while the server's close arrives. A call that met a closing
connection would end as OutcomeUnknownError; a server that is not installed is skipped.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator

import pytest

from tests._real_servers import available, busy_loop, idle_race, running

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
