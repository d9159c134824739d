"""The loopback server the throughput benchmark measures clients against.

A bare `asyncio.Protocol`: it splits requests on Content-Length, reads each body whole and
writes a pre-built Mailkit wipe success answer (JSON on /json.fcgi, XML-RPC on /rpc.fcgi),
keeping the connection alive. It does no more work per request than it must, so that it
stays far above every client measured and the figures are the clients' own.

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

MAX_HEAD: Final = 64 * 1024  # a request head larger than this is not one of our clients'


def _response(status: str, content_type: bytes, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type.decode()}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


ANSWERS: Final = {
    b"/json.fcgi": _response("200 OK", b"application/json", JSON_ANSWER),
    b"/rpc.fcgi": _response("200 OK", b"text/xml; charset=utf-8", XMLRPC_ANSWER),
}
NOT_FOUND: Final = _response("404 Not Found", b"text/plain", b"not found\n")
BAD_REQUEST: Final = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Counters:
    accepts = 0
    closes = 0  # connections this server closed (refused requests, "Connection: close")


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, Content-Length framing only (every client measured sends it)."""

    __slots__ = ("buffer", "transport")

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        Counters.accepts += 1
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        transport = self.transport
        assert transport is not None
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    self._refuse(transport)
                return
            head = bytes(buffer[:end]).lower()  # our paths are lower case already
            if b"\r\ntransfer-encoding:" in head:
                self._refuse(transport)  # chunked bodies: none of the clients sends them
                return
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                try:
                    length = int(head[at + 17 : stop if stop >= 0 else len(head)])
                except ValueError:
                    self._refuse(transport)
                    return
            total = end + 4 + length
            if len(buffer) < total:
                return  # the body is still coming: answer only once it is all read
            del buffer[:total]
            path = head.split(b" ", 2)[1]
            transport.write(ANSWERS.get(path, NOT_FOUND))
            if b"\r\nconnection: close" in head:
                Counters.closes += 1
                transport.close()
                return

    def _refuse(self, transport: asyncio.Transport) -> None:
        Counters.closes += 1
        transport.write(BAD_REQUEST)
        transport.close()


class ControlProtocol(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stats = {"accepts": Counters.accepts, "closes": Counters.closes, "cpu_s": cpu_seconds()}
        line = json.dumps(stats) + "\n"
        cast(asyncio.Transport, transport).write(line.encode())
        transport.close()


async def serve(cert: str | None, key: str | None) -> None:
    loop = asyncio.get_running_loop()
    http = await loop.create_server(HttpProtocol, "127.0.0.1", 0, backlog=1024)
    https = None
    if cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        https = await loop.create_server(HttpProtocol, "127.0.0.1", 0, ssl=context, backlog=1024)
    control = await loop.create_server(ControlProtocol, "127.0.0.1", 0)

    def port(server: asyncio.Server | None) -> int | None:
        return None if server is None else server.sockets[0].getsockname()[1]

    print(
        json.dumps({"http": port(http), "https": port(https), "control": port(control)}),
        flush=True,
    )
    # Serve until the runner closes our stdin (or dies): no orphan server is left behind.
    stdin_closed = loop.run_in_executor(None, sys.stdin.buffer.read)
    await stdin_closed
    for server in (http, https, control):
        if server is not None:
            server.close()


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
