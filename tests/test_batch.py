"""The batcher: bounded, lazy, one outcome per input, cancellable, and correct under faults."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest

import mailkit_async as mk
from mailkit_async.testing import EmulatorTransport, Faults, MailkitEmulator, serve
from mailkit_async.testing._server import EmulatorServer

from .conftest import CLIENT_ID, CLIENT_MD5

W = mk.WipeStatus
R = mk.RevalidateStatus
PATIENT = mk.RetryPolicy(initial_backoff=0.0, max_attempts=12)
# The mix from the issue: 10% 503, 5% 429, 5% drop-before, 5% drop-after, 3% HTML 502.
FAULT_MIX = {
    "http_503": 0.10,
    "http_429": 0.05,
    "drop_before": 0.05,
    "drop_after": 0.05,
    "http_502": 0.03,
}


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests in flight at the HTTP layer; each takes a moment so they overlap."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(random.uniform(0, 0.002))
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


def emulated(emulator: MailkitEmulator, **options: int) -> mk.MailkitClient:
    """A client of `emulator`, in process."""
    return mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, transport=EmulatorTransport(emulator), **options  # type: ignore[arg-type]
    )


@asynccontextmanager
async def under_fault_mix(
    emulator: MailkitEmulator, protocol: str, *, seed: int, engine: str
) -> AsyncIterator[tuple[EmulatorServer, mk.MailkitClient]]:
    """The emulator on loopback with the issue's fault mix, and a patient client for it."""
    emulator.faults = Faults(seed=seed, **FAULT_MIX)  # type: ignore[arg-type]
    async with (
        serve(emulator) as server,
        mk.MailkitClient(
            CLIENT_ID,
            CLIENT_MD5,
            protocol=protocol,  # type: ignore[arg-type]
            base_url=server.base_url,
            engine=engine,  # type: ignore[arg-type]
            retry=PATIENT,
        ) as client,
    ):
        yield server, client


def worker_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if "worker" in repr(t.get_coro())]


@pytest.mark.parametrize("concurrency", [1, 2, 5, 10, 20])
async def test_in_flight_never_exceeds_concurrency(concurrency: int) -> None:
    """A max-in-flight counter at the HTTP layer, not a clock."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    transport = CountingTransport(EmulatorTransport(emulator))
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, transport=transport, max_concurrency=20
    ) as client:
        outcomes = [
            o
            async for o in client.wipe_many(
                (f"u{i}@example.com" for i in range(300)), concurrency=concurrency
            )
        ]
    assert len(outcomes) == 300
    assert 0 < transport.max_in_flight <= concurrency
    if concurrency > 1:
        assert transport.max_in_flight > 1  # the counter can see overlap


async def test_one_outcome_per_input_including_bad_ones() -> None:
    """Each input gives exactly one outcome with the item as given; bad items are errors."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    jane = emulator.add_recipient("jane@example.com")
    items: list[str | int] = [
        "jane@example.com",
        "not-an-address",
        jane.id_email,
        "nobody@example.com",
        "jane@example.com",
    ]
    async with emulated(emulator) as client:
        batch = client.wipe_many(items, concurrency=1, ordered=True)
        outcomes = [o async for o in batch]
    assert [o.item for o in outcomes] == items
    assert [o.index for o in outcomes] == [0, 1, 2, 3, 4]
    assert isinstance(outcomes[1].error, mk.InvalidArgumentError)
    assert (outcomes[1].result, outcomes[1].attempts) == (None, 0)
    statuses = [o.result.status if o.result else None for o in outcomes]
    assert statuses == [W.QUEUED, None, W.ALREADY_QUEUED, W.INVALID_RECIPIENT, W.ALREADY_QUEUED]
    assert batch.summary.outcomes == 5
    assert batch.summary.statuses == Counter(
        {"already_queued": 2, "queued": 1, "invalid_recipient": 1}
    )
    assert batch.summary.errors == Counter({"InvalidArgumentError": 1})


async def test_ordered_option_restores_input_order() -> None:
    """Completion order by default; input order with ordered=True."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    emulator.faults = Faults(seed=5, slow=0.3, slow_seconds=0.01)
    transport = EmulatorTransport(emulator)
    async with mk.MailkitClient(CLIENT_ID, CLIENT_MD5, transport=transport) as client:
        items = [f"u{i}@example.com" for i in range(200)]
        unordered = [o.index async for o in client.wipe_many(items, concurrency=20)]
        ordered = [o.index async for o in client.wipe_many(items, concurrency=20, ordered=True)]
    assert sorted(unordered) == list(range(200))
    assert unordered != list(range(200))  # the slow answers really reorder completion
    assert ordered == list(range(200))


async def test_input_is_read_lazily_from_sync_and_async_iterables() -> None:
    """A huge input is pulled a window at a time, never materialised."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    pulled = 0

    def endless() -> Iterator[str]:
        nonlocal pulled
        while True:
            pulled += 1
            yield f"u{pulled % 50}@example.com"

    async def async_source() -> AsyncIterator[str]:
        for i in range(30):
            await asyncio.sleep(0)
            yield f"a{i}@example.com"

    async with emulated(emulator, max_concurrency=10) as client:
        async with client.wipe_many(endless(), concurrency=10) as batch:
            seen = 0
            async for _ in batch:
                seen += 1
                if seen == 100:
                    break
        assert 100 <= pulled <= 100 + 2 * 10 + 1
        from_async = [o async for o in client.wipe_many(async_source(), concurrency=5)]
    assert sorted(o.item for o in from_async) == sorted(f"a{i}@example.com" for i in range(30))
    assert worker_tasks() == []


async def test_a_failing_input_ends_the_batch_with_its_error() -> None:
    """A bug in the caller's own iterable ends the batch; nothing is left running."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)

    def broken() -> Iterator[str]:
        yield "a@example.com"
        raise RuntimeError("the caller's bug")

    async with emulated(emulator) as client:
        with pytest.raises(RuntimeError, match="caller's bug"):
            async for _ in client.wipe_many(broken(), concurrency=3):
                pass
        assert worker_tasks() == []
        assert (await client.wipe("a@example.com")).status is W.ALREADY_QUEUED


@pytest.mark.parametrize(
    ("items", "options"),
    [
        ("a@b.cz", {}),
        (42, {}),
        ([], {"concurrency": 0}),
        ([], {"concurrency": 51}),
        ([], {"rate": 0}),
        ([], {"rate": float("inf")}),
    ],
)
async def test_bad_batch_arguments_fail_before_anything_runs(
    items: object, options: dict[str, object]
) -> None:
    """A string, a number, a concurrency above the pool, a meaningless rate: refused at once."""
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, transport=httpx.MockTransport(lambda r: httpx.Response(500))
    ) as client:
        with pytest.raises(mk.InvalidArgumentError):
            client.wipe_many(items, **options)  # type: ignore[arg-type]


async def test_cancellation_churn_leaves_the_client_usable(engine: str) -> None:
    """Batches broken off, consumers cancelled, single calls cancelled at twice the pool size."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    emulator.faults = Faults(seed=2, slow=0.5, slow_seconds=0.005)
    rng = random.Random(4)
    async with (
        serve(emulator) as server,
        mk.MailkitClient(
            CLIENT_ID,
            CLIENT_MD5,
            base_url=server.base_url,
            engine=engine,  # type: ignore[arg-type]
            max_concurrency=10,
            retry=mk.RetryPolicy(max_attempts=1),
        ) as client,
    ):

        async def consume() -> None:
            async for _ in client.wipe_many(
                (f"u{i}@example.com" for i in range(10_000)), concurrency=10
            ):
                pass

        for _ in range(5):
            task = asyncio.create_task(consume())
            await asyncio.sleep(rng.uniform(0.005, 0.05))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert worker_tasks() == []

        async def single(i: int) -> None:
            await asyncio.wait_for(client.wipe(f"s{i}@example.com"), timeout=rng.uniform(0, 0.01))

        for _ in range(10):
            await asyncio.gather(*(single(i) for i in range(20)), return_exceptions=True)
        emulator.faults = None
        result = await asyncio.wait_for(client.wipe("after@example.com"), timeout=5)
    assert result.status is W.QUEUED


async def test_rate_spaces_requests_evenly() -> None:
    """rate=100 keeps 30 requests from all starting at once (a behaviour bound, loose)."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    async with emulated(emulator) as client:
        started = time.monotonic()
        outcomes = [
            o async for o in client.wipe_many((f"u{i}@example.com" for i in range(30)), rate=100)
        ]
    assert len(outcomes) == 30
    assert time.monotonic() - started >= 0.28


@pytest.mark.parametrize(
    ("protocol", "adaptive", "engine"),
    [
        ("json", False, "builtin"),
        ("xmlrpc", False, "builtin"),
        ("json", True, "builtin"),
        ("json", False, "httpx"),
        ("xmlrpc", False, "httpx"),
    ],
)
async def test_ten_thousand_wipes_under_faults_on_loopback(
    protocol: str, adaptive: bool, engine: str
) -> None:
    """Every input exactly one outcome, none an error; each address queued exactly once."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    ids = {emulator.add_recipient(f"user{i}@example.com").id_email for i in range(10_000)}
    async with under_fault_mix(emulator, protocol, seed=7, engine=engine) as (server, client):
        batch = client.wipe_many(
            (f"user{i}@example.com" for i in range(10_000)), concurrency=50, adaptive=adaptive
        )
        outcomes = [o async for o in batch]
    assert sorted(o.index for o in outcomes) == list(range(10_000))
    assert [o.error for o in outcomes if o.error] == []
    statuses = Counter(o.result.status for o in outcomes if o.result)
    assert set(statuses) <= {W.QUEUED, W.ALREADY_QUEUED}
    assert emulator.wipe_queue == ids
    # ALREADY_QUEUED exactly for the addresses whose answer was lost after acting (once or
    # more: a second loss leaves the final answer a duplicate all the same).
    lost_after = {e.key for e in emulator.fault_log if e.kind == "drop_after"}
    assert statuses[W.ALREADY_QUEUED] == len(lost_after)
    assert batch.summary.retries == sum(emulator.fault_counts.values())
    assert (
        server.connections_opened
        <= 50 + emulator.fault_counts["drop_before"] + emulator.fault_counts["drop_after"]
    )


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
async def test_revalidate_without_agreement_never_sends_twice(protocol: str, engine: str) -> None:
    """Under the same faults: no second confirmation, and every dropped call reported unknown."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    for i in range(5_000):
        emulator.add_recipient(f"user{i}@example.com", subscribed=False)
    async with under_fault_mix(emulator, protocol, seed=11, engine=engine) as (_, client):
        batch = client.revalidate_many(
            (f"user{i}@example.com" for i in range(5_000)), agreement=False, concurrency=50
        )
        outcomes = [o async for o in batch]
    assert len(outcomes) == 5_000
    assert max(emulator.confirmations_sent.values()) == 1
    unknown = [o for o in outcomes if isinstance(o.error, mk.OutcomeUnknownError)]
    assert [o.error for o in outcomes if o.error and o not in unknown] == []
    counts = emulator.fault_counts
    # The client cannot tell a drop before acting from one after, nor what a 502 hid: each
    # ends the item as unknown, and no item is ever sent again after one.
    assert len(unknown) == counts["drop_before"] + counts["drop_after"] + counts["http_502"]
    assert batch.summary.outcome_unknown == len(unknown)
    sent = sum(1 for o in outcomes if o.result and o.result.status is R.CONFIRMATION_SENT)
    assert sum(emulator.confirmations_sent.values()) == sent + counts["drop_after"]


@pytest.mark.parametrize(
    ("error", "lowered"), [(mk.RateLimitedError, True), (mk.ConnectionDroppedError, False)]
)
async def test_adaptive_batch_lowers_in_flight_only_on_pushback(
    error: type[mk.MailkitError], lowered: bool
) -> None:
    """429s halve the in-flight limit; other failures leave it alone."""
    from mailkit_async._batch import fan_out

    in_flight = 0
    peak_after_failures = 0
    failures_seen = 0
    successes = 0

    async def work(item: int) -> int:
        nonlocal in_flight, peak_after_failures, failures_seen, successes
        in_flight += 1
        # Right after the push-back: 10 successes regain at most one slot of the halved limit.
        if failures_seen and successes < 10:
            peak_after_failures = max(peak_after_failures, in_flight)
        try:
            await asyncio.sleep(0.001)
            if item < 20:
                failures_seen += 1
                if error is mk.RateLimitedError:
                    raise mk.RateLimitedError("429", function="f", status_code=429)
                raise error("dropped", function="f")
            successes += 1
            return item
        finally:
            in_flight -= 1

    outcomes = [o async for o in fan_out(range(200), work, concurrency=20, adaptive=True)]
    assert len(outcomes) == 200
    assert sum(1 for o in outcomes if o.error) == 20
    assert (peak_after_failures <= 11) is lowered


@pytest.mark.parametrize("protocol", ["json", "xmlrpc"])
async def test_map_fans_out_any_call_and_counts_each_items_attempts(protocol: str) -> None:
    """`map` runs any call method per item: the batch sees each item's attempts and retries
    (a 503 then success is two attempts), statuses are counted, and a call given its own
    trace keeps it."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    emulator.inject("mailkit.email.wipe", b"busy", status=503, times=3)
    retried: list[mk.RetryEvent] = []
    own = mk.CallTrace()
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        protocol=protocol,  # type: ignore[arg-type]
        transport=EmulatorTransport(emulator),
        retry=mk.RetryPolicy(initial_backoff=0),
    ) as client:

        def work(address: str) -> object:
            if address == "own@example.com":
                return client.wipe(address, trace=own)
            return client.wipe(address)

        batch = client.map(
            work, [f"u{i}@example.com" for i in range(6)] + ["own@example.com"],
            concurrency=1, ordered=True, on_retry=retried.append,
        )  # fmt: skip
        outcomes = [o async for o in batch]
    assert [o.result.status for o in outcomes if o.result] == [W.QUEUED] * 7
    assert [o.attempts for o in outcomes] == [4, 1, 1, 1, 1, 1, 0]
    assert own.attempts == 1  # its own trace, not the batch's
    assert len(retried) == 3
    assert batch.summary.retries == 3
    assert batch.summary.statuses == Counter({"queued": 7})


async def test_calls_made_by_an_async_input_are_not_the_batchs() -> None:
    """An async input that makes calls of its own (a lookup per item) runs outside the
    batch: its retries go to the client's hook, not the batch's, and no item counts them."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    client_retries: list[mk.RetryEvent] = []
    batch_retries: list[mk.RetryEvent] = []
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        transport=EmulatorTransport(emulator),
        retry=mk.RetryPolicy(initial_backoff=0),
        on_retry=client_retries.append,
    ) as client:

        async def looked_up() -> AsyncIterator[str]:
            for i in range(4):
                emulator.inject("mailkit.email.getstatus", b"busy", status=503, times=2)
                await client.get_status(f"x{i}@example.com")  # two retries, then an answer
                yield f"u{i}@example.com"

        batch = client.map(
            client.wipe, looked_up(), concurrency=2, on_retry=batch_retries.append
        )
        outcomes = [o async for o in batch]
    assert sorted(o.item for o in outcomes) == [f"u{i}@example.com" for i in range(4)]
    assert [o.attempts for o in outcomes] == [1] * 4
    assert (len(client_retries), batch_retries, batch.summary.retries) == (8, [], 0)


async def test_map_turns_a_refused_argument_into_that_items_outcome() -> None:
    """A bad item fails alone, before anything is sent for it; the others go through."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    async with emulated(emulator) as client:
        outcomes = [
            o async for o in client.map(client.wipe, ["a@example.com", "not an address", 7])
        ]
    failed = [o for o in outcomes if o.error is not None]
    assert [(o.item, type(o.error), o.attempts) for o in failed] == [
        ("not an address", mk.InvalidArgumentError, 0)
    ]
    assert len(emulator.calls) == 2


async def test_map_paces_every_call_it_makes() -> None:
    """rate= reaches the calls `work` makes: 20 calls at 200/s take at least 19 intervals."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, auto_create=True)
    async with emulated(emulator) as client:
        started = time.monotonic()
        outcomes = [
            o
            async for o in client.map(
                client.wipe, (f"p{i}@example.com" for i in range(20)), rate=200
            )
        ]
    assert len(outcomes) == 20
    assert time.monotonic() - started >= 19 / 200 * 0.9


# --- the batch's own inbox -------------------------------------------------------------------


async def test_inbox_wakes_its_consumer_and_keeps_the_order() -> None:
    from mailkit_async._batch import _Inbox

    inbox: _Inbox[int] = _Inbox()
    getting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not getting.done()  # nothing to read: it waits
    inbox.put(1)
    inbox.put(2)
    assert await getting == 1
    assert await inbox.get() == 2
    cancelled = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    inbox.put(3)  # a put after a cancelled get is kept for the next one
    assert await inbox.get() == 3
