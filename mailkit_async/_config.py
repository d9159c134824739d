"""The client's defaults, and the checks of its options that no other module owns."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Final

import httpx

from ._codec import Codec
from ._errors import InvalidArgumentError
from ._json_codec import JsonCodec
from ._validate import check_seconds, describe
from ._xmlrpc_codec import XmlRpcCodec

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "check_base_url",
    "check_callback",
    "check_extra_messages",
    "check_timeout",
    "make_codec",
]

DEFAULT_BASE_URL: Final = "https://api.mailkit.eu"
#: Mailkit documents no timeouts; a read can be slow on large list calls, a connect should not.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_CONCURRENCY: Final = 50
#: Far above any single-recipient answer; list calls of 10,000 rows stay well under it.
DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024

_CODECS: Final[dict[str, type[JsonCodec] | type[XmlRpcCodec]]] = {
    "json": JsonCodec,
    "xmlrpc": XmlRpcCodec,
}


def make_codec(protocol: object) -> Codec:
    """The codec `protocol` names ("json", "xmlrpc"), or `protocol` itself if it is one."""
    if isinstance(protocol, str):
        codec_type = _CODECS.get(protocol)
        if codec_type is None:
            raise InvalidArgumentError(
                f"protocol must be 'json', 'xmlrpc' or a Codec, not {describe(protocol)}"
            )
        return codec_type()
    if isinstance(protocol, Codec):
        return protocol
    raise InvalidArgumentError(
        f"protocol must be 'json', 'xmlrpc' or a Codec object, not {type(protocol).__name__}"
    )


def check_base_url(base_url: object) -> str:
    """`base_url` if it is an http(s) URL with a host, else InvalidArgumentError."""
    if not isinstance(base_url, str):
        raise InvalidArgumentError(
            f"base_url must be an http(s) URL (str), not {type(base_url).__name__}"
        )
    if not base_url.isprintable() or " " in base_url or not base_url.isascii():
        raise InvalidArgumentError(
            "base_url holds spaces, control characters or non-ASCII characters; "
            "percent-encode them"
        )
    try:
        parts = urllib.parse.urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise InvalidArgumentError(f"base_url is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(
            f"base_url must be an http(s) URL with a host, got {describe(base_url)}"
        )
    return base_url


def check_timeout(timeout: object) -> None:
    """A number of seconds, None (no timeouts) or an httpx.Timeout, each part finite and > 0."""
    if timeout is None:
        return
    if isinstance(timeout, httpx.Timeout):
        for part in ("connect", "read", "write", "pool"):
            check_seconds(getattr(timeout, part), name=f"timeout.{part}", allow_none=True)
        return
    check_seconds(timeout, name="timeout")


def check_extra_messages(extra: object) -> None:
    """The shape of `extra_messages` (its statuses are checked where the tables are built)."""
    if extra is None:
        return
    if not isinstance(extra, Mapping):
        raise InvalidArgumentError(
            f"extra_messages must be a mapping of function name to messages, not "
            f"{type(extra).__name__}"
        )
    for function, messages in extra.items():
        if not isinstance(function, str) or not isinstance(messages, Mapping):
            raise InvalidArgumentError(
                "extra_messages maps a function name (str) to a mapping of message to status"
            )


def check_callback(callback: object, name: str) -> None:
    """None or a callable, else InvalidArgumentError naming the parameter."""
    if callback is not None and not callable(callback):
        raise InvalidArgumentError(
            f"{name} must be callable or None, not {type(callback).__name__}"
        )
