"""Reading an answer's body under a size cap, inflating gzip/deflate without ever passing it.

Both HTTP engines feed raw body bytes through a `BodyReader`: an unbounded inflate turns a
255 KB gzip bomb into 256 MiB, so the cap applies to the inflated size, one bounded step at
a time. Small pieces are gathered into larger ones as they come, so that a body arriving a
byte at a time costs no more memory than one arriving whole: at most about twice the cap
while it is joined.
"""

from __future__ import annotations

import zlib
from typing import Final

from ._errors import MalformedResponseError, ResponseTooLargeError

__all__ = ["BodyReader", "check_declared_length"]

#: How far zlib may inflate past the cap before we notice: one step of it.
_INFLATE_STEP: Final = 64 * 1024
#: Pieces smaller than this are copied into a run of up to `_RUN` bytes instead of kept
#: apart: a million one-byte objects would take some 40 MB for a 1 MiB body.
_SMALL: Final = 4096
_RUN: Final = 64 * 1024


def check_declared_length(declared: str | None, limit: int) -> None:
    """Refuse before reading when Content-Length already promises more than `limit`."""
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(f"answer of {declared} bytes exceeds the {limit}-byte cap")


class BodyReader:
    """Collects a body's bytes under `limit`, decoding its Content-Encoding as it goes."""

    __slots__ = ("_inflater", "_limit", "_parts", "_raw", "_run", "_size")

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] = []
        self._run = bytearray()
        self._size = 0
        self._raw = 0
        encoding = "identity" if content_encoding is None else content_encoding.strip().lower()
        if encoding in ("identity", ""):
            self._inflater: zlib._Decompress | None = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            wbits = zlib.MAX_WBITS | 16 if "gzip" in encoding else zlib.MAX_WBITS
            self._inflater = zlib.decompressobj(wbits)
        else:
            raise MalformedResponseError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, chunk: bytes) -> None:
        """Take raw bytes off the wire; raises once the decoded body passes the cap."""
        if self._inflater is None:
            self._add(chunk)
            return
        # Compressed bytes that inflate to nothing (padding after the stream) are bounded too.
        self._raw += len(chunk)
        if self._raw > self._limit + _INFLATE_STEP:
            raise ResponseTooLargeError(f"answer exceeds the {self._limit}-byte cap")
        data = chunk
        try:
            while data and not self._inflater.eof:
                budget = self._limit - self._size + 1
                self._add(self._inflater.decompress(data, min(budget, _INFLATE_STEP)))
                data = self._inflater.unconsumed_tail
        except zlib.error:
            raise MalformedResponseError("compressed answer is corrupt") from None

    def finish(self) -> bytes:
        """The whole decoded body; raises if a compressed stream ended early or has a tail."""
        if self._inflater is not None:
            if not self._inflater.eof:
                raise MalformedResponseError("compressed answer is truncated")
            if self._inflater.unused_data.strip(b"\0"):
                raise MalformedResponseError("data after the compressed answer")
        if self._run:
            self._parts.append(bytes(self._run))
            self._run.clear()
        parts = self._parts
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _add(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self._limit:
            raise ResponseTooLargeError(f"answer exceeds the {self._limit}-byte cap")
        if not piece:
            return
        run = self._run
        if len(piece) >= _SMALL or not (run or self._parts):  # large, or the first: as is
            if run:
                self._parts.append(bytes(run))
                run.clear()
            self._parts.append(piece)
            return
        run += piece
        if len(run) >= _RUN:
            self._parts.append(bytes(run))
            run.clear()
