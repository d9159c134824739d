"""The built-in engine's response parser: h11 as the oracle for valid answers, a table for bad.

Also: bad answers are refused as soon as their bytes show it (not at a timeout), the limits
are at least h11's, and memory stays bounded by the body cap however the body is framed.
"""

from __future__ import annotations

import gzip
import tracemalloc

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailkit_async import MalformedResponseError, ResponseTooLargeError
from mailkit_async._body import BodyReader
from mailkit_async._h1_parse import (
    _KNOWN_HEADS,
    MAX_HEAD,
    FramingError,
    IncompleteAnswerError,
    ResponseParser,
)

CAP = 1024 * 1024


def parse(*pieces: bytes, cap: int = CAP, eof: bool = False) -> ResponseParser:
    parser = ResponseParser(cap)
    done = False
    for piece in pieces:
        done = parser.feed(piece)
    if eof:
        done = parser.feed_eof()
    assert done, "the parser did not see a complete answer"
    return parser


def oracle(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """What h11 (the parser under httpx) makes of the same bytes."""
    connection = h11.Connection(h11.CLIENT)
    connection.send(h11.Request(method="POST", target="/", headers=[("Host", "x")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(raw)
    status, headers, body = 0, {}, b""
    while True:
        event = connection.next_event()
        if isinstance(event, h11.Response):
            status = event.status_code
            for name, value in event.headers:
                key = name.decode().lower()
                text = value.decode("latin-1")
                headers[key] = f"{headers[key]}, {text}" if key in headers else text
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return status, headers, body
        else:
            raise AssertionError(f"h11 stopped at {event!r}")


_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9\-]{0,15}", fullmatch=True).filter(
    lambda n: n.lower() not in ("content-length", "transfer-encoding", "content-encoding")
)
_VALUE = st.from_regex(r"[!-~]([ !-~]{0,30}[!-~])?", fullmatch=True)


@st.composite
def answers(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    status = draw(st.sampled_from([200, 201, 302, 400, 404, 429, 500, 502, 503]))
    fields = draw(st.lists(st.tuples(_NAME, _VALUE), max_size=8))
    body = draw(st.binary(max_size=3000))
    head = [f"HTTP/1.1 {status} {draw(st.sampled_from(['OK', 'Whatever It Is', '']))}"]
    head += [f"{name}: {value}" for name, value in fields]
    if draw(st.booleans()):
        sizes = draw(st.lists(st.integers(1, 700), max_size=8))
        chunks, rest = [], body
        for size in sizes:
            if rest:
                chunks.append(rest[:size])
                rest = rest[size:]
        if rest:
            chunks.append(rest)
        head.append("Transfer-Encoding: chunked")
        encoded = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(body)}")
        encoded = body
    raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + encoded
    cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=6)))
    return raw, cuts


@settings(max_examples=300, deadline=None)
@given(answers())
def test_valid_answers_parse_as_h11_parses_them_however_they_are_split(
    case: tuple[bytes, list[int]],
) -> None:
    raw, cuts = case
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    parser = parse(*pieces)
    assert (parser.status, parser.headers, parser.body()) == oracle(raw)
    assert parser.keep_alive is True


def _reading(parser: ResponseParser) -> tuple[object, ...]:
    return (
        parser.status, parser.headers, parser.body(), parser.keep_alive,
        parser.keep_alive_timeout, parser.overrun,
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(answers(), st.sampled_from(["", "Connection: close", "Keep-Alive: timeout=7, max=9"]))
def test_a_head_seen_before_reads_as_it_did_when_parsed(
    case: tuple[bytes, list[int]], extra: str
) -> None:
    """A head met again is taken from the first parse of it: every reading is the same as
    a fresh parse's, and as h11's."""
    raw, cuts = case
    if extra:
        raw = raw.replace(b"\r\n", f"\r\n{extra}\r\n".encode(), 1)
    head = raw[: raw.index(b"\r\n\r\n")]
    _KNOWN_HEADS.clear()
    first = parse(raw)
    assert head in _KNOWN_HEADS
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    again = parse(*pieces)
    assert _reading(again) == _reading(first)
    assert (again.status, again.headers, again.body()) == oracle(raw)


def test_a_head_seen_before_is_held_to_each_parsers_own_cap() -> None:
    """What depends on the parser (its cap, whether it keeps a body) is checked again."""
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n" + b"x" * 101
    ResponseParser(CAP, keep_body=False).feed(raw)
    assert parse(raw).body() == b"x" * 101
    with pytest.raises(ResponseTooLargeError, match="101 bytes exceeds the 100-byte cap"):
        ResponseParser(100).feed(raw)
    coded = b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 0\r\n\r\n"
    assert ResponseParser(CAP, keep_body=False).feed(coded)
    with pytest.raises(MalformedResponseError, match="br"):
        ResponseParser(CAP).feed(coded)


def test_each_answer_has_headers_of_its_own() -> None:
    raw = b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 0\r\n\r\n"
    for _ in range(3):  # parsed, then twice from the head remembered
        answer = parse(raw)
        assert answer.headers == {"server": "x", "content-length": "0"}
        answer.headers["server"] = "changed by its caller"


def test_heads_remembered_are_bounded_in_number_and_size() -> None:
    _KNOWN_HEADS.clear()
    for length in range(200):
        parse(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % length + b"x" * length)
    long_head = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * 2000 + b"\r\nContent-Length: 0"
    parse(long_head + b"\r\n\r\n")
    assert 0 < len(_KNOWN_HEADS) <= 64
    assert long_head not in _KNOWN_HEADS


def test_interim_answers_are_skipped() -> None:
    parser = parse(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    assert (parser.status, parser.body(), parser.headers) == (200, b"ok", {"content-length": "2"})


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses_end_at_the_head(status: int) -> None:
    parser = parse(b"HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n" % status)
    assert (parser.status, parser.body(), parser.keep_alive) == (status, b"", True)


def test_body_until_close() -> None:
    parser = ResponseParser(CAP)
    assert not parser.feed(b"HTTP/1.1 200 OK\r\n\r\npart one, ")
    assert not parser.feed(b"part two")
    assert parser.feed_eof()
    assert parser.body() == b"part one, part two"
    assert parser.keep_alive is False


@pytest.mark.parametrize(
    ("raw", "keep_alive", "timeout"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", True, None),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", False, None),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False, None),
        (b"HTTP/1.1 200 OK\r\nKeep-Alive: timeout=3, max=9\r\nContent-Length: 0\r\n\r\n", True, 3),
        (b"HTTP/1.1 200 OK\r\nKeep-Alive: max=100\r\nContent-Length: 0\r\n\r\n", True, None),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n", False, None),
    ],
    ids=["default", "close", "http/1.0", "keep-alive-timeout", "keep-alive-no-timeout", "stray"],
)
def test_keep_alive(raw: bytes, keep_alive: bool, timeout: float | None) -> None:
    parser = parse(raw)
    assert (parser.keep_alive, parser.keep_alive_timeout) == (keep_alive, timeout)


def test_gzip_body_is_inflated() -> None:
    packed = gzip.compress(b"x" * 5000)
    parser = parse(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed),
        packed,
    )
    assert parser.body() == b"x" * 5000


BAD = {
    "garbage status line": b"garbage\r\n\r\n",
    "http/2 status line": b"HTTP/2 200 OK\r\n\r\n",
    "two-digit status": b"HTTP/1.1 20 OK\r\n\r\n",
    "switching protocols": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
    "both framings": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
    "conflicting lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
    "listed lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n",
    "signed length": b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n",
    "superscript length": "HTTP/1.1 200 OK\r\nContent-Length: ²\r\n\r\n".encode(),
    "gzip transfer coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "folded header": b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
    "space before colon": b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
    "bare LF in a value": b"HTTP/1.1 200 OK\r\nX: a\nContent-Length: 0\r\n\r\n",
    "NUL in a value": b"HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n",
    "empty header name": b"HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n",
    "bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "negative chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
    "huge chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\n" % (b"f" * 17),
    "chunk without CRLF": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX",
    "endless chunk line": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + b"x" * 2000,
    "endless head": b"HTTP/1.1 200 OK\r\nX: " + b"x" * (MAX_HEAD + 10),
    "head over the bound": b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (MAX_HEAD // 6) + b"\r\n",
    "bad trailer": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX y\r\n\r\n",
}


@pytest.mark.parametrize("raw", list(BAD.values()), ids=list(BAD))
def test_malformed_answers_are_refused(raw: bytes) -> None:
    parser = ResponseParser(CAP)
    with pytest.raises(FramingError):
        parser.feed(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        b"HTTP/1.1 200 OK\r\nContent-",
        b"",
    ],
    ids=["short-body", "no-last-chunk", "mid-head", "nothing"],
)
def test_end_of_stream_mid_answer_is_refused(raw: bytes) -> None:
    parser = ResponseParser(CAP)
    assert not parser.feed(raw)
    with pytest.raises(IncompleteAnswerError):
        parser.feed_eof()


# --- refused at once: no waiting for a head that can never be valid ----------------------

NOT_HTTP_1 = {
    "HTTP/0.9 body": b"<html><body>hello</body></html>\n",
    "HTTP/2 SETTINGS frame": b"\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64",
    "HTTP/2 status line": b"HTTP/2 200\r\n",
    "one byte of junk": b"h",
    "bare-LF head": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "bare LF after the status line": b"HTTP/1.1 200 OK\r\nServer: x\nContent-",
    "bad status line, head incomplete": b"HTTP/1.1 2000 OK\r\nContent-",
}


@pytest.mark.parametrize("raw", list(NOT_HTTP_1.values()), ids=list(NOT_HTTP_1))
def test_what_can_never_become_an_answer_is_refused_at_its_first_bytes(raw: bytes) -> None:
    # None of these has the blank line that ends a head: waiting for one would wait out
    # the read timeout on a peer that keeps the connection open.
    parser = ResponseParser(CAP)

    def byte_by_byte() -> None:  # however it is split
        for at in range(len(raw)):
            parser.feed(raw[at : at + 1])

    with pytest.raises(FramingError):
        byte_by_byte()


@pytest.mark.parametrize("fields", [120, 5000])
def test_many_header_fields_are_read_as_h11_reads_them(fields: int) -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-F%d: v%d\r\n" % (i, i) for i in range(fields))
    raw = head + b"Content-Length: 2\r\n\r\nok"
    parser = parse(raw)
    assert (parser.status, parser.headers, parser.body()) == oracle(raw)
    assert len(parser.headers) == fields + 1


def test_a_head_as_large_as_httpx_takes_is_read() -> None:
    value = b"v" * (100 * 1024)  # httpcore lets h11 buffer 100 KiB of head
    raw = b"HTTP/1.1 200 OK\r\nX-Big: " + value + b"\r\nContent-Length: 0\r\n\r\n"
    assert parse(raw[: len(raw) // 2], raw[len(raw) // 2 :]).headers["x-big"] == value.decode()


def test_a_head_fed_a_byte_at_a_time_is_read() -> None:
    raw = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"p" * 3000 + b"\r\nContent-Length: 2\r\n\r\nok"
    parser = parse(*(raw[at : at + 1] for at in range(len(raw))))
    assert (parser.status, parser.body()) == (200, b"ok")


@pytest.mark.parametrize("size", [1, 2, 9, 10, 15])
@pytest.mark.parametrize("digits", ["lower", "upper"])
def test_runs_of_small_chunks_as_h11_reads_them(size: int, digits: str) -> None:
    # Long runs of equal one-digit chunks take a faster path; the body must not differ.
    body = bytes(range(256)) * 3
    pieces = [body[at : at + size] for at in range(0, len(body), size)]
    hex_size = "%x" if digits == "lower" else "%X"
    encoded = b"".join((hex_size % len(p)).encode() + b"\r\n" + p + b"\r\n" for p in pieces)
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + encoded + b"0\r\n\r\n"
    for step in (len(raw), 1000, 97):  # whole, and cut anywhere
        parser = parse(*(raw[at : at + step] for at in range(0, len(raw), step)))
        assert parser.body() == oracle(raw)[2] == body


def test_chunk_extensions_and_trailers_as_h11_reads_them() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n6;x\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    parser = parse(raw)
    assert parser.body() == oracle(raw)[2] == b"hello world"


# --- memory bounded by the cap, whatever the framing ------------------------------------


def _peak_while(feed: object) -> int:
    assert callable(feed)
    tracemalloc.start()
    try:
        feed()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_endless_one_byte_chunks_stay_within_twice_the_cap() -> None:
    cap = 256 * 1024
    parser = ResponseParser(cap)
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    read = b"1\r\nx\r\n" * (64 * 1024 // 6)  # what one socket read holds

    def endless() -> None:
        while True:
            parser.feed(read)

    def refused() -> None:
        with pytest.raises(ResponseTooLargeError):
            endless()

    assert _peak_while(refused) <= 2 * cap + 2 * len(read)


def test_a_body_fed_a_byte_at_a_time_stays_within_twice_the_cap() -> None:
    # What the httpx engine's reader sees from h11: one Data event per one-byte chunk.
    cap = 64 * 1024
    reader = BodyReader(None, cap)
    byte = b"x"

    def endless() -> None:
        while True:
            reader.feed(byte)

    def refused() -> None:
        with pytest.raises(ResponseTooLargeError):
            endless()

    assert _peak_while(refused) <= 2 * cap


def test_a_body_fed_a_byte_at_a_time_is_whole() -> None:
    reader = BodyReader(None, CAP)
    data = bytes(range(256)) * 100
    for at in range(len(data)):
        reader.feed(data[at : at + 1])
    assert reader.finish() == data


def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    parser = ResponseParser(100)
    with pytest.raises(ResponseTooLargeError, match="101 bytes exceeds the 100-byte cap"):
        parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n")


@pytest.mark.parametrize("framing", ["chunked", "until-close"])
def test_undeclared_length_over_the_cap_is_refused_as_it_arrives(framing: str) -> None:
    parser = ResponseParser(100)
    if framing == "chunked":
        parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        parser.feed(b"64\r\n" + b"x" * 100 + b"\r\n")
        with pytest.raises(ResponseTooLargeError):
            parser.feed(b"1\r\nx\r\n")
    else:
        parser.feed(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 100)
        with pytest.raises(ResponseTooLargeError):
            parser.feed(b"x")


def test_unknown_content_encoding_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="br"):
        ResponseParser(CAP).feed(b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\n")


def test_padding_after_a_compressed_body_is_bounded() -> None:
    packed = gzip.compress(b"ok")
    parser = ResponseParser(1000)
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + packed)
    padding = b"\0" * 4096
    for _ in range((1000 + 64 * 1024 - len(packed)) // 4096):  # tolerated, up to a bound
        parser.feed(padding)
    with pytest.raises(ResponseTooLargeError):
        parser.feed(padding)
