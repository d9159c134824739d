"""A strict, incremental HTTP/1.1 response parser (no I/O), for `H1Sender`.

It reads exactly one answer to a POST: status line, headers, then a body framed by
Content-Length, chunked encoding or the end of the connection. Anything ambiguous that
request-smuggling and desync attacks rely on (Content-Length with Transfer-Encoding, differing
lengths, folded headers, bare LF, control bytes) is refused rather than guessed at. Sizes are
bounded before anything is buffered: the head, each chunk-size line, the trailers and the
(decoded) body.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from ._body import BodyReader, check_declared_length

__all__ = ["FramingError", "ResponseParser"]

MAX_HEAD: Final = 64 * 1024
_MAX_HEADERS: Final = 100
_MAX_CHUNK_LINE: Final = 1024

_STATUS_LINE: Final = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: [\t\x20-\x7e\x80-\xff]*)?")
_FIELD: Final = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[\x21-\x7e\x80-\xff](?:[ \t\x21-\x7e\x80-\xff]*"
    rb"[\x21-\x7e\x80-\xff])?)?)[ \t]*"
)
_HEX: Final = re.compile(rb"[0-9A-Fa-f]{1,16}")
_KEEP_ALIVE_TIMEOUT: Final = re.compile(r"(?:^|,)\s*timeout\s*=\s*([0-9]{1,6})\s*(?:,|$)")


class FramingError(Exception):
    """The bytes are not one well-formed HTTP/1.1 answer."""


class _State(enum.Enum):
    HEAD = enum.auto()
    LENGTH = enum.auto()
    CHUNK_SIZE = enum.auto()
    CHUNK_DATA = enum.auto()
    CHUNK_END = enum.auto()
    TRAILERS = enum.auto()
    UNTIL_CLOSE = enum.auto()
    DONE = enum.auto()


_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE, _DONE = _State


class ResponseParser:
    """Feed it bytes with `feed` (and `feed_eof` at end of stream) until it says done.

    Then `status`, `headers` (lower-case names, repeats joined by ", "), `body()`,
    `keep_alive` (may the connection carry another request) and `keep_alive_timeout`
    (the server's Keep-Alive timeout, if it sent one) describe the answer.
    """

    __slots__ = (
        "_body",
        "_buffer",
        "_function",
        "_max_body",
        "_remaining",
        "_state",
        "_trailer_bytes",
        "headers",
        "keep_alive",
        "keep_alive_timeout",
        "status",
    )

    def __init__(self, max_body: int, function: str) -> None:
        self._max_body = max_body
        self._function = function
        self._buffer = bytearray()
        self._state = _HEAD
        self._remaining = 0
        self._trailer_bytes = 0
        self._body: BodyReader | None = None
        self.status = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = False
        self.keep_alive_timeout: float | None = None

    def feed(self, data: bytes) -> bool:
        """Take the next bytes off the wire; True once the answer is complete."""
        self._buffer += data
        return self._advance()

    def feed_eof(self) -> bool:
        """The peer closed its side. True if that completes the answer; raises if it cuts it."""
        if self._state is _UNTIL_CLOSE:
            self._state = _DONE
            return True
        if self._state is _DONE:
            return True
        raise FramingError("connection closed before the answer was complete")

    def body(self) -> bytes:
        """The decoded body of a complete answer."""
        return b"" if self._body is None else self._body.finish()

    def _advance(self) -> bool:
        buffer = self._buffer
        while True:
            state = self._state
            if state is _HEAD:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > MAX_HEAD:
                        raise FramingError(f"answer head longer than {MAX_HEAD} bytes")
                    return False
                if end > MAX_HEAD:
                    raise FramingError(f"answer head longer than {MAX_HEAD} bytes")
                head = bytes(buffer[:end])
                del buffer[: end + 4]
                self._parse_head(head)
            elif state is _LENGTH or state is _CHUNK_DATA:
                if not self._take(buffer):
                    return False
                self._state = _DONE if state is _LENGTH else _CHUNK_END
            elif state is _CHUNK_SIZE:
                end = buffer.find(b"\r\n")
                if end < 0 or end > _MAX_CHUNK_LINE:
                    if len(buffer) > _MAX_CHUNK_LINE or end > _MAX_CHUNK_LINE:
                        raise FramingError("chunk-size line too long")
                    return False
                line = bytes(buffer[:end])
                del buffer[: end + 2]
                size_text = line.split(b";", 1)[0].rstrip(b" \t")
                if _HEX.fullmatch(size_text) is None:
                    raise FramingError(f"bad chunk size {line[:40]!r}")
                self._remaining = int(size_text, 16)
                self._state = _CHUNK_DATA if self._remaining else _TRAILERS
            elif state is _CHUNK_END:
                if len(buffer) < 2:
                    return False
                if buffer[:2] != b"\r\n":
                    raise FramingError("chunk not followed by CRLF")
                del buffer[:2]
                self._state = _CHUNK_SIZE
            elif state is _TRAILERS:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if self._trailer_bytes + len(buffer) > MAX_HEAD:
                        raise FramingError("trailers too long")
                    return False
                self._trailer_bytes += end + 2
                if self._trailer_bytes > MAX_HEAD:
                    raise FramingError("trailers too long")
                line = bytes(buffer[:end])
                del buffer[: end + 2]
                if not line:
                    self._state = _DONE
                elif _FIELD.fullmatch(line) is None:
                    raise FramingError("malformed trailer field")
            elif state is _UNTIL_CLOSE:
                if buffer:
                    self._feed_body(bytes(buffer))
                    buffer.clear()
                return False
            else:  # _DONE
                if buffer:
                    # Bytes beyond the answer: nothing was asked for them, so the connection's
                    # framing can no longer be trusted.
                    self.keep_alive = False
                    buffer.clear()
                return True

    def _take(self, buffer: bytearray) -> bool:
        """Move up to `_remaining` body bytes out of the buffer; True when none remain."""
        wanted = self._remaining
        if len(buffer) >= wanted:
            self._feed_body(bytes(buffer[:wanted]))
            del buffer[:wanted]
            self._remaining = 0
            return True
        self._remaining = wanted - len(buffer)
        self._feed_body(bytes(buffer))
        buffer.clear()
        return False

    def _feed_body(self, data: bytes) -> None:
        assert self._body is not None  # set with the head, before any body state
        self._body.feed(data)

    def _parse_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        match = _STATUS_LINE.fullmatch(lines[0])
        if match is None:
            raise FramingError(f"bad status line {lines[0][:60]!r}")
        if len(lines) > _MAX_HEADERS + 1:
            raise FramingError(f"more than {_MAX_HEADERS} header fields")
        status = int(match[2])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            field = _FIELD.fullmatch(line)
            if field is None:
                raise FramingError(f"malformed header field {line[:60]!r}")
            name = field[1].decode("ascii").lower()
            value = field[2].decode("latin-1")
            previous = headers.get(name)
            headers[name] = value if previous is None else f"{previous}, {value}"
        if 100 <= status < 200:
            if status == 101:
                raise FramingError("unexpected 101 Switching Protocols")
            return  # an interim answer (100 Continue, 103 Early Hints): the real one follows
        self.status = status
        self.headers = headers
        connection = headers.get("connection", "").lower()
        self.keep_alive = match[1] == b"1" and "close" not in connection
        if self.keep_alive and "keep-alive" in headers:
            found = _KEEP_ALIVE_TIMEOUT.search(headers["keep-alive"].lower())
            if found is not None:
                self.keep_alive_timeout = float(found[1])
        self._body = BodyReader(headers.get("content-encoding"), self._max_body, self._function)
        self._state = self._framing(status, headers)

    def _framing(self, status: int, headers: dict[str, str]) -> _State:
        coding = headers.get("transfer-encoding")
        length = headers.get("content-length")
        if status in (204, 304):
            return _DONE
        if coding is not None:
            if length is not None:
                raise FramingError("both Transfer-Encoding and Content-Length")
            if coding.strip().lower() != "chunked":
                raise FramingError(f"unsupported Transfer-Encoding {coding[:40]!r}")
            return _CHUNK_SIZE
        if length is not None:
            # A repeated length is allowed only when every copy agrees (RFC 9112 6.3).
            values = {value.strip(" \t") for value in length.split(",")}
            text = values.pop()
            if values or not (text.isascii() and text.isdigit()) or len(text) > 18:
                raise FramingError(f"bad Content-Length {length[:40]!r}")
            check_declared_length(text, self._max_body, self._function)
            self._remaining = int(text)
            return _LENGTH if self._remaining else _DONE
        self.keep_alive = False  # the body ends where the connection does
        return _UNTIL_CLOSE
