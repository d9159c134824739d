"""Real third-party HTTP servers (uvicorn, hypercorn, aiohttp.web) and two keep-alive scenarios.

Each server runs in a process of its own, so a test may block its own event loop while the
server goes on closing idle connections, as a real server does:

    with running("uvicorn-h11", keep_alive=0.2) as base_url: ...

The app behind each answers every POST with a successful `revalidate` in JSON. The scenarios
count how the calls ended (`"ok"` or an exception's class name):

- `idle_race`: bursts of concurrent `revalidate(agreement=False)` calls, each burst after an
  idle pause spread around the server's keep-alive timeout, so that some land just before and
  some just after the server closes the connections.
- `busy_loop`: one call, then an idle pause that ends with the event loop blocked while the
  server's close arrives, then the next call.

Run as a script, it measures both scenarios for every server and engine installed:

    python -m tests._real_servers measure [--calls 300] [--keep-alive 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import importlib.util
import json
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "12345"
CLIENT_MD5 = "0123456789abcdef0123456789abcdef"
ANSWER = json.dumps(
    {
        "email": "jane@example.com",
        "error_status": 0,
        "ID_email": "1",
        "error": "Sent subscribe email",
    }
).encode()

#: server name -> the modules it needs
SERVERS: dict[str, tuple[str, ...]] = {
    "uvicorn-h11": ("uvicorn", "h11"),
    "uvicorn-httptools": ("uvicorn", "httptools"),
    "hypercorn": ("hypercorn",),
    "aiohttp.web": ("aiohttp",),
    "http.server": (),
}


def available(name: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in SERVERS[name])


@contextlib.contextmanager
def running(name: str, *, keep_alive: float) -> Iterator[str]:
    """Start server `name` in a child process; yield its base URL; stop it on exit."""
    command = [sys.executable, "-m", "tests._real_servers", "serve", name, str(keep_alive)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} did not start (exit status {process.wait()})")
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


# --- the scenarios (client side) -----------------------------------------------------------


async def idle_race(
    base_url: str,
    engine: str,
    *,
    calls: int,
    burst: int,
    keep_alive: float,
    spread: float = 0.02,
    seed: int = 1,
) -> collections.Counter[str]:
    """`calls` revalidates in bursts of `burst`, each after an idle pause near `keep_alive`.

    The pauses run evenly over `keep_alive` +- `spread` seconds, shuffled.
    """
    import mailkit_async as mk

    rounds = max(1, calls // burst)
    pauses = [keep_alive + spread * (2 * i / max(1, rounds - 1) - 1) for i in range(rounds)]
    random.Random(seed).shuffle(pauses)
    outcomes: collections.Counter[str] = collections.Counter()
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        base_url=base_url,
        engine=engine,
        max_concurrency=burst,  # type: ignore[arg-type]
    ) as client:
        await client.revalidate("jane@example.com", agreement=False)  # connect once
        for pause in pauses:
            await asyncio.sleep(pause)
            results = await asyncio.gather(
                *(client.revalidate("jane@example.com", agreement=False) for _ in range(burst)),
                return_exceptions=True,
            )
            outcomes.update(_name(result) for result in results)
    return outcomes


async def busy_loop(
    base_url: str, engine: str, *, rounds: int, keep_alive: float, block: float = 0.3
) -> collections.Counter[str]:
    """A call; idle until shortly before the server's timeout; the loop blocked past it; a call."""
    import mailkit_async as mk

    outcomes: collections.Counter[str] = collections.Counter()
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        base_url=base_url,
        engine=engine,  # type: ignore[arg-type]
    ) as client:
        for _ in range(rounds):
            await client.revalidate("jane@example.com", agreement=False)
            await asyncio.sleep(max(0.0, keep_alive - block / 3))
            time.sleep(block)  # noqa: ASYNC251  # the point: the loop is busy as the FIN comes
            try:
                await client.revalidate("jane@example.com", agreement=False)
            except Exception as exc:
                outcomes[_name(exc)] += 1
            else:
                outcomes["ok"] += 1
    return outcomes


def _name(result: object) -> str:
    return type(result).__name__ if isinstance(result, BaseException) else "ok"


# --- the servers (child process) -----------------------------------------------------------


async def _asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(ANSWER))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": ANSWER})


async def _serve(name: str, keep_alive: float, sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    if name.startswith("uvicorn"):
        import uvicorn

        config = uvicorn.Config(
            _asgi,
            http="h11" if name == "uvicorn-h11" else "httptools",
            loop="asyncio",
            timeout_keep_alive=keep_alive,  # type: ignore[arg-type]  # a float works
            log_level="warning",
            access_log=False,
        )
        server = uvicorn.Server(config)
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        await stop
        server.should_exit = True
        await task
    elif name == "hypercorn":
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        hyper = Config()
        hyper.bind = [f"fd://{sock.fileno()}"]
        hyper.keep_alive_timeout = keep_alive
        hyper.loglevel = "WARNING"
        await serve(_asgi, hyper, shutdown_trigger=lambda: stop)  # type: ignore[arg-type]
    elif name == "aiohttp.web":
        from aiohttp import web

        async def handle(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(body=ANSWER, content_type="application/json")

        app = web.Application()
        app.router.add_post("/{tail:.*}", handle)
        runner = web.AppRunner(app, keepalive_timeout=keep_alive, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        await stop
        await runner.cleanup()
    else:
        raise SystemExit(f"unknown server {name!r}")


def _serve_stdlib(keep_alive: float, sock: socket.socket) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = keep_alive  # an idle keep-alive connection times out and closes

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(ANSWER)))
            self.end_headers()
            self.wfile.write(ANSWER)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(sock.getsockname(), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sys.stdin.read()
    server.shutdown()


def _child(name: str, keep_alive: float) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    if name == "http.server":
        _serve_stdlib(keep_alive, sock)
    else:
        asyncio.run(_serve(name, keep_alive, sock))


# --- the measurement -----------------------------------------------------------------------


def _measure(calls: int, burst: int, keep_alive: float, spread: float, rounds: int) -> None:
    engines = ("builtin", "httpx")
    print(
        f"idle race: {calls} calls in bursts of {burst}, pauses {keep_alive} +- {spread} s; "
        f"busy loop: {rounds} rounds; server keep-alive timeout {keep_alive} s"
    )
    print(f"{'server':<18} {'engine':<8} {'idle race':<34} {'busy loop':<34}")
    for name in SERVERS:
        if not available(name):
            print(f"{name:<18} not installed")
            continue
        with running(name, keep_alive=keep_alive) as base_url:
            for engine in engines:
                race = asyncio.run(
                    idle_race(
                        base_url,
                        engine,
                        calls=calls,
                        burst=burst,
                        keep_alive=keep_alive,
                        spread=spread,
                    )
                )
                busy = asyncio.run(
                    busy_loop(base_url, engine, rounds=rounds, keep_alive=keep_alive)
                )
                print(f"{name:<18} {engine:<8} {_show(race):<34} {_show(busy):<34}", flush=True)


def _show(outcomes: collections.Counter[str]) -> str:
    errors = sum(n for kind, n in outcomes.items() if kind != "ok")
    detail = ", ".join(f"{kind} {n}" for kind, n in sorted(outcomes.items()) if kind != "ok")
    return f"{errors} errors" + (f" ({detail})" if detail else "")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests._real_servers")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run one server (used by `running`)")
    serve.add_argument("name", choices=list(SERVERS))
    serve.add_argument("keep_alive", type=float)
    measure = commands.add_parser("measure", help="both scenarios, every server and engine")
    measure.add_argument("--calls", type=int, default=300)
    measure.add_argument("--burst", type=int, default=10)
    measure.add_argument("--keep-alive", type=float, default=1.0)
    measure.add_argument("--spread", type=float, default=0.05)
    measure.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    if args.command == "serve":
        _child(args.name, args.keep_alive)
    else:
        _measure(args.calls, args.burst, args.keep_alive, args.spread, args.rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
