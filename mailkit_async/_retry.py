"""When to send a call again, and how long to wait first: pure decisions, tested by tables.

Which failures are retried depends on what the failure proves and on the function:

- never sent (connect failure, connect/pool timeout): any function;
- refused before processing (429, 503): any function;
- maybe processed (connection dropped, read timeout, 502, 504): only functions that are safe
  to repeat. For an unsafe one (revalidate without agreement sends an email) the call ends as
  OutcomeUnknownError, never a silent resend.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Final

import attrs

from ._errors import (
    HTTPStatusError,
    InvalidArgumentError,
    MailkitError,
    RateLimitedError,
    TransportError,
)
from ._functions import RetryClass
from ._validate import check_count, checked_init, describe

__all__ = ["Decision", "RetryPolicy", "backoff_delay", "decide", "refused_before_processing"]

_REFUSED_BEFORE_PROCESSING: Final = frozenset({429, 503})
_MAYBE_PROCESSED: Final = frozenset({502, 504})


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise InvalidArgumentError(
            f"{attribute.name} must be a number >= 0, got {describe(value)}"
        )
    try:
        infinite = math.isinf(float(value))
    except OverflowError:  # an int beyond any float
        raise InvalidArgumentError(
            f"{attribute.name} is too large to be a number of seconds"
            + ("; use math.inf for no deadline" if attribute.name == "deadline" else "")
        ) from None
    if infinite and attribute.name != "deadline":
        raise InvalidArgumentError(f"{attribute.name} must be finite")


def _attempts(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    check_count(value, name="max_attempts")


@checked_init
@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a call is retried. `RetryPolicy(max_attempts=1)` turns retries off.

    Waits grow as `initial_backoff * 2**n`, capped at `max_backoff`, each scaled by a random
    factor in `[1 - jitter, 1]`. A `Retry-After` is honoured up to `max_retry_after`; a longer
    one fails at once with RateLimitedError carrying the wait. `deadline` bounds one call's
    attempts and waits together (seconds, `math.inf` for none).
    """

    max_attempts: int = attrs.field(default=4, validator=_attempts)
    initial_backoff: float = attrs.field(default=0.5, validator=_non_negative)
    max_backoff: float = attrs.field(default=8.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.25, validator=_non_negative)
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative)
    deadline: float = attrs.field(default=120.0, validator=_non_negative)

    def __attrs_post_init__(self) -> None:
        if self.jitter > 1:
            raise InvalidArgumentError(f"jitter must be between 0 and 1, got {self.jitter!r}")


class Decision(enum.Enum):
    """What to do after a failed attempt."""

    RETRY = "retry"
    GIVE_UP = "give-up"  # raise the error as it is
    OUTCOME_UNKNOWN = "outcome-unknown"  # may have acted; unsafe to resend


def refused_before_processing(error: MailkitError) -> bool:
    """An HTTP status (429, 503) that proves the service refused the call without acting."""
    return isinstance(error, HTTPStatusError) and error.status_code in _REFUSED_BEFORE_PROCESSING


def decide(error: MailkitError, retry_class: RetryClass) -> Decision:
    """Whether `error` may be retried for a function of `retry_class` (attempts aside)."""
    if not isinstance(error, TransportError):
        return Decision.GIVE_UP  # the service answered: a repeat gets the same answer
    if isinstance(error, HTTPStatusError):
        if refused_before_processing(error):
            return Decision.RETRY
        if error.status_code not in _MAYBE_PROCESSED:
            return Decision.GIVE_UP
    elif not error.request_sent:
        return Decision.RETRY
    return Decision.OUTCOME_UNKNOWN if retry_class is RetryClass.UNSAFE else Decision.RETRY


def backoff_delay(
    policy: RetryPolicy, attempt: int, error: MailkitError, random: Callable[[], float]
) -> float:
    """Seconds to wait before attempt `attempt + 1` (attempts count from 1).

    Raises `error` itself when the server asks for a longer wait than `max_retry_after`.
    """
    retry_after = error.retry_after if isinstance(error, HTTPStatusError) else None
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            raise error
        return retry_after
    base = min(policy.max_backoff, policy.initial_backoff * 2.0 ** min(attempt - 1, 62))
    return base * (1.0 - policy.jitter * random())


def is_rate_limit(error: MailkitError) -> bool:
    """A sign the service wants fewer requests (the batcher's adaptive limit listens)."""
    return isinstance(error, RateLimitedError) or (
        isinstance(error, HTTPStatusError) and error.status_code == 503
    )
