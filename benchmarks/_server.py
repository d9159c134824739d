"""The loopback server the throughput benchmark measures clients against.

The library's own loopback server core (`mailkit_async.testing._http_server`, which the
emulator and the test suite's scripted server use too), with the cheapest handler there is:
it writes a pre-built Mailkit wipe success answer (JSON on /json.fcgi, XML-RPC on /rpc.fcgi),
keeping the connection alive. The core is an `asyncio.Protocol` that serves a request with no
task, on uvloop here, so that it stays far above every client measured and the figures are
the clients' own.

    python benchmarks/_server.py [--cpu 1] [--cert PEM --key PEM]

It prints one JSON line, {"http": port, "https": port or null, "control": port}, then serves
until stdin closes (the runner holds it open). A connection to the control port gets one
JSON line, {"accepts": connections accepted so far on the other ports, "closes": how many of
them it closed itself, "cpu_s": its CPU time},
so each client run can count the new connections and server CPU of its timed part.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
from typing import Final, cast

from _common import JSON_ANSWER, XMLRPC_ANSWER, cpu_seconds, pin

from mailkit_async.testing._http_server import Connection, HttpServer, Request

MAX_HEAD: Final = 64 * 1024  # a request head larger than this is not one of our clients'


def _response(status: str, content_type: bytes, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type.decode()}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


ANSWERS: Final = {
    "/json.fcgi": _response("200 OK", b"application/json", JSON_ANSWER),
    "/rpc.fcgi": _response("200 OK", b"text/xml; charset=utf-8", XMLRPC_ANSWER),
}
NOT_FOUND: Final = _response("404 Not Found", b"text/plain", b"not found\n")


def answer(request: Request, connection: Connection) -> None:
    connection.write(ANSWERS.get(request.target, NOT_FOUND))


class ControlProtocol(asyncio.Protocol):
    def __init__(self, server: HttpServer) -> None:
        self.server = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stats = {
            "accepts": self.server.connections_opened,
            "closes": self.server.closes,
            "cpu_s": cpu_seconds(),
        }
        line = json.dumps(stats) + "\n"
        cast(asyncio.Transport, transport).write(line.encode())
        transport.close()


async def serve(cert: str | None, key: str | None) -> None:
    loop = asyncio.get_running_loop()
    server = HttpServer(answer, max_head=MAX_HEAD)
    http = await server.start("127.0.0.1", 0)
    https = None
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        https = await server.start("127.0.0.1", 0, tls=context)
    control = await loop.create_server(lambda: ControlProtocol(server), "127.0.0.1", 0)
    print(
        json.dumps({"http": http, "https": https, "control": control.sockets[0].getsockname()[1]}),
        flush=True,
    )
    # Serve until the runner closes our stdin (or dies): no orphan server is left behind.
    stdin_closed = loop.run_in_executor(None, sys.stdin.buffer.read)
    await stdin_closed
    control.close()
    await server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=int, help="pin the server to this CPU")
    parser.add_argument("--cert", help="PEM certificate chain: also serve HTTPS")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop; uvloop (when installed) keeps the server far above the clients",
    )
    args = parser.parse_args()
    pin(args.cpu)
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(serve(args.cert, args.key))
            return 0
    asyncio.run(serve(args.cert, args.key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
