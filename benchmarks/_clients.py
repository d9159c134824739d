"""One client configuration, run in this (fresh) process; prints one JSON line of results.

    python benchmarks/_clients.py --client wipe_many --engine builtin --protocol json \
        --concurrency 50 --calls 20000 --port 8080 --control 8081 [--cafile ca.pem]

Clients:
- `wipe_many`: `MailkitClient.wipe_many` (engine "httpx", "builtin", or "default" when the
  library has no `engine` keyword yet); every outcome must be a QUEUED wipe.
- `raw-httpx`, `raw-aiohttp`, `raw-builtin`: what a user would write by hand on that
  transport: N worker tasks on a queue, `json.dumps` the wipe call, POST it, `json.loads` the
  answer and check `error_status`. `raw-builtin` is the same loop on the library's own
  `H1Sender`, the "same transport" baseline for the builtin engine.
- `threads-xmlrpc`: stdlib `xmlrpc.client.ServerProxy`, one per thread, in a
  `ThreadPoolExecutor(N)`: what sync users do today.

Each run first makes max(500, 4N) warm-up calls on the same client (connections opened,
caches filled), then times `--calls` calls. Client CPU is this process's getrusage time over
the timed part (all threads); new connections and server CPU come from the server's control
port, read just before and just after the timed part.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import ssl
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from _common import (
    CLIENT_ID,
    CLIENT_MD5,
    WIPE,
    address,
    cpu_seconds,
    pin,
    server_stats,
    wipe_envelope,
)

CLIENTS: Final = ("wipe_many", "raw-httpx", "raw-aiohttp", "raw-builtin", "threads-xmlrpc")
PATHS: Final = {"json": "/json.fcgi", "xmlrpc": "/rpc.fcgi"}
JSON_HEADERS: Final = {"Content-Type": "application/json"}
MAX_BODY: Final = 8 * 1024 * 1024  # the library's default answer cap


class RunError(Exception):
    """A call failed or answered something other than a successful wipe."""


def warmup_calls(concurrency: int) -> int:
    return max(500, 4 * concurrency)


def library_features() -> dict[str, bool]:
    """Which of the newer MailkitClient keywords and modules this checkout has."""
    from mailkit_async import MailkitClient

    params = inspect.signature(MailkitClient).parameters
    try:
        from mailkit_async import _h1_sender  # noqa: F401
    except ImportError:
        h1 = False
    else:
        h1 = True
    return {"engine": "engine" in params, "ssl_context": "ssl_context" in params, "h1_sender": h1}


class Timed:
    """Counters for the timed part of a run, read the same way for every client."""

    def __init__(self, control: int) -> None:
        self.control = control
        self.latencies: list[float] = []
        self.failures = 0

    def start(self) -> None:
        self.latencies.clear()
        self.failures = 0
        self.server0 = server_stats(self.control)
        self.cpu0 = cpu_seconds()
        self.wall0 = time.perf_counter()

    def stop(self, calls: int) -> dict[str, Any]:
        wall = time.perf_counter() - self.wall0
        cpu = cpu_seconds() - self.cpu0
        server1 = server_stats(self.control)
        result: dict[str, Any] = {
            "calls": calls,
            "wall_s": wall,
            "calls_per_s": calls / wall,
            "cpu_us_per_call": cpu / calls * 1e6,
            "new_connections": int(server1["accepts"] - self.server0["accepts"]),
            # Connections the server itself closed: none, unless a request was malformed.
            "server_closes": int(server1["closes"] - self.server0["closes"]),
            "server_cpu": (server1["cpu_s"] - self.server0["cpu_s"]) / wall,
            "failures": self.failures,
            "p50_ms": None,
            "p99_ms": None,
        }
        if self.latencies:
            ordered = sorted(self.latencies)
            result["p50_ms"] = ordered[len(ordered) // 2] * 1e3
            result["p99_ms"] = ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)] * 1e3
        return result


async def run_queue(
    one: Callable[[int], Awaitable[None]], start: int, count: int, concurrency: int, timed: Timed
) -> None:
    """N worker tasks on a bounded queue fed by a producer: the usual hand-written shape."""
    queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize=2 * concurrency)
    latencies = timed.latencies
    clock = time.perf_counter

    async def worker() -> None:
        while (i := await queue.get()) is not None:
            began = clock()
            try:
                await one(i)
            except Exception:  # counted, and the run reported as failed: never hidden
                timed.failures += 1
            latencies.append(clock() - began)

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    for i in range(start, start + count):
        await queue.put(i)
    for _ in workers:
        await queue.put(None)
    await asyncio.gather(*workers)


async def timed_queue(
    one: Callable[[int], Awaitable[None]], args: argparse.Namespace, timed: Timed
) -> dict[str, Any]:
    """`run_queue` over the warm-up calls, then over `args.calls` calls, timed."""
    n = args.concurrency
    await run_queue(one, 0, warmup_calls(n), n, timed)
    timed.start()
    await run_queue(one, warmup_calls(n), args.calls, n, timed)
    return timed.stop(args.calls)


def check_json(status: int, body: bytes) -> None:
    if status != 200 or int(json.loads(body)["error_status"]) != 0:
        raise RunError(f"HTTP {status}")


async def raw_httpx(
    args: argparse.Namespace, url: str, tls: ssl.SSLContext | None
) -> dict[str, Any]:
    import httpx

    n = args.concurrency
    # max_keepalive_connections=N as the library sets it: httpcore's default (20) churns
    # connections above 20 in flight (encode/httpcore#1035).
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    timed = Timed(args.control)
    async with httpx.AsyncClient(
        limits=limits, timeout=httpx.Timeout(30.0, connect=10.0), verify=tls or True
    ) as client:

        async def one(i: int) -> None:
            body = json.dumps(wipe_envelope(i)).encode()
            response = await client.post(url, content=body, headers=JSON_HEADERS)
            check_json(response.status_code, response.content)

        return await timed_queue(one, args, timed)


async def raw_aiohttp(
    args: argparse.Namespace, url: str, tls: ssl.SSLContext | None
) -> dict[str, Any]:
    import aiohttp

    n = args.concurrency
    timed = Timed(args.control)
    connector = aiohttp.TCPConnector(limit=n, ssl=tls if tls is not None else True)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            body = json.dumps(wipe_envelope(i)).encode()
            async with session.post(url, data=body, headers=JSON_HEADERS) as response:
                check_json(response.status, await response.read())

        return await timed_queue(one, args, timed)


async def raw_builtin(
    args: argparse.Namespace, url: str, tls: ssl.SSLContext | None
) -> dict[str, Any]:
    import httpx

    from mailkit_async._h1_sender import H1Sender

    n = args.concurrency
    timed = Timed(args.control)
    sender = H1Sender(
        max_connections=n,
        timeout=httpx.Timeout(30.0, connect=10.0),
        max_body=MAX_BODY,
        ssl_context=tls,
    )
    # Before the dispatcher named the function itself, the sender took it (--library runs).
    extra = {"function": WIPE} if "function" in inspect.signature(sender.post).parameters else {}
    try:

        async def one(i: int) -> None:
            body = json.dumps(wipe_envelope(i)).encode()
            reply = await sender.post(url, body, JSON_HEADERS, **extra)
            check_json(reply.status, reply.body)

        return await timed_queue(one, args, timed)
    finally:
        await sender.aclose()


async def wipe_many(
    args: argparse.Namespace, base_url: str, tls: ssl.SSLContext | None
) -> dict[str, Any]:
    import httpx

    from mailkit_async import MailkitClient, WipeStatus

    n = args.concurrency
    features = library_features()
    options: dict[str, Any] = {
        "protocol": args.protocol,
        "base_url": base_url,
        "max_concurrency": n,
    }
    if args.engine != "default":
        if not features["engine"]:
            raise SystemExit(f"this mailkit_async has no engine= keyword (asked {args.engine!r})")
        options["engine"] = args.engine
    if tls is not None:
        if features["ssl_context"]:
            options["ssl_context"] = tls
        else:
            # No ssl_context= yet: hand over an httpx client set up as the library's own.
            options["http_client"] = httpx.AsyncClient(
                verify=tls,
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                timeout=httpx.Timeout(30.0, connect=10.0),
                follow_redirects=False,
            )
    timed = Timed(args.control)

    async def consume(start: int, count: int) -> None:
        def inputs() -> Iterator[str]:
            for i in range(start, start + count):
                yield address(i)

        seen = 0
        batch = client.wipe_many(inputs(), concurrency=n)
        async with batch:
            async for outcome in batch:
                seen += 1
                result = outcome.result
                if result is None or result.status is not WipeStatus.QUEUED:
                    timed.failures += 1  # an error outcome, or an answer not read as success
        if seen != count:
            raise RunError(f"{seen} outcomes for {count} inputs")

    http_client = options.get("http_client")
    try:
        async with MailkitClient(CLIENT_ID, CLIENT_MD5, **options) as client:
            await consume(0, warmup_calls(n))
            timed.start()
            await consume(warmup_calls(n), args.calls)
            return timed.stop(args.calls)
    finally:
        if http_client is not None:
            await http_client.aclose()


def threads_xmlrpc(
    args: argparse.Namespace, url: str, tls: ssl.SSLContext | None
) -> dict[str, Any]:
    n = args.concurrency
    timed = Timed(args.control)
    local = threading.local()
    lock = threading.Lock()
    client_id = int(CLIENT_ID)

    def one(i: int) -> None:
        proxy = getattr(local, "proxy", None)
        if proxy is None:
            # One proxy per thread: its HTTP/1.1 connection is kept between calls.
            proxy = local.proxy = xmlrpc.client.ServerProxy(url, context=tls)
        began = time.perf_counter()
        try:
            answer = proxy.mailkit.email.wipe(client_id, CLIENT_MD5, address(i))
            ok = isinstance(answer, dict) and int(answer["error_status"]) == 0
        except Exception:
            ok = False
        elapsed = time.perf_counter() - began
        with lock:
            timed.latencies.append(elapsed)
            if not ok:
                timed.failures += 1

    # The pool starts threads only as it needs them: hold N tasks at a barrier, each after a
    # call of its own, so all N threads and their connections exist before the timed part.
    everyone = threading.Barrier(n)

    def first_call(i: int) -> None:
        one(i)
        everyone.wait()

    with ThreadPoolExecutor(n) as pool:
        list(pool.map(first_call, range(n)))
        list(pool.map(one, range(n, warmup_calls(n))))
        timed.start()
        list(pool.map(one, range(warmup_calls(n), warmup_calls(n) + args.calls)))
        return timed.stop(args.calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One benchmark client run; one JSON line out.")
    parser.add_argument("--client", choices=CLIENTS, required=True)
    parser.add_argument("--engine", default="default", help="wipe_many only")
    parser.add_argument("--protocol", choices=tuple(PATHS), default="json")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control", type=int, required=True)
    parser.add_argument("--cafile", help="use HTTPS, trusting this CA")
    parser.add_argument("--cpu", type=int, help="pin this process to this CPU")
    args = parser.parse_args(argv)
    pin(args.cpu)

    tls: ssl.SSLContext | None = None
    scheme = "http"
    if args.cafile is not None:
        tls = ssl.create_default_context(cafile=args.cafile)
        scheme = "https"
    base_url = f"{scheme}://127.0.0.1:{args.port}"
    url = base_url + PATHS[args.protocol]
    if args.client == "threads-xmlrpc":
        if args.protocol != "xmlrpc":
            raise SystemExit("threads-xmlrpc speaks XML-RPC only")
        result = threads_xmlrpc(args, url, tls)
    elif args.client == "wipe_many":
        result = asyncio.run(wipe_many(args, base_url, tls))
    else:
        if args.protocol != "json":
            raise SystemExit(f"{args.client} speaks JSON only")
        runner = {"raw-httpx": raw_httpx, "raw-aiohttp": raw_aiohttp, "raw-builtin": raw_builtin}
        result = asyncio.run(runner[args.client](args, url, tls))
    print(json.dumps(result))
    return 3 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
