"""A strict, incremental HTTP/1.1 response parser (no I/O), for `H1Sender`.

It reads exactly one answer to a POST: status line, headers, then a body framed by
Content-Length, chunked encoding or the end of the connection. Anything ambiguous that
request-smuggling and desync attacks rely on (Content-Length with Transfer-Encoding, differing
lengths, folded headers, bare LF, control bytes) is refused rather than guessed at, and as soon
as the bytes show it: a peer that is not speaking HTTP/1.x (an HTTP/0.9 body, an HTTP/2 frame)
is refused at its first bytes, a bare LF when it arrives, not after a timeout. Sizes are bounded
before anything is buffered: the head (as generous as httpx: any number of fields within
`MAX_HEAD` bytes), each chunk-size line, the trailers and the (decoded) body. Each byte is
examined a bounded number of times, however the answer is split.

`feed` raises `FramingError` for bytes that are not a well-formed answer (deterministic: the
same answer would be refused again); `feed_eof` raises `IncompleteAnswerError` when the
connection ends mid-answer.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from ._body import BodyReader, check_declared_length
from ._keepalive import parse_keep_alive

__all__ = ["MAX_HEAD", "FramingError", "IncompleteAnswerError", "ResponseParser"]

#: httpcore lets h11 buffer up to 100 KiB of an incomplete head; this is more.
MAX_HEAD: Final = 128 * 1024
_MAX_CHUNK_LINE: Final = 1024
_PREFIX: Final = b"HTTP/1."

_STATUS_LINE: Final = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: [\t\x20-\x7e\x80-\xff]*)?")
_FIELD: Final = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[\x21-\x7e\x80-\xff](?:[ \t\x21-\x7e\x80-\xff]*"
    rb"[\x21-\x7e\x80-\xff])?)?)[ \t]*"
)
_CHUNK_HEAD: Final = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n")
#: For each one-digit chunk size, by the digit's byte: a run of such chunks.
_TINY_RUNS: Final = {
    digit: re.compile(rb"(?:%c\r\n.{%d}\r\n)++" % (digit, int(chr(digit), 16)), re.DOTALL)
    for digit in b"123456789abcdefABCDEF"
}


class FramingError(Exception):
    """The bytes are not one well-formed HTTP/1.1 answer."""


class IncompleteAnswerError(Exception):
    """The connection ended before the answer was complete."""


class _State(enum.Enum):
    HEAD = enum.auto()
    LENGTH = enum.auto()
    CHUNKS = enum.auto()
    TRAILERS = enum.auto()
    UNTIL_CLOSE = enum.auto()
    DONE = enum.auto()


_HEAD, _LENGTH, _CHUNKS, _TRAILERS, _UNTIL_CLOSE, _DONE = _State


#: A final answer's head, as parsed: servers send the same head over and over (the Date
#: changes once a second), and parsing one is much of what reading an answer costs.
_Head = tuple[int, dict[str, str], bool, float | None, str | None, _State, int]
_KNOWN_HEADS: Final[dict[bytes, _Head]] = {}
_KNOWN_HEAD_SIZE: Final = 1024  # longer heads are parsed each time: bounded memory
_KNOWN_HEAD_COUNT: Final = 64


class ResponseParser:
    """Feed it bytes with `feed` (and `feed_eof` at end of stream) until it says done.

    Then `status`, `headers` (lower-case names, repeats joined by ", "), `body()`,
    `keep_alive` (may the connection carry another request) and `keep_alive_timeout`
    (the server's Keep-Alive timeout, if it sent one) describe the answer; `overrun` says
    that bytes beyond it arrived too. With `keep_body=False` it only follows the framing
    (the httpx engine runs one beside h11, to see such bytes) and keeps no body.
    """

    __slots__ = (
        "_body",
        "_buffer",
        "_chunk_end",
        "_max_body",
        "_remaining",
        "_scanned",
        "_state",
        "_status_seen",
        "_trailer_bytes",
        "headers",
        "keep_alive",
        "keep_alive_timeout",
        "keep_body",
        "overrun",
        "status",
    )

    def __init__(self, max_body: int, *, keep_body: bool = True) -> None:
        self.keep_body = keep_body
        self.overrun = False
        self._max_body = max_body
        self._buffer = bytearray()
        self._state = _HEAD
        self._scanned = 0  # head bytes already checked (for CRLFs and the status line)
        self._status_seen = False
        self._remaining = 0  # body bytes of the current Content-Length body or chunk
        self._chunk_end = False  # a chunk's data is in; its CRLF is due
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
        raise IncompleteAnswerError("connection closed before the answer was complete")

    def body(self) -> bytes:
        """The decoded body of a complete answer."""
        return b"" if self._body is None else self._body.finish()

    def _advance(self) -> bool:
        buffer = self._buffer
        while True:
            state = self._state
            if state is _HEAD:
                end = buffer.find(b"\r\n\r\n", max(0, self._scanned - 3))
                if end < 0 or end > MAX_HEAD:
                    self._check_partial_head(buffer)
                    return False
                head = bytes(buffer[:end])
                del buffer[: end + 4]
                self._scanned = 0
                self._status_seen = False
                self._parse_head(head)
            elif state is _LENGTH:
                if not self._take(buffer):
                    return False
                self._state = _DONE
            elif state is _CHUNKS:
                if not self._chunks(buffer):
                    return False
            elif state is _TRAILERS:
                if not self._trailers(buffer):
                    return False
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
                    self.overrun = True
                    buffer.clear()
                return True

    def _check_partial_head(self, buffer: bytearray) -> None:
        """Refuse an incomplete head now if what has arrived can never become a valid one."""
        size = len(buffer)
        if size > MAX_HEAD:
            raise FramingError(f"answer head longer than {MAX_HEAD} bytes")
        start = self._scanned
        if start < len(_PREFIX):
            known = min(size, len(_PREFIX))
            if buffer[:known] != _PREFIX[:known]:
                raise FramingError(f"not an HTTP/1.x answer: {bytes(buffer[:16])!r}")
        # Only the new bytes (and the one before them, for a CR) are looked at.
        at = buffer.find(b"\n", start)
        while at >= 0:
            if at == 0 or buffer[at - 1] != 0x0D:
                raise FramingError("bare LF in the answer head")
            if not self._status_seen:
                line = bytes(buffer[: at - 1])
                if _STATUS_LINE.fullmatch(line) is None:
                    raise FramingError(f"bad status line {line[:60]!r}")
                self._status_seen = True
            at = buffer.find(b"\n", at + 1)
        self._scanned = size

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

    def _chunks(self, buffer: bytearray) -> bool:
        """Decode chunks from the buffer; True at the last (empty) chunk.

        One pass with a position and one deletion at the end, the data of every chunk in
        the buffer gathered into one piece: endless one-byte chunks cost a few regex steps
        each, not a body piece and a buffer shift each.
        """
        position = 0
        size = len(buffer)
        remaining = self._remaining
        chunk_end = self._chunk_end
        data = bytearray()
        last = False
        while True:
            if remaining:
                taken = min(remaining, size - position)
                data += buffer[position : position + taken]
                position += taken
                remaining -= taken
                if remaining:
                    break
                chunk_end = True
            if chunk_end:
                if size - position < 2:
                    break
                if buffer[position] != 0x0D or buffer[position + 1] != 0x0A:
                    raise FramingError("chunk not followed by CRLF")
                position += 2
                chunk_end = False
            run = _TINY_RUNS.get(buffer[position]) if size - position > 32 else None
            if run is not None:
                # A run of equal one-digit chunks ("1\r\nx\r\n" over and over), matched and
                # sliced in C: an endless stream of them costs per byte, not per chunk.
                match = run.match(buffer, position)
                if match is not None and match.end() - position > 32:
                    size_now = int(chr(buffer[position]), 16)
                    stride = size_now + 5
                    end = match.end()
                    if size_now == 1:
                        data += buffer[position + 3 : end : stride]
                    else:
                        data += b"".join(
                            [buffer[at : at + size_now] for at in range(position + 3, end, stride)]
                        )
                    position = end
                    continue
            match = _CHUNK_HEAD.match(buffer, position)
            if match is None:
                end = buffer.find(b"\r\n", position, position + _MAX_CHUNK_LINE + 2)
                if end >= 0:
                    raise FramingError(f"bad chunk size {bytes(buffer[position:end])[:40]!r}")
                if size - position > _MAX_CHUNK_LINE:
                    raise FramingError("chunk-size line too long")
                if buffer.find(b"\n", position) >= 0:
                    raise FramingError("bad chunk-size line")
                break  # the line is not all here yet
            if match.end() - position > _MAX_CHUNK_LINE + 2:
                raise FramingError("chunk-size line too long")
            remaining = int(match[1], 16)
            position = match.end()
            if not remaining:
                last = True
                break
        del buffer[:position]
        self._remaining = remaining
        self._chunk_end = chunk_end
        if data:
            self._feed_body(bytes(data))
        if last:
            self._state = _TRAILERS
        return last

    def _trailers(self, buffer: bytearray) -> bool:
        """Skip trailer fields (bounded, checked); True at the blank line that ends them."""
        position = 0
        try:
            while True:
                end = buffer.find(b"\r\n", position)
                if end < 0:
                    if self._trailer_bytes + len(buffer) - position > MAX_HEAD:
                        raise FramingError("trailers too long")
                    return False
                self._trailer_bytes += end + 2 - position
                if self._trailer_bytes > MAX_HEAD:
                    raise FramingError("trailers too long")
                if end == position:
                    position = end + 2
                    self._state = _DONE
                    return True
                if _FIELD.fullmatch(buffer, position, end) is None:
                    raise FramingError("malformed trailer field")
                position = end + 2
        finally:
            del buffer[:position]

    def _feed_body(self, data: bytes) -> None:
        if self._body is not None:  # None only when not keeping the body
            self._body.feed(data)

    def _parse_head(self, head: bytes) -> None:
        known = _KNOWN_HEADS.get(head)
        if known is not None:
            self._reuse_head(known)
            return
        lines = head.split(b"\r\n")
        match = _STATUS_LINE.fullmatch(lines[0])
        if match is None:
            raise FramingError(f"bad status line {lines[0][:60]!r}")
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
            self.keep_alive_timeout = parse_keep_alive(headers["keep-alive"])
        coding = headers.get("content-encoding")
        if self.keep_body:
            self._body = BodyReader(coding, self._max_body)
        self._state = self._framing(status, headers)
        if len(head) <= _KNOWN_HEAD_SIZE:
            if len(_KNOWN_HEADS) >= _KNOWN_HEAD_COUNT:
                _KNOWN_HEADS.clear()
            _KNOWN_HEADS[head] = (
                status,
                headers.copy(),
                self.keep_alive,
                self.keep_alive_timeout,
                coding,
                self._state,
                self._remaining,
            )

    def _reuse_head(self, known: _Head) -> None:
        """Take a head's reading from one already parsed, byte for byte the same; only
        what depends on this parser's cap is checked again."""
        status, headers, keep_alive, keep_alive_timeout, coding, state, remaining = known
        self.status = status
        self.headers = headers.copy()  # each answer's own: a caller may change it
        self.keep_alive = keep_alive
        self.keep_alive_timeout = keep_alive_timeout
        if self.keep_body:
            self._body = BodyReader(coding, self._max_body)
            if remaining > self._max_body:
                check_declared_length(str(remaining), self._max_body)
        self._remaining = remaining
        self._state = state

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
            return _CHUNKS
        if length is not None:
            # A repeated length is allowed only when every copy agrees (RFC 9112 6.3).
            values = {value.strip(" \t") for value in length.split(",")}
            text = values.pop()
            if values or not (text.isascii() and text.isdigit()) or len(text) > 18:
                raise FramingError(f"bad Content-Length {length[:40]!r}")
            if self.keep_body:
                check_declared_length(text, self._max_body)
            self._remaining = int(text)
            return _LENGTH if self._remaining else _DONE
        self.keep_alive = False  # the body ends where the connection does
        return _UNTIL_CLOSE
