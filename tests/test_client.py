"""MailkitClient against the emulator, both protocols, in-process and over loopback HTTP.

Proves that wipe and revalidate send what their pages document and read every documented
answer (including the page strings, sent over the wire) as its status; that wrong
credentials and a disallowed IP raise AuthenticationError; that bad arguments fail before
any request; that a closed client refuses calls, a caller's http_client is left open, one
client serves many tasks and keeps its connections alive; and that a custom codec and
extra_messages plug in where documented.
"""

from __future__ import annotations

import asyncio
import json
import xmlrpc.client

import httpx
import pytest

import mailkit_async as mk
from mailkit_async.testing import EmulatorTransport, MailkitEmulator, serve

from .conftest import CLIENT_ID, CLIENT_MD5, ClientFactory, engine_of

W = mk.WipeStatus
R = mk.RevalidateStatus


def api_answer(protocol: str, message: str, error_status: int = 1) -> bytes:
    """The exact body the API sends for a string answer on each protocol."""
    if protocol == "json":
        return json.dumps({"error_status": error_status, "error": message}).encode()
    return xmlrpc.client.dumps((message,), methodresponse=True, encoding="utf-8").encode()


# --- wipe ------------------------------------------------------------------------------------


async def test_wipe_queues_then_reports_already_inserted(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    """First wipe: QUEUED with the ID; the same address again: ALREADY_QUEUED."""
    jane = emulator.add_recipient("jane@example.com")
    async with make_client() as client:
        first = await client.wipe("jane@example.com")
        second = await client.wipe("Jane@Example.com")
    assert (first.status, first.message, first.id_email, first.email) == (
        W.QUEUED,
        "OK",
        jane.id_email,
        "jane@example.com",
    )
    assert first.error_status == 0
    assert (second.status, second.message) == (W.ALREADY_QUEUED, "Email has already been inserted")
    assert emulator.wipe_queue == {jane.id_email}
    assert emulator.wipe_requests == {jane.id_email: 2}


async def test_wipe_by_id_email(emulator: MailkitEmulator, make_client: ClientFactory) -> None:
    """An int is an ID_email."""
    jane = emulator.add_recipient("jane@example.com")
    async with make_client() as client:
        result = await client.wipe(jane.id_email)
    assert (result.status, result.id_email) == (W.QUEUED, jane.id_email)
    assert emulator.wipe_queue == {jane.id_email}


@pytest.mark.parametrize("recipient", ["nobody@example.com", 99999999])
async def test_wipe_of_unknown_recipient_is_invalid(
    emulator: MailkitEmulator, make_client: ClientFactory, recipient: str | int
) -> None:
    """An address or ID the account does not have: INVALID_RECIPIENT, nothing queued."""
    async with make_client() as client:
        result = await client.wipe(recipient)
    assert (result.status, result.message) == (W.INVALID_RECIPIENT, "Invalid ID_email or email")
    assert emulator.wipe_queue == frozenset()


@pytest.mark.parametrize(
    ("message", "status"),
    [
        ("OK", W.UNKNOWN),  # a success string with error_status 1 is never called done
        ("Missing ID_email", W.MISSING_RECIPIENT),
        ("Invalid_ID_email or email", W.INVALID_RECIPIENT),
        ("Invalid ID_email or email", W.INVALID_RECIPIENT),
        ("Email has already been inserted", W.ALREADY_QUEUED),
        ("Wipe postponed", W.UNKNOWN),
    ],
)
async def test_wipe_page_strings_over_the_wire(
    emulator: MailkitEmulator,
    make_client: ClientFactory,
    protocol: str,
    message: str,
    status: W,
) -> None:
    """Every string of the wipe page, served in each protocol's exact shape."""
    emulator.inject("mailkit.email.wipe", api_answer(protocol, message))
    async with make_client() as client:
        result = await client.wipe("jane@example.com")
    expected = W.QUEUED if (message, protocol) == ("OK", "xmlrpc") else status
    assert (result.status, result.message) == (expected, message)


# --- revalidate ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agreement", "status", "message"),
    [
        (True, R.REVALIDATED, "Email has been revalidated"),
        (False, R.CONFIRMATION_SENT, "Sent subscribe email"),
    ],
)
async def test_revalidate_an_unsubscribed_recipient(
    emulator: MailkitEmulator,
    make_client: ClientFactory,
    protocol: str,
    agreement: bool,
    status: R,
    message: str,
) -> None:
    """agreement TRUE re-subscribes; FALSE sends one confirmation email."""
    jane = emulator.add_recipient("jane@example.com", subscribed=False)
    async with make_client() as client:
        result = await client.revalidate(
            "jane@example.com", agreement=agreement, channel="phone", language="en"
        )
    assert result.status is status
    assert result.email == "jane@example.com"
    # JSON says it in words; XML-RPC answers the bare address.
    assert result.message == (message if protocol == "json" else "jane@example.com")
    after = emulator.recipient(jane.id_email)
    assert after is not None
    assert after.subscribed is agreement
    assert emulator.confirmations_sent == ({} if agreement else {jane.id_email: 1})


async def test_revalidate_by_id(emulator: MailkitEmulator, make_client: ClientFactory) -> None:
    """An ID_email works as the recipient for revalidate too."""
    jane = emulator.add_recipient("jane@example.com", subscribed=False)
    async with make_client() as client:
        result = await client.revalidate(jane.id_email, agreement=True)
    assert result.status is R.REVALIDATED


async def test_revalidate_a_subscribed_recipient(
    emulator: MailkitEmulator, make_client: ClientFactory, protocol: str
) -> None:
    """Not unsubscribed: JSON says so with error_status 0, XML-RPC as '<addr> is not ...'."""
    emulator.add_recipient("jane@example.com")
    async with make_client() as client:
        result = await client.revalidate("jane@example.com", agreement=False)
    assert result.status is R.NOT_UNSUBSCRIBED
    if protocol == "json":
        assert (result.message, result.error_status) == ("Email is not unsubscribed", 0)
    else:
        assert result.message == "jane@example.com is not unsubscribed"
    assert emulator.confirmations_sent == {}


async def test_revalidate_unknown_recipient(make_client: ClientFactory) -> None:
    """An unknown recipient is INVALID_RECIPIENT."""
    async with make_client() as client:
        result = await client.revalidate("nobody@example.com", agreement=True)
    assert result.status is R.INVALID_RECIPIENT


@pytest.mark.parametrize(
    ("message", "error_status", "status"),
    [
        ("Email has been revalidated", 0, R.REVALIDATED),
        ("Sent subscribe email", 0, R.CONFIRMATION_SENT),
        ("Email is not unsubscribed", 0, R.NOT_UNSUBSCRIBED),
        ("12345678 is not unsubscribed", 1, R.NOT_UNSUBSCRIBED),
        ("jane@example.com", 0, R.CONFIRMATION_SENT),  # the XML-RPC success shape
        ("Something new", 0, R.UNKNOWN),
    ],
)
async def test_revalidate_page_strings_over_the_wire(
    emulator: MailkitEmulator,
    make_client: ClientFactory,
    protocol: str,
    message: str,
    error_status: int,
    status: R,
) -> None:
    """Every string of the revalidate page, served in each protocol's exact shape."""
    emulator.inject("mailkit.email.revalidate", api_answer(protocol, message, error_status))
    async with make_client() as client:
        result = await client.revalidate("jane@example.com", agreement=False)
    # A bare address is success only as a bare XML-RPC string, not as JSON error text.
    expected = R.UNKNOWN if (message, protocol) == ("jane@example.com", "json") else status
    assert (result.status, result.message) == (expected, message)


# --- global errors and generic calls ---------------------------------------------------------


@pytest.mark.parametrize("call", ["wipe", "revalidate", "call"])
async def test_wrong_md5_raises_authentication_error(
    emulator: MailkitEmulator, make_client: ClientFactory, call: str
) -> None:
    """'Unauthorized' raises AuthenticationError from every kind of call."""
    emulator.add_recipient("jane@example.com")
    calls = {
        "wipe": lambda c: c.wipe("jane@example.com"),
        "revalidate": lambda c: c.revalidate("jane@example.com", agreement=True),
        "call": lambda c: c.call("mailkit.mailinglist.list"),
    }
    async with make_client(client_md5="f" * 32) as client:
        with pytest.raises(mk.AuthenticationError, match="Unauthorized"):
            await calls[call](client)
    assert emulator.wipe_queue == frozenset()


async def test_disallowed_ip_raises_authentication_error(protocol: str, mode: str) -> None:
    """'Disallowed IP <ip>' raises AuthenticationError, with the IP in the message."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5, allowed_ips=["192.0.2.7"])
    options = {"client_id": CLIENT_ID, "client_md5": CLIENT_MD5, "protocol": protocol}
    if mode == "in-process":
        client = mk.MailkitClient(transport=EmulatorTransport(emulator), **options)  # type: ignore[arg-type]
        async with client:
            with pytest.raises(mk.AuthenticationError, match=r"Disallowed IP 127\.0\.0\.1"):
                await client.wipe("jane@example.com")
    else:
        async with (
            serve(emulator) as server,
            mk.MailkitClient(
                base_url=server.base_url,
                engine=engine_of(mode),  # type: ignore[arg-type]
                **options,  # type: ignore[arg-type]
            ) as client,
        ):
            with pytest.raises(mk.AuthenticationError, match=r"Disallowed IP 127\.0\.0\.1"):
                await client.wipe("jane@example.com")


async def test_call_list_getstatus_unsubscribe(
    emulator: MailkitEmulator, make_client: ClientFactory, protocol: str
) -> None:
    """Generic calls return the decoded answer of any function, named parameters in both."""
    jane = emulator.add_recipient("jane@example.com")
    async with make_client() as client:
        lists = await client.call("mailkit.mailinglist.list", {})
        records = await client.call("mailkit.email.getstatus", {"email": "jane@example.com"})
        unsubscribed = await client.call("mailkit.email.unsubscribe", {"email": "jane@example.com"})
        state = await client.call(
            "mailkit.email.unsubscribe.getstatus", {"email": "jane@example.com"}
        )
        with pytest.raises(mk.ApiError) as info:
            await client.call("mailkit.email.unsubscribe", {"email": "nobody@example.com"})
    assert [row["NAME"] for row in lists] == ["Default"]
    # IDs are strings in JSON and <int> in XML-RPC, as Mailkit answers them.
    id_email = str(jane.id_email) if protocol == "json" else jane.id_email
    assert [(r["ID_EMAIL"], r["EMAIL"], r["STATUS"]) for r in records] == [
        (id_email, "jane@example.com", "enabled")
    ]
    assert unsubscribed in (
        jane.id_email,
        {"error_status": "0", "ID_email": str(jane.id_email), "status": "1"},
    )
    assert state == "TRUE" or state["unsubscribe"] == "TRUE"
    assert info.value.message == "Invalid ID_email or email"
    after = emulator.recipient(jane.id_email)
    assert after is not None
    assert not after.subscribed


async def test_getstatus_of_unknown_address_raises_api_error(make_client: ClientFactory) -> None:
    """getstatus answers an empty string for an unknown address: a documented error."""
    async with make_client() as client:
        with pytest.raises(mk.ApiError) as info:
            await client.call("mailkit.email.getstatus", {"email": "nobody@example.com"})
    assert info.value.message == ""


# --- arguments, lifecycle, concurrency -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "kwargs"),
    [
        ("wipe", ("",), {}),
        ("wipe", ("jane@example.com\r\nX-Evil: 1",), {}),
        ("wipe", ("12345",), {}),
        ("wipe", (True,), {}),
        ("wipe", (-4,), {}),
        ("wipe", (None,), {}),
        ("revalidate", ("jane@example.com",), {"agreement": "yes"}),
        ("revalidate", ("jane@example.com",), {"agreement": True, "language": "xx"}),
        ("revalidate", ("jane@example.com",), {"agreement": True, "channel": "a\nb"}),
        ("revalidate", ("jane@example.com",), {"agreement": True, "id_message": "7"}),
        ("call", ("mailkit.email.wipe\r\n",), {}),
        ("call", ("drop table",), {}),
        ("call", ("mailkit.email.wipe", "email=x"), {}),
        ("call", ("mailkit.email.wipe", {1: "x"}), {}),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    emulator: MailkitEmulator,
    make_client: ClientFactory,
    method: str,
    args: tuple[object, ...],
    kwargs: dict[str, object],
) -> None:
    """Bad input is an InvalidArgumentError (also a ValueError), and nothing is sent."""
    async with make_client() as client:
        with pytest.raises(mk.InvalidArgumentError):
            await getattr(client, method)(*args, **kwargs)
    assert emulator.calls == []


async def test_id_template_is_json_only(
    emulator: MailkitEmulator, make_client: ClientFactory, protocol: str
) -> None:
    """ID_template has no XML-RPC position: refused before sending, accepted over JSON."""
    emulator.add_recipient("jane@example.com", subscribed=False)
    async with make_client() as client:
        if protocol == "xmlrpc":
            with pytest.raises(mk.InvalidArgumentError, match="ID_template"):
                await client.revalidate("jane@example.com", agreement=True, id_template=3)
            assert emulator.calls == []
        else:
            result = await client.revalidate("jane@example.com", agreement=True, id_template=3)
            assert result.status is R.REVALIDATED


async def test_closed_client_refuses_calls(make_client: ClientFactory) -> None:
    """After aclose, calls raise ConfigurationError; aclose twice is fine."""
    async with make_client() as client:
        pass
    await client.aclose()
    with pytest.raises(mk.ConfigurationError, match="closed"):
        await client.wipe("jane@example.com")
    with pytest.raises(mk.ConfigurationError):
        await client.__aenter__()


async def test_a_callers_http_client_is_not_closed(emulator: MailkitEmulator) -> None:
    """A user's httpx.AsyncClient stays open after the MailkitClient closes."""
    emulator.add_recipient("jane@example.com")
    async with httpx.AsyncClient(transport=EmulatorTransport(emulator)) as http:
        async with mk.MailkitClient(CLIENT_ID, CLIENT_MD5, http_client=http) as client:
            assert (await client.wipe("jane@example.com")).status is W.QUEUED
        assert not http.is_closed
        with pytest.raises(mk.ConfigurationError):
            mk.MailkitClient(CLIENT_ID, CLIENT_MD5, http_client=http, timeout=3.0)


async def test_one_client_shared_by_many_tasks(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    """300 concurrent wipes on one client: each queued once, results matched to requests."""
    recipients = [emulator.add_recipient(f"user{i}@example.com") for i in range(300)]
    async with make_client(max_concurrency=20) as client:
        results = await asyncio.gather(*(client.wipe(r.email) for r in recipients))
    assert [(res.status, res.id_email) for res in results] == [
        (W.QUEUED, r.id_email) for r in recipients
    ]
    assert emulator.wipe_queue == {r.id_email for r in recipients}


async def test_loopback_keeps_connections_alive(
    emulator: MailkitEmulator, protocol: str, engine: str
) -> None:
    """Over real HTTP, 200 calls at concurrency 10 open at most 10 connections."""
    emulator.add_recipient("jane@example.com")
    async with serve(emulator) as server:
        async with mk.MailkitClient(
            CLIENT_ID,
            CLIENT_MD5,
            protocol=protocol,
            base_url=server.base_url,
            engine=engine,  # type: ignore[arg-type]
            max_concurrency=10,
        ) as client:
            await asyncio.gather(*(client.call("mailkit.mailinglist.list") for _ in range(200)))
        assert 1 <= server.connections_opened <= 10


async def test_custom_codec_plugs_in(emulator: MailkitEmulator) -> None:
    """protocol= takes a codec object; a codec's own crash becomes a MalformedResponseError."""

    class Tracing(mk.JsonCodec):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def encode_call(self, function: str, params: mk.Params, credentials: object) -> bytes:  # type: ignore[override]
            self.seen.append(function)
            return super().encode_call(function, params, credentials)  # type: ignore[arg-type]

    class Broken(mk.JsonCodec):
        def decode_reply(self, body: bytes, *, function: str) -> object:
            raise KeyError("boom")

    emulator.add_recipient("jane@example.com")
    codec = Tracing()
    transport = EmulatorTransport(emulator)
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, protocol=codec, transport=transport
    ) as client:
        assert (await client.wipe("jane@example.com")).status is W.QUEUED
        assert client.protocol == "json"
    assert codec.seen == ["mailkit.email.wipe"]
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, protocol=Broken(), transport=transport
    ) as client:
        with pytest.raises(mk.MalformedResponseError, match="KeyError"):
            await client.wipe("jane@example.com")


@pytest.mark.parametrize("protocol_name", ["soap", 3])
def test_unknown_protocol_is_refused(protocol_name: object) -> None:
    """Only 'json', 'xmlrpc' or a Codec object."""
    with pytest.raises(mk.InvalidArgumentError, match="protocol"):
        mk.MailkitClient(CLIENT_ID, CLIENT_MD5, protocol=protocol_name)  # type: ignore[arg-type]


async def test_extra_messages_reach_the_classifier(
    emulator: MailkitEmulator, make_client: ClientFactory, protocol: str
) -> None:
    """A string registered by the user classifies over the wire."""
    emulator.inject("mailkit.email.wipe", api_answer(protocol, "Queued for tonight", 0))
    async with make_client(
        extra_messages={"mailkit.email.wipe": {"Queued for tonight": W.QUEUED}}
    ) as client:
        result = await client.wipe("jane@example.com")
    assert result.status is W.QUEUED
