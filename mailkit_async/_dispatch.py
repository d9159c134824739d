"""The core: one `Operation` through a codec and a sender, retried, to its reading."""

from __future__ import annotations

import asyncio
import contextvars
import math
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from http import HTTPStatus
from typing import Any, Final, NamedTuple, TypeVar

import attrs

from ._codec import Codec
from ._credentials import Credentials, conceal
from ._errors import (
    ConfigurationError,
    HTTPStatusError,
    InvalidArgumentError,
    MailkitError,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitedError,
)
from ._functions import RetryClass
from ._http import HttpReply, Sender, parse_retry_after
from ._operation import Operation
from ._retry import Decision, RetryPolicy, backoff_delay, decide
from ._validate import check_count, checked_init, unchecked
from ._version import __version__

__all__ = ["BATCH_SCOPE", "BatchScope", "CallTrace", "Dispatcher", "RetryEvent", "new_trace"]

T = TypeVar("T")

_USER_AGENT: Final = f"mailkit-async/{__version__}"


@attrs.frozen
class RetryEvent:
    """One retry about to happen. Carries no parameters: addresses are personal data."""

    function: str
    attempt: int  # the attempt that failed, counting from 1
    delay: float  # seconds until the next one
    error: MailkitError


@checked_init
@attrs.define
class CallTrace:
    """What one call went through; filled in as it runs (the batcher reads it)."""

    attempts: int = 0
    on_retry: Callable[[RetryEvent], None] | None = None

    def __attrs_post_init__(self) -> None:
        # Checked once here, not by attrs on every assignment: `attempts` counts on the hot path.
        check_count(self.attempts, name="attempts", minimum=0)
        if self.on_retry is not None and not callable(self.on_retry):
            raise InvalidArgumentError(
                f"on_retry must be callable or None, not {type(self.on_retry).__name__}"
            )


def new_trace(on_retry: Callable[[RetryEvent], None] | None = None) -> CallTrace:
    """A CallTrace built without the checks of its public constructor: the library's own,
    one per call, on the hot path."""
    trace: CallTrace = object.__new__(CallTrace)
    trace.attempts = 0
    trace.on_retry = on_retry
    return trace


class BatchScope(NamedTuple):
    """What the batcher hands the calls of one item: their trace, and its rate meter."""

    trace: CallTrace
    pace: Callable[[], Awaitable[None]] | None


#: Set by the batcher around each item's work (a context variable, so it reaches whatever
#: calls the work makes, typed methods and `call()` alike, and nothing outside the item).
BATCH_SCOPE: Final[contextvars.ContextVar[BatchScope | None]] = contextvars.ContextVar(
    "mailkit_async_batch_scope", default=None
)


class Dispatcher:
    """Encodes an Operation, POSTs it, decodes the answer and hands it to the reading.

    Everything per-client (URL, headers, codec, default policy) is fixed here once; a call
    allocates only its body. The sender bounds concurrency and enforces the deadline.
    """

    __slots__ = (
        "_codec",
        "_credentials",
        "_decode_reply",
        "_encode",
        "_headers",
        "_on_retry",
        "_policy",
        "_sender",
        "_url",
        "closed",
    )

    def __init__(
        self,
        *,
        codec: Codec,
        credentials: Credentials,
        sender: Sender,
        base_url: str,
        policy: RetryPolicy,
        on_retry: Callable[[RetryEvent], None] | None,
    ) -> None:
        self._codec = codec
        # The built-in codecs' public methods check their arguments; ours are always right.
        self._encode = unchecked(codec.encode_call)
        self._decode_reply = unchecked(codec.decode_reply)
        self._credentials = credentials
        self._sender = sender
        self._policy = policy
        self._on_retry = on_retry
        self._url = base_url.rstrip("/") + codec.path
        self._headers: Mapping[str, str] = {
            "Content-Type": codec.content_type,
            # Compressed answers are handled, but under a bound; identity costs no CPU.
            "Accept-Encoding": "identity",
            "User-Agent": _USER_AGENT,
        }
        self.closed = False

    @property
    def url(self) -> str:
        return self._url

    def run(
        self, operation: Operation[T], retry: RetryPolicy | None, trace: CallTrace | None
    ) -> Coroutine[Any, Any, T]:
        """The call's coroutine, after the per-call options are checked (here, at once).

        `retry` and `trace` default to the client's policy and a fresh trace, or inside a
        batch to the batch item's trace and rate meter.
        """
        if self.closed:
            raise ConfigurationError("this MailkitClient is closed; create a new one")
        policy = self._policy if retry is None else check_policy(retry)
        pace = None
        if trace is None:
            scope = BATCH_SCOPE.get()
            if scope is not None:
                trace, pace = scope
            else:
                trace = new_trace(self._on_retry)
        elif not isinstance(trace, CallTrace):
            raise InvalidArgumentError(f"trace must be a CallTrace, not {type(trace).__name__}")
        elif trace.on_retry is None:
            trace.on_retry = self._on_retry
        return self._call(operation, policy, trace, pace)

    async def _call(
        self,
        operation: Operation[T],
        policy: RetryPolicy,
        trace: CallTrace,
        pace: Callable[[], Awaitable[None]] | None,
    ) -> T:
        """One call, retried as `policy` and the operation's retry class allow; every failure
        a MailkitError naming the function. `pace` is awaited before every attempt."""
        function, params, retry_class, read = operation
        # SecretBytes: no frame on the way down (here, the sender, httpx) shows the md5. The
        # body is encoded once: bad arguments fail before any I/O.
        body = conceal(self._encode(function, params, self._credentials), self._codec)
        started = time.monotonic()
        # The sender ends the exchange at the deadline (a stalled server too) and bounds how
        # many run at once; here that costs nothing per call.
        deadline = None if math.isinf(policy.deadline) else started + policy.deadline
        while True:
            trace.attempts += 1
            if pace is not None:
                await pace()
            try:
                reply = await self._sender.post(self._url, body, self._headers, deadline=deadline)
                return read(self._decode(reply, function))
            except MailkitError as error:
                if error.function is None:
                    error.function = function  # the layers below do not know the call
                delay = self._next_delay(function, error, retry_class, policy, trace, started)
                if trace.on_retry is not None:
                    trace.on_retry(RetryEvent(function, trace.attempts, delay, error))
            await asyncio.sleep(delay)
    def _next_delay(
        self,
        function: str,
        error: MailkitError,
        retry_class: RetryClass,
        policy: RetryPolicy,
        trace: CallTrace,
        started: float,
    ) -> float:
        """The wait before the next attempt, or raise: the error, or OutcomeUnknownError."""
        decision = decide(error, retry_class)
        if decision is Decision.OUTCOME_UNKNOWN:
            raise OutcomeUnknownError(
                f"may have reached Mailkit ({type(error).__name__}); not sent again because "
                "repeating it could act twice",
                function=function,
            ) from error
        if decision is Decision.GIVE_UP or trace.attempts >= policy.max_attempts:
            raise error
        delay = backoff_delay(policy, trace.attempts, error, _RANDOM.random)
        if time.monotonic() - started + delay >= policy.deadline:
            raise error
        return delay

    def _decode(self, reply: HttpReply, function: str) -> object:
        """The answer's decoded value, or the MailkitError its HTTP status or body amounts to."""
        if not 200 <= reply.status < 300:
            raise _status_error(reply, function)
        try:
            return self._decode_reply(reply.body, function=function)
        except MailkitError:
            raise
        except Exception as exc:  # a user's codec must not crash a batch with a stray error
            raise MalformedResponseError(
                f"codec {self._codec.name!r} failed: {type(exc).__name__}", function=function
            ) from exc


# Jitter only; nothing secret depends on it.
_RANDOM: Final = random.Random()


def check_policy(policy: object) -> RetryPolicy:
    """`policy` if it is a RetryPolicy, else InvalidArgumentError."""
    if not isinstance(policy, RetryPolicy):
        raise InvalidArgumentError(f"retry must be a RetryPolicy, not {type(policy).__name__}")
    return policy


def _status_error(reply: HttpReply, function: str) -> HTTPStatusError:
    try:
        phrase = HTTPStatus(reply.status).phrase
    except ValueError:
        phrase = "unknown status"
    retry_after = parse_retry_after(reply.headers.get("retry-after"))
    error_type = RateLimitedError if reply.status == 429 else HTTPStatusError
    return error_type(
        f"HTTP {reply.status} {phrase}",
        function=function,
        status_code=reply.status,
        retry_after=retry_after,
    )
