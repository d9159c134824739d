"""The codec seam: how a `(function, parameters)` call becomes bytes and an answer a value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeAlias, runtime_checkable

from ._credentials import Credentials

__all__ = ["Codec", "Params"]

#: Named parameters, or (XML-RPC only) an explicit positional list without the credentials.
Params: TypeAlias = Mapping[str, object] | Sequence[object]


@runtime_checkable
class Codec(Protocol):
    """A wire format. Implementations are stateless and shared by every concurrent call.

    `encode_call` raises InvalidArgumentError (before any I/O) for values the format cannot
    carry; `decode_reply` returns the decoded value or raises a ProtocolError subclass.
    """

    @property
    def name(self) -> str:
        """A short name, e.g. "json"."""
        ...

    @property
    def path(self) -> str:
        """The endpoint path below the base URL, e.g. "/json.fcgi"."""
        ...

    @property
    def content_type(self) -> str:
        """The request's Content-Type."""
        ...

    def encode_call(self, function: str, params: Params, credentials: Credentials) -> bytes:
        """The request body for one call."""
        ...

    def decode_reply(self, body: bytes, *, function: str) -> object:
        """The answer's single value: a dict, list, str, int, float, bool, bytes or None."""
        ...
