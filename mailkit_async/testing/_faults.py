"""Seeded fault injection: which calls fail and how, drawn from the emulator's own RNG."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

import attrs

from .._errors import InvalidArgumentError
from .._validate import checked_init, describe
from ._wire import EmulatorResponse, plain

__all__ = ["FAULT_KINDS", "FaultEvent", "FaultKind", "Faults", "fault_reply"]

# At most one of these per call; "slow" comes on top.
ExclusiveKind = Literal["http_429", "http_503", "http_502", "drop_before", "drop_after", "truncate"]
FaultKind = Literal[ExclusiveKind, "slow"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "http_429",
    "http_503",
    "http_502",
    "drop_before",
    "drop_after",
    "truncate",
    "slow",
)

# What nginx sends when its upstream is down or overloaded: CRLF lines, no charset.
_NGINX_PAGE = (
    "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n"
    "<center><h1>{0}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_HTML = ("Content-Type", "text/html")
_502_BODY = _NGINX_PAGE.format("502 Bad Gateway").encode()
_503_BODY = _NGINX_PAGE.format("503 Service Temporarily Unavailable").encode()


class FaultEvent(NamedTuple):
    """One injected fault: the function called, the fault, and the call's recipient key.

    `key` is the call's ID_email (as an int, even when sent as a string) or else its
    email (as sent); None when the call names no recipient.
    """

    function: str
    kind: FaultKind
    key: int | str | None


def _number(attribute: attrs.Attribute[Any], value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"{attribute.name} takes a number, not {describe(value)}")
    try:
        return float(value)
    except OverflowError:  # an int beyond any float
        return math.inf


def _probability(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not 0 <= _number(attribute, value) <= 1:  # NaN fails this too
        raise InvalidArgumentError(
            f"{attribute.name} must be a probability from 0 to 1, not {describe(value)}"
        )


def _seconds(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    seconds = _number(attribute, value)
    if not (seconds >= 0 and math.isfinite(seconds)):
        raise InvalidArgumentError(
            f"{attribute.name} must be a finite number >= 0, not {describe(value)}"
        )


def _seed(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"seed takes an int, not {describe(value)}")
    if not -(2**63) <= value < 2**64:
        raise InvalidArgumentError("seed must fit in 64 bits")


def _header_value(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # Checked here so neither mount has to fail half-way through a reply.
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{attribute.name} takes a string or None, not {describe(value)}"
        )
    if not value.isascii() or not value.isprintable():
        raise InvalidArgumentError(f"{attribute.name} is not a sendable header value")


def _function_set(functions: Iterable[str] | None) -> frozenset[str] | None:
    given: object = functions  # checked at run time: callers may pass anything
    if given is None:
        return None
    if isinstance(given, str) or not isinstance(given, Iterable):
        raise InvalidArgumentError(
            "functions takes a collection of function names, not one string"
            if isinstance(functions, str)
            else f"functions takes a collection of function names, not {describe(given)}"
        )
    names = frozenset(given)
    if not all(isinstance(name, str) for name in names):
        raise InvalidArgumentError("functions takes function names (strings)")
    return names


@checked_init
@attrs.frozen(kw_only=True)
class Faults:
    """A seeded fault plan: assign to `MailkitEmulator.faults` (None turns faults off).

    Each probability is per call. The six exclusive kinds are drawn independently in this
    order and the first hit wins, so a call gets at most one of them; a kind's effective
    rate is its probability times (1 - p) of every kind before it. `slow` is drawn on top,
    independently, and delays whatever the call gets by `slow_seconds`.

    - `http_429`, `http_503`: that status with `Retry-After: retry_after` (None: no
      header) and a text/plain (429) or nginx HTML (503) body; no state change.
    - `http_502`: an nginx HTML error page, as a proxy sends; no state change.
    - `drop_before`: hang up without acting or answering; no state change.
    - `drop_after`: act (state changes), then hang up without answering.
    - `truncate`: act, then send the head and half the body Content-Length promises, then
      hang up.

    Faults only reach calls that decoded and passed the IP and credential checks (and
    were not answered by `inject`), so error-path tests stay deterministic; with
    `functions`, only calls of those functions.
    """

    seed: int = attrs.field(default=0, validator=_seed)
    http_429: float = attrs.field(default=0.0, validator=_probability)
    http_503: float = attrs.field(default=0.0, validator=_probability)
    http_502: float = attrs.field(default=0.0, validator=_probability)
    drop_before: float = attrs.field(default=0.0, validator=_probability)
    drop_after: float = attrs.field(default=0.0, validator=_probability)
    truncate: float = attrs.field(default=0.0, validator=_probability)
    slow: float = attrs.field(default=0.0, validator=_probability)
    slow_seconds: float = attrs.field(default=0.05, validator=_seconds)
    retry_after: str | None = attrs.field(default="0", validator=_header_value)
    functions: frozenset[str] | None = attrs.field(default=None, converter=_function_set)

    def _covers(self, function: str) -> bool:
        return self.functions is None or function in self.functions

    def _draw(self, rng: random.Random) -> tuple[ExclusiveKind | None, bool]:
        """The exclusive fault (or None) and whether the call is slow."""
        chances: tuple[tuple[ExclusiveKind, float], ...] = (
            ("http_429", self.http_429),
            ("http_503", self.http_503),
            ("http_502", self.http_502),
            ("drop_before", self.drop_before),
            ("drop_after", self.drop_after),
            ("truncate", self.truncate),
        )
        # Every kind draws on every call, hit or not: then the n-th call's numbers depend
        # on the seed and n only, and changing one probability leaves the others' draws be.
        hit: ExclusiveKind | None = None
        for kind, chance in chances:
            if rng.random() < chance and hit is None:
                hit = kind
        slow = rng.random() < self.slow
        return hit, slow


def fault_reply(
    kind: Literal["http_429", "http_503", "http_502"], faults: Faults
) -> EmulatorResponse:
    """The HTTP error reply of an injected status fault."""
    if kind == "http_502":
        return EmulatorResponse(502, (_HTML,), _502_BODY)
    retry = () if faults.retry_after is None else (("Retry-After", faults.retry_after),)
    if kind == "http_429":
        return plain(429, "Too Many Requests", *retry)
    return EmulatorResponse(503, (_HTML, *retry), _503_BODY)
