"""What checking a pooled connection costs the built-in engine per call: a micro-benchmark.

    python benchmarks/reuse_check.py

One idle keep-alive connection to a loopback server; the pool's take-and-give-back cycle
(`H1Sender._reuse` then `_release`, what every call on a warm connection does besides the
exchange itself) is timed with the socket check as shipped and with it replaced by a stub
that answers "nothing to read". Each figure is the best of 7 timeit samples.
"""

from __future__ import annotations

import asyncio
import timeit

import httpx

from mailkit_async._h1_parse import ResponseParser
from mailkit_async._h1_sender import H1Sender, _parse_target

CYCLES = 100_000


async def _measure() -> dict[str, float]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    listener = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    sender = H1Sender(max_connections=1, timeout=httpx.Timeout(5.0), max_body=1024)
    url = f"http://127.0.0.1:{port}/json.fcgi"
    parser = ResponseParser(1024)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    loop = asyncio.get_running_loop()
    target = _parse_target(url, {})
    connection = await sender._connect(target, loop, float("inf"))
    sender._release(connection, parser)

    def cycle() -> None:
        taken = sender._reuse(target.origin)
        assert taken is not None
        sender._release(taken, parser)

    checked = min(timeit.repeat(cycle, number=CYCLES, repeat=7)) / CYCLES
    real = connection.readable
    connection.readable = lambda: False  # type: ignore[method-assign]
    unchecked = min(timeit.repeat(cycle, number=CYCLES, repeat=7)) / CYCLES
    connection.readable = real  # type: ignore[method-assign]
    poll = min(timeit.repeat(real, number=CYCLES, repeat=7)) / CYCLES
    await sender.aclose()
    await asyncio.sleep(0.1)  # the server's handler sees the close and ends
    listener.close()
    await listener.wait_closed()
    return {"with check": checked, "without": unchecked, "poll alone": poll}


def main() -> None:
    figures = asyncio.run(_measure())
    for name, seconds in figures.items():
        print(f"{name:<12} {seconds * 1e6:6.2f} us per call")
    print(f"the check costs {(figures['with check'] - figures['without']) * 1e6:.2f} us per call")


if __name__ == "__main__":
    main()
