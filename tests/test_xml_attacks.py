"""Hostile XML and hostile bodies: refused fast, in bounded memory, without touching the network.

Entity and DTD payloads (defusedxml's list) must raise ForbiddenXMLError from the codec and from
a real client over loopback; references point at a loopback canary that must see no connection.
Oversized and compressed bodies are served by a loopback server and must stop at the cap.
"""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import pytest

from mailkit_async import (
    ForbiddenXMLError,
    MailkitClient,
    MalformedResponseError,
    ProtocolError,
    ResponseTooLargeError,
    WipeStatus,
    XmlRpcCodec,
)
from tests._loopback import LoopbackServer, Reply, serve

CLIENT_ID = "12345"
CLIENT_MD5 = "0123456789abcdef0123456789abcdef"
ADDRESS = "a@example.com"
MIB = 1024 * 1024
CAP = 1 * MIB

RESPONSE_OK = (
    b"<?xml version='1.0'?>\n<methodResponse><params><param><value><string>OK</string>"
    b"</value></param></params></methodResponse>"
)
BODY = b"<methodResponse><params><param><value><string>%s</string></value></param></params>"
BODY_END = b"</methodResponse>"


def _doc(doctype: bytes, content: bytes) -> bytes:
    return b'<?xml version="1.0"?>\n' + doctype + b"\n" + BODY % content + BODY_END


def _billion_laughs() -> bytes:
    entities = [b'<!ENTITY lol0 "lol">']
    entities += [b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)]
    return _doc(b"<!DOCTYPE lolz [\n" + b"\n".join(entities) + b"\n]>", b"&lol9;")


# Payload builders take the canary's port; each is refused before anything is expanded/fetched.
FORBIDDEN: dict[str, Callable[[int], bytes]] = {
    "billion laughs": lambda port: _billion_laughs(),
    "billion laughs, UTF-16": lambda port: (
        _billion_laughs()
        .replace(b'version="1.0"', b'version="1.0" encoding="utf-16"')
        .decode()
        .encode("utf-16")
    ),
    "quadratic blowup": lambda port: _doc(
        b'<!DOCTYPE m [<!ENTITY a "' + b"x" * 100_000 + b'">]>', b"&a;" * 20_000
    ),
    "external entity": lambda port: _doc(
        b'<!DOCTYPE m [<!ENTITY ext SYSTEM "http://127.0.0.1:%d/canary">]>' % port, b"&ext;"
    ),
    "external entity, PUBLIC": lambda port: _doc(
        b'<!DOCTYPE m [<!ENTITY ext PUBLIC "-//X//Y" "http://127.0.0.1:%d/pub">]>' % port,
        b"&ext;",
    ),
    "external DTD": lambda port: _doc(
        b'<!DOCTYPE methodResponse SYSTEM "http://127.0.0.1:%d/dtd">' % port, b"x"
    ),
    "external DTD, PUBLIC": lambda port: _doc(
        b'<!DOCTYPE methodResponse PUBLIC "-//X//Y" "http://127.0.0.1:%d/dtd">' % port, b"x"
    ),
    "external parameter entity": lambda port: _doc(
        b'<!DOCTYPE m [<!ENTITY %% pe SYSTEM "http://127.0.0.1:%d/pe"> %%pe;]>' % port, b"x"
    ),
    "internal parameter entity": lambda port: _doc(
        b"<!DOCTYPE m [<!ENTITY % pe \"<!ENTITY x 'y'>\"> %pe;]>", b"&x;"
    ),
    "unparsed entity": lambda port: _doc(
        b'<!DOCTYPE m [<!NOTATION n SYSTEM "n"><!ENTITY u SYSTEM "http://127.0.0.1:%d/u" NDATA n>]>'
        % port,
        b"x",
    ),
    "bare DOCTYPE": lambda port: _doc(b"<!DOCTYPE methodResponse>", b"x"),
    "DOCTYPE after a comment": lambda port: _doc(b"<!-- hi --><!DOCTYPE methodResponse>", b"x"),
    "HTML page": lambda port: b"<!DOCTYPE html><html><body>maintenance</body></html>",
}

MALFORMED: dict[str, Callable[[int], bytes]] = {
    # Without a DTD an entity is undefined: a well-formedness error, nothing to expand.
    "undeclared entity": lambda port: _doc(b"", b"&lol9;"),
    "XInclude": lambda port: (
        b'<methodResponse xmlns:xi="http://www.w3.org/2001/XInclude"><params><param><value>'
        b'<xi:include href="http://127.0.0.1:%d/xi" parse="text"/></value></param></params>'
        b"</methodResponse>" % port
    ),
    "xsi:schemaLocation": lambda port: (
        b'<methodResponse xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:schemaLocation="urn:x http://127.0.0.1:%d/xsd"><bogus/></methodResponse>' % port
    ),
}

EXPECTED: dict[str, type[ProtocolError]] = {
    **dict.fromkeys(FORBIDDEN, ForbiddenXMLError),
    **dict.fromkeys(MALFORMED, MalformedResponseError),
}
PAYLOADS = {**FORBIDDEN, **MALFORMED}


class Canary:
    """A loopback listener nobody should ever connect to.

    The attacks are decoded synchronously, so any fetch would have finished its TCP handshake
    (into the kernel's accept queue) before the decoder returned: a non-blocking accept then
    sees it, with no waiting.
    """

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self._socket.setblocking(False)
        self.port: int = self._socket.getsockname()[1]
        self._seen = 0

    def connections(self) -> int:
        while True:
            try:
                conn, _ = self._socket.accept()
            except BlockingIOError:
                return self._seen
            conn.close()
            self._seen += 1

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()


def test_canary_does_see_a_connection(canary: Canary) -> None:
    # The detector itself works: one real connect is counted without any wait.
    with socket.create_connection(("127.0.0.1", canary.port)):
        pass
    assert canary.connections() == 1


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_codec_refuses_attack_fast_and_small(name: str, canary: Canary) -> None:
    payload = PAYLOADS[name](canary.port)
    codec = XmlRpcCodec()
    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(ProtocolError) as caught:
            codec.decode_reply(payload, function="mailkit.email.wipe")
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert type(caught.value) is EXPECTED[name]
    assert caught.value.function == "mailkit.email.wipe"
    # Bounds against hangs and expansion, not performance targets.
    assert seconds < 1.0
    assert peak < 5 * MIB
    assert canary.connections() == 0


def test_processing_instruction_is_ignored_not_fetched(canary: Canary) -> None:
    payload = (
        b'<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:%d/s"?>'
        % canary.port
        + BODY % b"OK"
        + BODY_END
    )
    assert XmlRpcCodec().decode_reply(payload, function="f") == "OK"
    assert canary.connections() == 0


# --- the same payloads through a real client over loopback ----------------------------------


#: Options every loopback client here gets; the `both_engines` fixture sets the engine.
CLIENT_OPTIONS: dict[str, object] = {}


@pytest.fixture
def both_engines(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CLIENT_OPTIONS, "engine", engine)


def client_for(server: LoopbackServer, **options: object) -> MailkitClient:
    return MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        protocol="xmlrpc",
        base_url=server.base_url,
        timeout=5.0,
        **{**CLIENT_OPTIONS, **options},  # type: ignore[arg-type]
    )


def xml_reply(body: bytes, *headers: tuple[str, str], **options: object) -> Reply:
    return Reply(200, (("Content-Type", "text/xml"), *headers), body, **options)  # type: ignore[arg-type]


async def still_works(client: MailkitClient, server: LoopbackServer) -> None:
    server.then(xml_reply(RESPONSE_OK))
    result = await client.wipe(ADDRESS)
    assert result.status is WipeStatus.QUEUED


@pytest.mark.usefixtures("both_engines")
@pytest.mark.parametrize("name", list(PAYLOADS))
async def test_client_refuses_attack_over_loopback(name: str, canary: Canary) -> None:
    async with serve() as server, client_for(server) as client:
        server.then(xml_reply(PAYLOADS[name](canary.port)))
        with pytest.raises(ProtocolError) as caught:
            await client.wipe(ADDRESS)
        assert type(caught.value) is EXPECTED[name]
        assert server.requests[0].target == "/rpc.fcgi"
        assert canary.connections() == 0
        await still_works(client, server)


# --- oversized and compressed bodies --------------------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """256 MiB of zeros as one gzip member (about 255 KB), compressed 1 MiB at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MIB)
    parts = [packer.compress(zeros) for _ in range(256)]
    parts.append(packer.flush())
    return b"".join(parts)


def test_gzip_bomb_is_what_it_claims(gzip_bomb: bytes) -> None:
    assert len(gzip_bomb) < 300 * 1024
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    assert len(inflater.decompress(gzip_bomb, 2 * CAP)) == 2 * CAP  # inflates past the cap


async def _call_measured(client: MailkitClient) -> tuple[BaseException | None, int]:
    tracemalloc.start()
    error: BaseException | None = None
    try:
        await client.wipe(ADDRESS)
    except ProtocolError as exc:
        error = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return error, peak


@pytest.mark.usefixtures("both_engines")
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_oversized_body_is_refused(chunked: bool) -> None:
    # 20 MiB: 320 pieces of 64 KiB, streamed by the server (never held whole).
    big = xml_reply(b"x" * (64 * 1024), repeat=320, chunked=chunked)
    async with serve() as server, client_for(server, max_response_bytes=CAP) as client:
        server.then(big)
        error, peak = await _call_measured(client)
        assert type(error) is ResponseTooLargeError
        assert peak < 8 * MIB
        await still_works(client, server)


@pytest.mark.usefixtures("both_engines")
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_gzip_bomb_stops_at_the_cap(gzip_bomb: bytes, chunked: bool) -> None:
    bomb = xml_reply(gzip_bomb, ("Content-Encoding", "gzip"), chunked=chunked)
    async with serve() as server, client_for(server, max_response_bytes=CAP) as client:
        server.then(bomb)
        started = time.perf_counter()
        error, peak = await _call_measured(client)
        assert type(error) is ResponseTooLargeError
        assert peak < 8 * MIB  # 256 MiB were never inflated
        assert time.perf_counter() - started < 5.0
        await still_works(client, server)


@pytest.mark.usefixtures("both_engines")
async def test_deflate_bomb_stops_at_the_cap() -> None:
    bomb = zlib.compress(bytes(32 * MIB), 9)
    async with serve() as server, client_for(server, max_response_bytes=CAP) as client:
        server.then(xml_reply(bomb, ("Content-Encoding", "deflate")))
        error, peak = await _call_measured(client)
        assert type(error) is ResponseTooLargeError
        assert peak < 8 * MIB
        await still_works(client, server)


def _padded(size: int) -> bytes:
    # Whitespace after the root element is allowed: a valid answer of exactly `size` bytes.
    return RESPONSE_OK + b" " * (size - len(RESPONSE_OK))


@pytest.mark.usefixtures("both_engines")
@pytest.mark.parametrize("encoding", ["identity", "identity-chunked", "gzip", "deflate"])
async def test_cap_boundary(encoding: str) -> None:
    def encoded(body: bytes) -> Reply:
        if encoding == "gzip":
            return xml_reply(gzip.compress(body), ("Content-Encoding", "gzip"))
        if encoding == "deflate":
            return xml_reply(zlib.compress(body), ("Content-Encoding", "deflate"))
        return xml_reply(body, chunked=encoding == "identity-chunked")

    async with serve() as server, client_for(server, max_response_bytes=CAP) as client:
        server.then(encoded(_padded(CAP)))
        assert (await client.wipe(ADDRESS)).status is WipeStatus.QUEUED
        server.then(encoded(_padded(CAP + 1)))
        with pytest.raises(ResponseTooLargeError):
            await client.wipe(ADDRESS)
        await still_works(client, server)


@pytest.mark.usefixtures("both_engines")
@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZip", gzip.compress),
        ("deflate", zlib.compress),
    ],
)
async def test_small_compressed_answer_is_decoded(
    encoding: str, pack: Callable[[bytes], bytes]
) -> None:
    async with serve() as server, client_for(server) as client:
        server.then(xml_reply(pack(RESPONSE_OK), ("Content-Encoding", encoding)))
        result = await client.wipe(ADDRESS)
        assert result.status is WipeStatus.QUEUED
        assert result.message == "OK"


def _corrupt_gzip() -> bytes:
    packed = bytearray(gzip.compress(RESPONSE_OK * 20))
    packed[20:30] = b"\xff" * 10
    return bytes(packed)


@pytest.mark.usefixtures("both_engines")
@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", _corrupt_gzip()),
        ("gzip", b"this is not gzip at all"),
        ("gzip", gzip.compress(RESPONSE_OK)[:-12]),  # truncated
        ("gzip", gzip.compress(RESPONSE_OK) + b"trailing junk"),
        ("deflate", b"\x78\x9c not deflate"),
        ("br", RESPONSE_OK),
        ("compress", RESPONSE_OK),
        ("gzip, gzip", gzip.compress(gzip.compress(RESPONSE_OK))),
    ],
    ids=[
        "corrupt-gzip",
        "not-gzip",
        "truncated-gzip",
        "gzip-then-junk",
        "corrupt-deflate",
        "br",
        "compress",
        "stacked",
    ],
)
async def test_bad_or_unknown_encoding_is_malformed(encoding: str, body: bytes) -> None:
    async with serve() as server, client_for(server) as client:
        server.then(xml_reply(body, ("Content-Encoding", encoding)))
        with pytest.raises(MalformedResponseError):
            await client.wipe(ADDRESS)
        await still_works(client, server)


@pytest.mark.usefixtures("both_engines")
@pytest.mark.parametrize("codec_name", ["utf-7", "shift_jis", "no-such-codec"])
async def test_client_contains_unusable_declared_encodings(codec_name: str) -> None:
    # Whatever the codec raises for these (see test_properties), the client answers with a
    # ProtocolError, never a bare ValueError or LookupError.
    body = RESPONSE_OK.replace(
        b"version='1.0'", b"version='1.0' encoding='%s'" % codec_name.encode()
    )
    async with serve() as server, client_for(server) as client:
        server.then(xml_reply(body))
        with pytest.raises(MalformedResponseError):
            await client.wipe(ADDRESS)
        await still_works(client, server)
