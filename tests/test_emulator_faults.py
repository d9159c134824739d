"""Seeded fault injection in the emulator: each fault's effect on the wire and on state.

Every fault is checked on both mounts (in-process transport, loopback server) against what
the emulator really did: `wipe_queue`, `wipe_requests`, `confirmations_sent`, `fault_log`;
and on every lifecycle function: a fault before acting leaves all of the server's truth as
it was, one after acting leaves what a fault-free call leaves.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mailkit_async.testing import (
    EmulatorTransport,
    FaultEvent,
    Faults,
    MailkitEmulator,
    serve,
)

from ._lifecycle import (
    CLIENT_ID,
    JANE,
    LIFECYCLE,
    MD5,
    PATHS,
    LifecycleCall,
    b64,
    json_body,
    new_account,
    request,
    truth,
    xml_body,
)

WIPE = "mailkit.email.wipe"
REVALIDATE = "mailkit.email.revalidate"
NO_FAULTS = dict.fromkeys(
    ["http_429", "http_503", "http_502", "drop_before", "drop_after", "truncate", "slow"], 0
)
DISCONNECTED = "Server disconnected without sending a response."
CUT_SHORT = "peer closed connection without sending complete message body"


def wipe(protocol: str, id_email: int = JANE) -> tuple[str, bytes]:
    if protocol == "json":
        return PATHS[protocol], json_body(WIPE, ID_email=id_email)
    return PATHS[protocol], xml_body(WIPE, id_email)


def revalidate_without_agreement(protocol: str) -> tuple[str, bytes]:
    """The call that sends a confirmation email each time it acts."""
    if protocol == "json":
        return PATHS[protocol], json_body(REVALIDATE, ID_email=JANE, agreement="FALSE")
    return PATHS[protocol], xml_body(REVALIDATE, JANE, None, "FALSE")


def new_emulator() -> MailkitEmulator:
    emulator = MailkitEmulator(CLIENT_ID, MD5)
    emulator.add_recipient("jane@example.com").subscribed = False
    return emulator


@pytest.fixture
def emu() -> MailkitEmulator:
    return new_emulator()


@pytest.fixture(params=["json", "xmlrpc"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["in-process", "loopback"])
async def http(
    request: pytest.FixtureRequest, emu: MailkitEmulator
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `emu`, mounted in-process or on a loopback server."""
    if request.param == "in-process":
        transport = EmulatorTransport(emu)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client
    else:
        # trust_env=False: a proxy from the environment must never see loopback test traffic.
        async with (
            serve(emu) as server,
            httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client,
        ):
            yield client


async def send(http: httpx.AsyncClient, call: tuple[str, bytes]) -> httpx.Response:
    path, body = call
    return await http.post(path, content=body)


async def read_into(response: httpx.Response, chunks: list[bytes]) -> None:
    """Read a streamed body, keeping what arrived even if reading fails."""
    async for chunk in response.aiter_raw():
        chunks.append(chunk)


def certain(kind: str, **options: Any) -> Faults:
    """A plan that injects `kind` into every call."""
    options[kind] = 1.0
    return Faults(**options)


def expected_reply(call: tuple[str, bytes]) -> bytes:
    """What a fault-free twin of the `emu` fixture answers to `call` first."""
    return new_emulator().handle(*call).body


# -- 429, 503, 502: an answer, no action ------------------------------------------------------

STATUS_FAULTS = {
    "http_429": (429, "text/plain; charset=utf-8", "0", b"Too Many Requests\n"),
    "http_503": (503, "text/html", "0", b"<h1>503 Service Temporarily Unavailable</h1>"),
    "http_502": (502, "text/html", None, b"<h1>502 Bad Gateway</h1>"),
}


@pytest.mark.parametrize("kind", sorted(STATUS_FAULTS))
async def test_status_faults_answer_without_acting(
    emu: MailkitEmulator, http: httpx.AsyncClient, protocol: str, kind: str
) -> None:
    status, content_type, retry_after, text = STATUS_FAULTS[kind]
    emu.faults = certain(kind)
    for call in (wipe(protocol), revalidate_without_agreement(protocol)):
        response = await send(http, call)
        assert response.status_code == status
        assert response.headers["content-type"] == content_type
        assert response.headers.get("retry-after") == retry_after
        assert text in response.content
        if content_type == "text/html":
            assert response.content.startswith(b"<html>")
    assert emu.wipe_queue == frozenset()
    assert emu.wipe_requests == {}
    assert emu.confirmations_sent == {}
    assert emu.fault_counts == {**NO_FAULTS, kind: 2}
    assert emu.fault_log == [(WIPE, kind, JANE), (REVALIDATE, kind, JANE)]
    assert emu.calls == [(protocol, WIPE), (protocol, REVALIDATE)]  # they did arrive


@pytest.mark.parametrize(
    ("retry_after", "header"), [(None, None), ("2", "2"), ("Wed, 21 Oct 2015 07:28:00 GMT", None)]
)
@pytest.mark.parametrize("kind", ["http_429", "http_503"])
async def test_retry_after_is_configurable(
    emu: MailkitEmulator,
    http: httpx.AsyncClient,
    kind: str,
    retry_after: str | None,
    header: str | None,
) -> None:
    emu.faults = certain(kind, retry_after=retry_after)
    response = await send(http, wipe("json"))
    assert response.status_code == int(kind[-3:])
    assert response.headers.get("retry-after") == (header or retry_after)
    assert len(response.headers.get_list("retry-after")) == (retry_after is not None)


# -- hang-ups ---------------------------------------------------------------------------------


async def test_drop_before_hangs_up_without_acting(
    emu: MailkitEmulator, http: httpx.AsyncClient, protocol: str
) -> None:
    emu.faults = Faults(drop_before=1.0)
    for call in (wipe(protocol), revalidate_without_agreement(protocol)):
        with pytest.raises(httpx.RemoteProtocolError, match=f"^{DISCONNECTED}$"):
            await send(http, call)
    assert emu.wipe_queue == frozenset()
    assert emu.wipe_requests == {}
    assert emu.confirmations_sent == {}
    assert emu.fault_counts == {**NO_FAULTS, "drop_before": 2}
    assert emu.fault_log == [(WIPE, "drop_before", JANE), (REVALIDATE, "drop_before", JANE)]
    assert emu.calls == [(protocol, WIPE), (protocol, REVALIDATE)]


async def test_drop_after_acts_then_hangs_up(
    emu: MailkitEmulator, http: httpx.AsyncClient, protocol: str
) -> None:
    emu.faults = Faults(drop_after=1.0)
    for call in (wipe(protocol), revalidate_without_agreement(protocol)):
        with pytest.raises(httpx.RemoteProtocolError, match=f"^{DISCONNECTED}$"):
            await send(http, call)
    assert emu.wipe_queue == frozenset({JANE})
    assert emu.wipe_requests == {JANE: 1}
    assert emu.confirmations_sent == {JANE: 1}
    assert emu.fault_counts == {**NO_FAULTS, "drop_after": 2}
    assert emu.fault_log == [(WIPE, "drop_after", JANE), (REVALIDATE, "drop_after", JANE)]
    # A retry that gets through sees the effect of the lost call.
    emu.faults = None
    retried = await send(http, wipe(protocol))
    assert b"Email has already been inserted" in retried.content
    assert emu.wipe_requests == {JANE: 2}


async def test_truncate_acts_then_cuts_the_body_short(
    emu: MailkitEmulator, http: httpx.AsyncClient, protocol: str
) -> None:
    emu.faults = Faults(truncate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match=f"^{CUT_SHORT}"):
        await send(http, wipe(protocol))
    # Streamed, the head arrives whole and promises the full body; half of it comes.
    path, body = call = revalidate_without_agreement(protocol)
    full = expected_reply(call)
    received: list[bytes] = []
    async with http.stream("POST", path, content=body) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(full))
        with pytest.raises(httpx.RemoteProtocolError, match=f"^{CUT_SHORT}.*expected {len(full)}"):
            await read_into(response, received)
    assert b"".join(received) == full[: len(full) // 2]
    assert emu.wipe_queue == frozenset({JANE})
    assert emu.wipe_requests == {JANE: 1}
    assert emu.confirmations_sent == {JANE: 1}
    assert emu.fault_counts == {**NO_FAULTS, "truncate": 2}
    assert emu.fault_log == [(WIPE, "truncate", JANE), (REVALIDATE, "truncate", JANE)]


# -- slow answers -----------------------------------------------------------------------------


async def test_slow_answers_normally_after_the_delay(
    emu: MailkitEmulator, http: httpx.AsyncClient
) -> None:
    emu.faults = Faults(slow=1.0, slow_seconds=0.1)
    started = time.monotonic()
    response = await send(http, wipe("json"))
    elapsed = time.monotonic() - started
    assert 0.09 <= elapsed < 5  # a behaviour check, not a timing benchmark
    assert response.content == expected_reply(wipe("json"))
    assert emu.wipe_queue == frozenset({JANE})
    assert emu.fault_counts == {**NO_FAULTS, "slow": 1}
    assert emu.fault_log == [(WIPE, "slow", JANE)]


async def test_slow_comes_on_top_of_another_fault(
    emu: MailkitEmulator, http: httpx.AsyncClient
) -> None:
    emu.faults = Faults(slow=1.0, slow_seconds=0.1, drop_before=1.0)
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        await send(http, wipe("json"))
    assert time.monotonic() - started >= 0.09
    assert emu.fault_log == [(WIPE, "drop_before", JANE), (WIPE, "slow", JANE)]
    assert emu.fault_counts == {**NO_FAULTS, "drop_before": 1, "slow": 1}


async def test_no_slow_means_no_delay(emu: MailkitEmulator, http: httpx.AsyncClient) -> None:
    """Control for the two above: the same call without `slow` is quick."""
    emu.faults = Faults(slow_seconds=0.5, drop_before=1.0)
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        await send(http, wipe("json"))
    assert time.monotonic() - started < 0.5
    assert emu.fault_counts["slow"] == 0


# -- the pure core's contract with the mounts -------------------------------------------------


def test_handle_says_what_the_mount_must_do(emu: MailkitEmulator) -> None:
    call = wipe("json")
    full = expected_reply(call)
    emu.faults = Faults(drop_before=1.0, slow=1.0, slow_seconds=0.25)
    response = emu.handle(*call)
    assert (response.action, response.delay, response.status, response.body) == (
        "drop",
        0.25,
        0,
        b"",
    )
    emu.faults = Faults(drop_after=1.0)
    response = emu.handle(*call)
    assert (response.action, response.delay, response.body) == ("drop", 0.0, full)  # the lost one
    emu.process_wipe_queue()
    emu.add_recipient("jane@example.com")
    emu.faults = Faults(truncate=1.0)
    response = emu.handle(*wipe("json", JANE + 1))
    assert (response.action, response.status) == ("truncate", 200)
    assert b'"error":"OK"' in response.body  # whole: the mount does the cutting
    emu.faults = None
    response = emu.handle(*call)
    assert (response.action, response.delay) == ("reply", 0.0)


# -- which calls faults reach -----------------------------------------------------------------

EVERY_FAULT = Faults(
    http_429=1.0,
    http_503=1.0,
    http_502=1.0,
    drop_before=1.0,
    drop_after=1.0,
    truncate=1.0,
    slow=1.0,
    slow_seconds=0.0,
)


@pytest.mark.parametrize(
    ("path", "body", "method", "client_ip", "expected"),
    [
        ("/json.fcgi", json_body(WIPE, ID_email=JANE).replace(MD5.encode(), b"x"), "POST",
         "127.0.0.1", b'{"error_status":1,"error":"Unauthorized"}'),
        ("/json.fcgi", json_body(WIPE, ID_email=JANE), "POST", "192.0.2.1",
         b'{"error_status":1,"error":"Disallowed IP 192.0.2.1"}'),
        ("/json.fcgi", b"{not json", "POST", "127.0.0.1", b"Bad Request: body is not JSON\n"),
        ("/elsewhere", json_body(WIPE, ID_email=JANE), "POST", "127.0.0.1", b"Not Found\n"),
        ("/json.fcgi", b"", "GET", "127.0.0.1", b"Method Not Allowed\n"),
    ],
)  # fmt: skip
def test_faults_skip_calls_that_fail_the_checks(
    path: str, body: bytes, method: str, client_ip: str, expected: bytes
) -> None:
    """Error-path tests stay deterministic under any fault plan."""
    emu = MailkitEmulator(CLIENT_ID, MD5, allowed_ips=["127.0.0.0/8"])
    emu.add_recipient("jane@example.com")
    emu.faults = EVERY_FAULT
    response = emu.handle(path, body, client_ip=client_ip, method=method)
    assert (response.body, response.action, response.delay) == (expected, "reply", 0.0)
    assert emu.fault_counts == NO_FAULTS
    assert emu.fault_log == []


def test_injected_replies_take_precedence_over_faults(emu: MailkitEmulator) -> None:
    emu.faults = EVERY_FAULT
    emu.inject(WIPE, b"injected")
    response = emu.handle(*wipe("json"))
    assert (response.body, response.action) == (b"injected", "reply")
    assert emu.fault_log == []
    assert emu.handle(*wipe("json")).status == 429  # the next call is fair game again


def test_functions_limits_faults(emu: MailkitEmulator) -> None:
    emu.faults = Faults(http_503=1.0, functions={WIPE, "mailkit.no.such.function"})
    status = emu.handle("/json.fcgi", json_body("mailkit.email.getstatus", ID_email=JANE))
    assert status.status == 200
    assert json.loads(status.body)[0]["ID_EMAIL"] == str(JANE)
    assert emu.handle(*wipe("json")).status == 503
    # Unknown functions passed the checks too, so faults reach them when named (or by default).
    assert emu.handle("/json.fcgi", json_body("mailkit.no.such.function")).status == 503
    assert emu.fault_log == [
        (WIPE, "http_503", JANE),
        ("mailkit.no.such.function", "http_503", None),
    ]
    emu.faults = Faults(http_503=1.0, functions=())
    assert emu.handle(*wipe("json")).status == 200
    assert emu.fault_counts == {**NO_FAULTS, "http_503": 2}


async def test_faults_none_restores_normal_behaviour(
    emu: MailkitEmulator, http: httpx.AsyncClient
) -> None:
    assert emu.faults is None  # the default
    plan = Faults(drop_before=1.0)
    emu.faults = plan
    assert emu.faults is plan
    with pytest.raises(httpx.RemoteProtocolError):
        await send(http, wipe("json"))
    emu.faults = None
    response = await send(http, wipe("json"))
    assert response.content == expected_reply(wipe("json"))
    assert emu.wipe_queue == frozenset({JANE})
    assert emu.fault_log == [(WIPE, "drop_before", JANE)]  # the record stays


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (json_body(WIPE, ID_email=str(JANE)), JANE),
        (json_body(WIPE, email="Jane@Example.com"), "Jane@Example.com"),
        (json_body(WIPE, ID_email="", email="jane@example.com"), "jane@example.com"),
        (json_body(WIPE, ID_email=["odd"]), None),
        (json_body("mailkit.mailinglist.list"), None),
    ],
)
def test_fault_log_names_the_recipient_key(emu: MailkitEmulator, body: bytes, key: object) -> None:
    emu.faults = Faults(http_503=1.0)
    emu.handle("/json.fcgi", body)
    [event] = emu.fault_log
    assert event.key == key
    assert type(event.key) is type(key)
    assert isinstance(event, FaultEvent)


# -- seeding and rates ------------------------------------------------------------------------

MIXED: dict[str, Any] = {
    "http_429": 0.05,
    "http_503": 0.10,
    "http_502": 0.03,
    "drop_before": 0.05,
    "drop_after": 0.05,
    "truncate": 0.03,
}


def run_calls(emu: MailkitEmulator, count: int) -> list[FaultEvent]:
    start = len(emu.fault_log)
    for n in range(count):
        emu.handle(*wipe("xmlrpc" if n % 3 else "json"))
    return emu.fault_log[start:]


def test_same_seed_same_faults() -> None:
    first, second, other = new_emulator(), new_emulator(), new_emulator()
    first.faults = second.faults = Faults(seed=7, slow=0.05, **MIXED)
    other.faults = Faults(seed=8, slow=0.05, **MIXED)
    log = run_calls(first, 300)
    assert {event.kind for event in log} == {*MIXED, "slow"}
    assert run_calls(second, 300) == log
    assert run_calls(other, 300) != log
    # Assigning a plan re-seeds: the same calls fault the same way again.
    first.faults = Faults(seed=7, slow=0.05, **MIXED)
    assert run_calls(first, 300) == log
    assert first.fault_counts == {kind: 2 * n for kind, n in Counter(e.kind for e in log).items()}


def faulted_ids(plan: Faults) -> dict[str, set[object]]:
    """Which of 500 recipients' wipes got which fault under `plan`."""
    emu = MailkitEmulator(CLIENT_ID, MD5)
    emu.faults = plan
    for n in range(500):
        emu.handle(*wipe("json", emu.add_recipient(f"r{n}@example.com").id_email))
    by_kind: dict[str, set[object]] = {kind: set() for kind in NO_FAULTS}
    for event in emu.fault_log:
        by_kind[event.kind].add(event.key)
    return by_kind


def test_changing_one_probability_keeps_the_other_draws() -> None:
    """Each call draws for every kind, so a plan tweak does not reshuffle the other faults."""
    before = faulted_ids(Faults(seed=2, http_503=0.2, slow=0.2))
    after = faulted_ids(Faults(seed=2, http_429=0.3, http_503=0.2, slow=0.2, truncate=0.3))
    assert len(after["http_429"]) > 100
    assert before["slow"] == after["slow"]
    # 429 comes first and takes its calls; every other 503 stays where it was.
    assert after["http_503"] == before["http_503"] - after["http_429"]
    assert after["truncate"].isdisjoint(before["http_503"])


async def test_mixed_rates_land_near_their_probabilities() -> None:
    """2,000 wipes of distinct recipients; the client's view and the server's truth agree."""
    emu = MailkitEmulator(CLIENT_ID, MD5)
    ids = [emu.add_recipient(f"r{n}@example.com").id_email for n in range(2000)]
    emu.faults = Faults(seed=3, slow=0.05, slow_seconds=0.0, **MIXED)
    seen: Counter[str] = Counter()
    async with httpx.AsyncClient(transport=EmulatorTransport(emu), base_url="http://e") as http:
        for id_email in ids:
            try:
                response = await send(http, wipe("json", id_email))
            except httpx.RemoteProtocolError:
                seen["hang-up"] += 1
            else:
                seen[str(response.status_code)] += 1
    counts = emu.fault_counts
    # Drawn in order, first hit wins: a kind's rate is p times (1 - p) of those before it;
    # slow is drawn apart from them.
    rates = {"slow": 0.05}
    untouched = 1.0
    for kind, chance in MIXED.items():
        rates[kind] = chance * untouched
        untouched *= 1 - chance
    for kind, rate in rates.items():
        expected, spread = 2000 * rate, 4 * math.sqrt(2000 * rate * (1 - rate))
        assert abs(counts[kind] - expected) <= spread, (kind, counts[kind], expected)
    assert seen["429"] == counts["http_429"]
    assert seen["503"] == counts["http_503"]
    assert seen["502"] == counts["http_502"]
    assert seen["hang-up"] == counts["drop_before"] + counts["drop_after"] + counts["truncate"]
    assert seen["200"] == 2000 - sum(counts.values()) + counts["slow"]
    # Server-side truth: queued exactly the calls that acted, each once.
    unacted = {e.key for e in emu.fault_log if e.kind in ("http_429", "http_503", "http_502")}
    unacted |= {e.key for e in emu.fault_log if e.kind == "drop_before"}
    assert emu.wipe_queue == set(ids) - unacted
    assert emu.wipe_requests == dict.fromkeys(emu.wipe_queue, 1)


# -- the loopback server under faults ---------------------------------------------------------


async def test_loopback_keeps_serving_after_hang_ups_and_shuts_down_cleanly(
    emu: MailkitEmulator,
) -> None:
    emu.faults = Faults(
        seed=5, drop_before=0.2, drop_after=0.2, truncate=0.2, slow=0.3, slow_seconds=0.01
    )
    limits = httpx.Limits(max_connections=10)
    async with asyncio.timeout(30), serve(emu) as server:
        async with httpx.AsyncClient(
            base_url=server.base_url, trust_env=False, limits=limits
        ) as client:
            outcomes = await asyncio.gather(
                *(send(client, wipe("json")) for _ in range(200)), return_exceptions=True
            )
            hang_ups = [o for o in outcomes if isinstance(o, BaseException)]
            assert all(type(o) is httpx.RemoteProtocolError for o in hang_ups)
            counts = emu.fault_counts
            assert (
                len(hang_ups) == counts["drop_before"] + counts["drop_after"] + counts["truncate"]
            )
            assert len(hang_ups) > 50
            emu.faults = None
            for _ in range(5):
                assert (await send(client, wipe("json"))).status_code == 200
        # Every hang-up cost its connection; the pool opened at most 10 others.
        assert len(hang_ups) < server.connections_opened <= len(hang_ups) + 10
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert len(emu.calls) == 205
    gc.collect()  # an unclosed socket or stream would warn here, and warnings are errors


async def test_shutdown_during_a_slow_answer_is_clean(emu: MailkitEmulator) -> None:
    emu.faults = Faults(slow=1.0, slow_seconds=0.3)
    async with asyncio.timeout(10), httpx.AsyncClient(trust_env=False) as client:
        async with serve(emu) as server:
            pending = asyncio.create_task(
                client.post(server.base_url + "/json.fcgi", content=wipe("json")[1])
            )
            # The emulator has no hook to await; once it logged the call, it is mid-delay.
            while not emu.calls:  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        with pytest.raises(httpx.TransportError):
            await pending
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert emu.wipe_queue == frozenset({JANE})  # it acted before the delay
    gc.collect()


# -- the plan itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"http_503": 1.5}, ValueError),
        ({"drop_after": -0.1}, ValueError),
        ({"truncate": math.nan}, ValueError),
        ({"slow": True}, TypeError),
        ({"http_429": "0.1"}, TypeError),
        ({"slow_seconds": -1}, ValueError),
        ({"slow_seconds": math.inf}, ValueError),
        ({"retry_after": "1\r\nX-Evil: 1"}, ValueError),
        ({"retry_after": "é"}, ValueError),
        ({"retry_after": 2}, TypeError),
        ({"functions": WIPE}, TypeError),
        ({"functions": [WIPE, 3]}, TypeError),
        ({"seed": "1"}, TypeError),
    ],
)
def test_faults_reject_bad_plans(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        Faults(**kwargs)


def test_faults_are_frozen_and_keyword_only(emu: MailkitEmulator) -> None:
    plan = Faults(functions=iter([WIPE]))
    assert plan.functions == frozenset({WIPE})
    with pytest.raises(AttributeError):
        plan.http_503 = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        Faults(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="Faults plan or None"):
        emu.faults = {"http_503": 1.0}  # type: ignore[assignment]
    assert emu.faults is None


# -- every lifecycle function -------------------------------------------------------------------


@pytest.mark.parametrize("lifecycle", LIFECYCLE, ids=[c.function for c in LIFECYCLE])
def test_faults_reach_every_lifecycle_function(protocol: str, lifecycle: LifecycleCall) -> None:
    """Before acting: no trace in the truth; after acting: the fault-free call's truth."""
    untouched = truth(new_account())
    twin = new_account()
    clean = twin.handle(*request(protocol, lifecycle))
    acted = truth(twin)
    assert clean.status == 200
    assert (acted != untouched) is lifecycle.acts
    for kind in ("http_429", "http_503", "http_502", "drop_before"):
        emu = new_account()
        emu.faults = certain(kind)
        response = emu.handle(*request(protocol, lifecycle))
        assert response.status != 200
        assert truth(emu) == untouched, kind
        assert emu.fault_log == [(lifecycle.function, kind, lifecycle.key)]
    for kind, action in (("drop_after", "drop"), ("truncate", "truncate")):
        emu = new_account()
        emu.faults = certain(kind)
        response = emu.handle(*request(protocol, lifecycle))
        # The answer that is lost or cut is the one the call would have had (times in it
        # may differ by a second, never in length).
        assert (response.action, response.status, len(response.body)) == (
            action,
            200,
            len(clean.body),
        )
        assert truth(emu) == acted, kind
        assert emu.fault_log == [(lifecycle.function, kind, lifecycle.key)]


def test_functions_limits_faults_to_named_lifecycle_functions() -> None:
    emu = new_account()
    emu.faults = Faults(http_503=1.0, functions={"mailkit.mailinglist.adduser"})
    for lifecycle in LIFECYCLE:
        expected = 503 if lifecycle.function == "mailkit.mailinglist.adduser" else 200
        assert emu.handle(*request("json", lifecycle)).status == expected, lifecycle.function
    assert emu.fault_log == [("mailkit.mailinglist.adduser", "http_503", "new@example.com")]


async def test_a_lost_adduser_answer_still_sent_the_opt_in_email(
    emu: MailkitEmulator, http: httpx.AsyncClient, protocol: str
) -> None:
    """Over both mounts: the hang-up hides the answer, not the email the call sent."""
    personal = {"email": b64("ann@example.com")}
    if protocol == "json":
        body = json_body(
            "mailkit.mailinglist.adduser", ID_user_list=1, confirm="TRUE", personal=personal
        )
    else:
        body = xml_body("mailkit.mailinglist.adduser", 1, True, personal)
    emu.faults = Faults(drop_after=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match=f"^{DISCONNECTED}$"):
        await send(http, (PATHS[protocol], body))
    ann = emu.recipient("ann@example.com")
    assert ann is not None
    assert (ann.pending, emu.confirmations_sent) == (True, {ann.id_email: 1})
    assert emu.fault_log == [("mailkit.mailinglist.adduser", "drop_after", "ann@example.com")]
