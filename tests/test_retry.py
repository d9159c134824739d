"""Retries: the pure decision and backoff by table, then against the fault-injecting emulator.

Proves that the decision (retry, give up, or OutcomeUnknownError) and the backoff follow
their tables, Retry-After honoured up to the cap; that a policy checks its values; and that
against injected faults a wipe retries through each one, an unsafe revalidate is never sent
again after a drop but is after a 503, attempts run out, a long Retry-After fails at once
with the wait, a stalled server ends the call within its deadline, and `idempotent=`
overrides what the library knows.
"""

from __future__ import annotations

import time

import pytest

import mailkit_async as mk
from mailkit_async._retry import Decision, backoff_delay, decide
from mailkit_async.testing import Faults, MailkitEmulator

from .conftest import ClientFactory

RC = mk.RetryClass
NO_WAIT = mk.RetryPolicy(initial_backoff=0.0, max_attempts=6)


def connect() -> mk.MailkitError:
    return mk.ConnectError("refused", function="f")


def dropped() -> mk.MailkitError:
    return mk.ConnectionDroppedError("gone", function="f")


def status(code: int, retry_after: float | None = None) -> mk.MailkitError:
    error = mk.RateLimitedError if code == 429 else mk.HTTPStatusError
    return error(f"HTTP {code}", function="f", status_code=code, retry_after=retry_after)


@pytest.mark.parametrize(
    ("error", "safe", "unsafe"),
    [
        (connect(), "retry", "retry"),  # never sent
        (
            mk.RequestTimeoutError("pool", function="f", request_sent=False),
            "retry",
            "retry",
        ),
        (status(429), "retry", "retry"),  # refused before processing
        (status(503), "retry", "retry"),
        (dropped(), "retry", "outcome-unknown"),  # may have acted
        (
            mk.RequestTimeoutError("read", function="f", request_sent=True),
            "retry",
            "outcome-unknown",
        ),
        (status(502), "retry", "outcome-unknown"),
        (status(504), "retry", "outcome-unknown"),
        (status(500), "give-up", "give-up"),
        (status(404), "give-up", "give-up"),
        (mk.MalformedResponseError("x", function="f"), "give-up", "give-up"),
        (mk.AuthenticationError("Unauthorized", function="f"), "give-up", "give-up"),
    ],
)
def test_decision_table(error: mk.MailkitError, safe: str, unsafe: str) -> None:
    """What each failure proves decides the retry, per retry class."""
    assert decide(error, RC.SAFE) is Decision(safe)
    assert decide(error, RC.UNSAFE) is Decision(unsafe)


@pytest.mark.parametrize(
    ("attempt", "random", "expected"),
    [
        (1, 0.0, 0.5),
        (2, 0.0, 1.0),
        (3, 0.0, 2.0),
        (5, 0.0, 8.0),
        (60, 0.0, 8.0),
        (2, 1.0, 0.75),
        (200, 0.5, 7.0),
    ],
)
def test_backoff_table(attempt: int, random: float, expected: float) -> None:
    """Capped exponential backoff with proportional jitter."""
    delay = backoff_delay(mk.RetryPolicy(), attempt, connect(), lambda: random)
    assert delay == pytest.approx(expected)


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    """Retry-After wins over the backoff; beyond max_retry_after the error is raised at once."""
    policy = mk.RetryPolicy(max_retry_after=30.0)
    assert backoff_delay(policy, 1, status(429, 12.0), lambda: 0.5) == 12.0
    too_long = status(429, 31.0)
    with pytest.raises(mk.RateLimitedError) as info:
        backoff_delay(policy, 1, too_long, lambda: 0.5)
    assert info.value.retry_after == 31.0


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"max_attempts": True},
        {"initial_backoff": -1},
        {"jitter": 2.0},
        {"max_backoff": float("nan")},
        {"deadline": "1"},
    ],
)
def test_policy_checks_its_values(options: dict[str, object]) -> None:
    """Meaningless policies are refused with the option's name."""
    with pytest.raises(mk.InvalidArgumentError, match=next(iter(options))):
        mk.RetryPolicy(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["http_429", "http_503", "http_502", "drop_before", "drop_after"])
async def test_wipe_retries_through_each_fault(
    emulator: MailkitEmulator, make_client: ClientFactory, kind: str
) -> None:
    """Every fault kind is retried for a wipe; the address ends up queued exactly once."""
    jane = emulator.add_recipient("jane@example.com")
    emulator.faults = Faults(seed=1, **{kind: 1.0})  # type: ignore[arg-type]
    events: list[mk.RetryEvent] = []

    def on_retry(event: mk.RetryEvent) -> None:
        events.append(event)
        if event.attempt == 2:  # let the third attempt through
            emulator.faults = None

    trace = mk.CallTrace()
    async with make_client(retry=NO_WAIT, on_retry=on_retry) as client:
        result = await client.wipe("jane@example.com", trace=trace)
    # After a drop_after the wipe was done, so the resend is answered as a duplicate.
    expected = mk.WipeStatus.ALREADY_QUEUED if kind == "drop_after" else mk.WipeStatus.QUEUED
    assert result.status is expected
    assert trace.attempts == 3
    assert [e.attempt for e in events] == [1, 2]
    assert emulator.wipe_queue == {jane.id_email}
    assert emulator.fault_counts[kind] == 2


async def test_unsafe_revalidate_is_not_resent_after_a_drop(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    """A dropped answer to revalidate(agreement=False) is OutcomeUnknownError, sent once."""
    jane = emulator.add_recipient("jane@example.com", subscribed=False)
    emulator.faults = Faults(seed=1, drop_after=1.0)
    async with make_client(retry=NO_WAIT) as client:
        with pytest.raises(mk.OutcomeUnknownError) as info:
            await client.revalidate("jane@example.com", agreement=False)
    assert isinstance(info.value.__cause__, mk.ConnectionDroppedError)
    assert info.value.request_sent
    assert emulator.confirmations_sent == {jane.id_email: 1}
    assert (
        emulator.calls.count(("json", "mailkit.email.revalidate"))
        + emulator.calls.count(("xmlrpc", "mailkit.email.revalidate"))
        == 1
    )


async def test_unsafe_revalidate_is_resent_after_503(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    """503 proves nothing was done: even an unsafe call is retried, and acts once."""
    jane = emulator.add_recipient("jane@example.com", subscribed=False)
    emulator.faults = Faults(seed=1, http_503=1.0)

    def lift(event: mk.RetryEvent) -> None:
        emulator.faults = None

    async with make_client(retry=NO_WAIT, on_retry=lift) as client:
        result = await client.revalidate("jane@example.com", agreement=False)
    assert result.status is mk.RevalidateStatus.CONFIRMATION_SENT
    assert emulator.confirmations_sent == {jane.id_email: 1}


async def test_attempts_run_out(emulator: MailkitEmulator, make_client: ClientFactory) -> None:
    """After max_attempts the last error is raised as it is."""
    emulator.add_recipient("jane@example.com")
    emulator.faults = Faults(seed=1, http_503=1.0)
    async with make_client(retry=mk.RetryPolicy(initial_backoff=0.0, max_attempts=3)) as client:
        trace = mk.CallTrace()
        with pytest.raises(mk.HTTPStatusError) as info:
            await client.wipe("jane@example.com", trace=trace)
    assert info.value.status_code == 503
    assert trace.attempts == 3
    assert emulator.fault_counts["http_503"] == 3


async def test_long_retry_after_fails_at_once_with_the_wait(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    """A Retry-After over the cap raises RateLimitedError carrying it, without sleeping."""
    emulator.add_recipient("jane@example.com")
    emulator.faults = Faults(seed=1, http_429=1.0, retry_after="3600")
    async with make_client(retry=mk.RetryPolicy(max_retry_after=60.0)) as client:
        started = time.monotonic()
        with pytest.raises(mk.RateLimitedError) as info:
            await client.wipe("jane@example.com")
    assert info.value.retry_after == 3600.0
    assert time.monotonic() - started < 5.0  # a bound against sleeping, not a perf target
    assert emulator.fault_counts["http_429"] == 1


async def test_a_stalled_server_ends_the_call_within_its_deadline(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    """A server that answers too late: each call ends at its deadline, as a timeout."""
    emulator.add_recipient("jane@example.com")
    emulator.faults = Faults(seed=1, slow=1.0, slow_seconds=1.5)
    async with make_client(retry=mk.RetryPolicy(deadline=0.3, initial_backoff=0.0)) as client:
        started = time.monotonic()
        with pytest.raises(mk.RequestTimeoutError, match="deadline"):
            await client.wipe("jane@example.com")
        elapsed = time.monotonic() - started
        emulator.faults = None
        assert (await client.wipe("jane@example.com")).status.succeeded  # still usable
    assert 0.3 <= elapsed < 3.0


async def test_call_idempotent_override(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    """An unknown function counts as unsafe; idempotent=True lets a dropped call be retried."""
    emulator.faults = Faults(seed=1, drop_after=1.0)
    async with make_client(retry=NO_WAIT) as client:
        with pytest.raises(mk.OutcomeUnknownError):
            await client.call("mailkit.mailinglist.list", idempotent=False)

        def lift(event: mk.RetryEvent) -> None:
            emulator.faults = None

        rows = await client.call(
            "mailkit.mailinglist.list", idempotent=True, trace=mk.CallTrace(on_retry=lift)
        )
    assert [row["NAME"] for row in rows] == ["Default"]
