"""The typed recipient calls: unsubscribe, get_unsubscribe_status, get_status,
get_status_history, delete_recipient, move_recipient and set_topics.

Proves that every string the function table documents for these functions reads as its
status on both protocols (the cases derived from the table, so none is missed), that the
global errors raise AuthenticationError and undocumented text becomes UNKNOWN with the text
kept, that the wrappers' 2018 recorded answers read as expected, that each method does what
its result says to the emulator's state on both protocols, in-process and over loopback,
that bad arguments fail before any request, that hostile answers become
MalformedResponseError, that the retry class decides what a dropped connection does, and
that `client.map` fans a method out.
"""

from __future__ import annotations

import datetime
import json
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import mailkit_async as mk
from mailkit_async._functions import FUNCTIONS, Message, Protocols, SentAs
from mailkit_async._recipient_read import (
    DELETE,
    GETSTATUS,
    HISTORY,
    MOVE,
    TOPICS,
    UNSUBSCRIBE,
    UNSUBSCRIBE_GETSTATUS,
    read_delete,
    read_history,
    read_move,
    read_status,
    read_topics,
    read_unsubscribe,
    read_unsubscribe_status,
)
from mailkit_async.testing import EmulatorTransport, Faults, MailkitEmulator

from ._lifecycle import CAMPAIGN, NEWS, populate
from .conftest import CLIENT_ID, CLIENT_MD5, ClientFactory

WRAPPER = Path(__file__).parent / "fixtures" / "wrapper"
JANE_ADDRESS = "jane@example.com"
JANE = 12345678  # subscribed, list 1 (tests/_lifecycle.py's account)
JOHN = 12345679  # unsubscribed, list 1

READERS: dict[str, Callable[[object], Any]] = {
    UNSUBSCRIBE: read_unsubscribe,
    UNSUBSCRIBE_GETSTATUS: read_unsubscribe_status,
    GETSTATUS: read_status,
    HISTORY: read_history,
    DELETE: read_delete,
    MOVE: read_move,
    TOPICS: read_topics,
}


@pytest.fixture
def account(emulator: MailkitEmulator) -> MailkitEmulator:
    """Jane (subscribed) and John (unsubscribed) on list 1, list 2, a campaign, two topics."""
    return populate(emulator)


# -- every documented string, both protocols ---------------------------------------------------


def _shapes(message: Message) -> list[tuple[str, object]]:
    """The answer `message` is, in each protocol it is documented for."""
    shapes: list[tuple[str, object]] = []
    error_status = 0 if message.sent_as is SentAs.SUCCESS else 1
    if message.field is None:  # a bare value (email.move's XML-RPC 1/0)
        return [("xmlrpc", message.text)]
    text = message.render("x@example.com")
    if message.field == "error":
        if Protocols.XMLRPC in message.protocols:
            shapes.append(("xmlrpc", text))
        if Protocols.JSON in message.protocols:
            shapes.append(("json", {"error_status": error_status, "error": text}))
    else:  # a member of a JSON data struct (unsubscribe.getstatus' `unsubscribe`)
        shapes.append(("json", {"error_status": "0", message.field: text, "ID_email": "5"}))
    return shapes


DOCUMENTED = [
    pytest.param(function, message.status, protocol, answer, id=f"{function}-{protocol}-{i}")
    for function in READERS
    for i, message in enumerate(FUNCTIONS[function].messages)
    for protocol, answer in _shapes(message)
]


def test_every_function_of_the_family_has_cases() -> None:
    """Guards the derivation: a function whose strings vanished from the cases fails here."""
    covered = {param.values[0] for param in DOCUMENTED}
    assert covered == {f for f in READERS if FUNCTIONS[f].messages}
    assert {TOPICS, MOVE, DELETE, GETSTATUS, UNSUBSCRIBE, UNSUBSCRIBE_GETSTATUS} <= covered


@pytest.mark.parametrize(("function", "status", "protocol", "answer"), DOCUMENTED)
def test_documented_answers_read_as_their_status(
    function: str, status: str, protocol: str, answer: object
) -> None:
    """Each documented string (or integer) reads as the status the table names."""
    result = READERS[function](answer)
    assert result.status.name == status
    if isinstance(answer, str):
        assert result.message == answer


GLOBAL = ["Unauthorized", "Disallowed IP 203.0.113.9"]


@pytest.mark.parametrize("function", sorted(READERS))
@pytest.mark.parametrize("text", GLOBAL)
@pytest.mark.parametrize("json", [False, True])
def test_global_errors_raise_for_every_reader(function: str, text: str, json: bool) -> None:
    """The two answers any function may give come first, in either shape."""
    answer = {"error_status": 1, "error": text} if json else f" {text}\n"
    with pytest.raises(mk.AuthenticationError):
        READERS[function](answer)


@pytest.mark.parametrize("function", sorted(READERS))
@pytest.mark.parametrize("json", [False, True])
def test_undocumented_text_is_unknown_and_kept(function: str, json: bool) -> None:
    text = "Something new happened"
    answer = {"error_status": 1, "error": text} if json else text
    result = READERS[function](answer)
    assert result.status.name == "UNKNOWN"
    assert result.message == text


@pytest.mark.parametrize(
    ("function", "answer"),
    [
        (DELETE, {"error_status": 1, "error": "OK"}),
        (TOPICS, {"error_status": 1, "error": "OK"}),
        (UNSUBSCRIBE_GETSTATUS, {"error_status": 1, "error": "TRUE"}),
        (UNSUBSCRIBE_GETSTATUS, {"error_status": "1", "unsubscribe": "TRUE"}),
        (UNSUBSCRIBE, {"error_status": 1, "ID_email": "5"}),
        (MOVE, {"error_status": 1, "ID_email": "5"}),
    ],
)
def test_a_success_next_to_an_error_status_is_not_taken(function: str, answer: object) -> None:
    """A success text with a non-zero error_status contradicts itself: UNKNOWN."""
    assert READERS[function](answer).status.name == "UNKNOWN"


# -- the wrappers' recorded answers (FX-2018) ----------------------------------------------------


def _recorded(path: str, function: str) -> object:
    body = (WRAPPER / path).read_bytes()
    codec = mk.JsonCodec() if path.split("/")[1] == "json" else mk.XmlRpcCodec()
    return codec.decode_reply(body, function=function)


def test_recorded_unsubscribe_answers() -> None:
    assert read_unsubscribe(
        _recorded("f6bcb86/json/mailkit.email.unsubscribe.json", UNSUBSCRIBE)
    ) == mk.UnsubscribeResult(
        status=mk.UnsubscribeStatus.UNSUBSCRIBED, message="", id_email=123456789, error_status=0
    )
    done = read_unsubscribe(
        _recorded("f6bcb86/xml/mailkit.email.unsubscribe.example@example.cz.xml", UNSUBSCRIBE)
    )
    assert done == mk.UnsubscribeResult(
        status=mk.UnsubscribeStatus.UNSUBSCRIBED, message="282837490", id_email=282837490
    )
    refused = read_unsubscribe(
        _recorded("f6bcb86/xml/mailkit.email.unsubscribe.doesNotExist.xml", UNSUBSCRIBE)
    )
    assert (refused.status, refused.message) == (
        mk.UnsubscribeStatus.INVALID_RECIPIENT,
        "Invalid ID_email or email",
    )


def test_recorded_getstatus_json_record() -> None:
    result = read_status(_recorded("f6bcb86/json/mailkit.email.getstatus.json", GETSTATUS))
    assert result.status is mk.LookupStatus.FOUND
    [record] = result.records
    assert (record.id_email, record.email, record.id_mailing_list) == (
        123456789,
        "mail@mailmail.cz",
        None,  # the recording has no ID_MAILING_LIST
    )
    assert (record.status, record.status_text) == (mk.RecipientState.ENABLED, "enabled")
    assert (record.first_name, record.last_name, record.vocative) == (
        "Robert",
        "Příjmení",
        "Vážený pan",
    )
    assert (record.gender, record.city, record.zip, record.state, record.mobile) == (
        "M",
        "Praha",
        "15000",
        "ČR",
        "7771234565",
    )
    assert record.date == datetime.datetime(2012, 5, 25, 23, 21, 30)
    assert record.change_date == datetime.datetime(2016, 3, 17, 10, 42, 35)
    assert len(record.custom) == 25
    assert (record.custom[0], record.custom[14], record.custom[23], record.custom[24]) == (
        "ano",
        "31.12.",
        "kočka",
        "",
    )


@pytest.mark.parametrize("name", ["12345", "example@example.cz"])
def test_recorded_getstatus_xmlrpc_record(name: str) -> None:
    result = read_status(_recorded(f"f6bcb86/xml/mailkit.email.getstatus.{name}.xml", GETSTATUS))
    [record] = result.records
    assert (record.id_email, record.email, record.status) == (
        12345,
        "example@example.cz",
        mk.RecipientState.ENABLED,
    )
    assert (record.first_name, record.company, record.reply_to) == (
        "Jméno",
        "Společnost",
        "example2@example2.cz",
    )
    # The recording's dates are the placeholder "yyyy-mm-dd hh:mm:ss": no date.
    assert (record.date, record.change_date) == (None, None)
    assert record.custom[:3] == ("Vlastní pole číslo 1", "Vlastní pole číslo 2", "")
    assert record.custom[24] == "Vlastní pole číslo 25"


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("54321", mk.LookupStatus.MISSING_RECIPIENT, "Missing ID email"),
        ("doesNotExist", mk.LookupStatus.NOT_FOUND, ""),
    ],
)
def test_recorded_getstatus_refusals(name: str, status: mk.LookupStatus, message: str) -> None:
    result = read_status(_recorded(f"f6bcb86/xml/mailkit.email.getstatus.{name}.xml", GETSTATUS))
    assert result == mk.RecipientStatus(status=status, message=message)


# -- the answers of the pages that no recording covers --------------------------------------------


def test_unsubscribe_getstatus_json_from_the_page() -> None:
    page = {
        "email": "example@example.eu",
        "error_status": "0",
        "topics": None,
        "ID_email": "123456789",
        "unsubscribe": "FALSE",
        "timeout": {"date": "0000-00-00"},
    }
    assert read_unsubscribe_status(page) == mk.UnsubscribeStatusResult(
        status=mk.SubscriptionStatus.SUBSCRIBED,
        message="FALSE",
        unsubscribed=False,
        id_email=123456789,
        email="example@example.eu",
        unsubscribed_until=None,
        topics=(),
        error_status=0,
    )
    temporary = read_unsubscribe_status(
        {**page, "unsubscribe": "TRUE", "timeout": {"date": "2031-02-03"}, "topics": ["7", 9]}
    )
    assert (temporary.unsubscribed, temporary.unsubscribed_until, temporary.topics) == (
        True,
        datetime.date(2031, 2, 3),
        (7, 9),
    )
    assert read_unsubscribe_status({**page, "topics": "7, 9"}).topics == (7, 9)


@pytest.mark.parametrize(("text", "unsubscribed"), [("TRUE", True), ("FALSE", False)])
def test_unsubscribe_getstatus_xmlrpc_tells_only_true_or_false(
    text: str, unsubscribed: bool
) -> None:
    result = read_unsubscribe_status(text)
    assert (result.unsubscribed, result.topics, result.unsubscribed_until) == (
        unsubscribed,
        None,
        None,
    )


def test_delete_answers_from_the_page() -> None:
    json = read_delete({"error": "OK", "error_status": 0, "emails": "1234567890,1236547895"})
    assert json == mk.DeleteResult(
        status=mk.DeleteStatus.DELETED,
        message="OK",
        id_emails=(1234567890, 1236547895),
        error_status=0,
    )
    assert read_delete(1234567890).id_emails == (1234567890,)
    several = read_delete("1234567890,1236547895")  # as Spoje-NET's wrapper accepts
    assert (several.status, several.id_emails) == (
        mk.DeleteStatus.DELETED,
        (1234567890, 1236547895),
    )


def test_move_answers_from_the_page() -> None:
    page = {
        "ID_user_list_source": "112233",
        "email": "email@example.com",
        "ID_email": "123456789",
        "move_response": 123456789,
        "ID_email_source": 987654321,
        "error_status": "0",
        "ID_user_list": "123456",
    }
    assert read_move(page) == mk.MoveResult(
        status=mk.MoveStatus.MOVED,
        message="",
        id_email=123456789,
        id_email_source=987654321,
        id_user_list=123456,
        id_user_list_source=112233,
        email="email@example.com",
        error_status=0,
    )
    assert read_move(1).status is mk.MoveStatus.MOVED
    assert read_move(0).status is mk.MoveStatus.NOT_MOVED
    assert read_move(7).status is mk.MoveStatus.UNKNOWN


def test_history_entry_from_the_page_shape() -> None:
    delivery = {
        "MESSAGE_NAME": "Spring",
        "ID_MESSAGE": "11",
        "SUBJECT": "Hello",
        "PREVIEW": "https://u.mailkit.eu/XXXXX",
        "READ_COUNT": "2",
        "CLICK_COUNT": "1",
        "ID_EMAIL": "123",
        "ID_SEND": "44",
        "ID_SEND_MESSAGE": "55",
        "DATE_SEND": "2015-06-10 13:29:05",
        "EMAIL_FROM": "news@example.com",
        "NAME_FROM": "News",
        "ID_USER_LIST": "3",
        "TYPE_MESSAGE": "email",
        "RESPONSE_DATA": [
            {"URL": "https://example.com/a", "COUNTRY": "CZ", "REGION_CODE": "10",
             "CITY": "Praha", "DATE": "2015-06-10 14:00:00", "BROWSER": "x", "NESTED": {}},
        ],
        "NEW_MEMBER": 5,
    }  # fmt: skip
    result = read_history([delivery])
    assert result.status is mk.HistoryStatus.FOUND
    [entry] = result.entries
    assert (entry.id_send_message, entry.id_send, entry.id_message, entry.id_email) == (
        55,
        44,
        11,
        123,
    )
    assert (entry.read_count, entry.click_count, entry.id_user_list) == (2, 1, 3)
    assert entry.date_send == datetime.datetime(2015, 6, 10, 13, 29, 5)
    assert (entry.message_name, entry.subject, entry.type_message) == ("Spring", "Hello", "email")
    assert entry.other == (("NEW_MEMBER", "5"),)
    [response] = entry.responses
    assert (response.url, response.country, response.region_code, response.city) == (
        "https://example.com/a",
        "CZ",
        "10",
        "Praha",
    )
    assert response.date == datetime.datetime(2015, 6, 10, 14, 0, 0)
    assert response.other == (("BROWSER", "x"),)  # the nested member is left out


# -- hostile answers ------------------------------------------------------------------------------

_RECORD = {"ID_EMAIL": "5", "EMAIL": "a@example.com", "STATUS": "enabled"}
HOSTILE: list[tuple[str, object]] = [
    # Shapes no function of the family answers with.
    *((f, value) for f in READERS for value in (None, True, 2.5, b"x", object())),
    (UNSUBSCRIBE, 2**70),
    (UNSUBSCRIBE, {}),
    (UNSUBSCRIBE, {"error_status": 0, "ID_email": 10**30}),
    (UNSUBSCRIBE, {"error_status": "zero", "ID_email": "5"}),
    (UNSUBSCRIBE, [1]),
    (UNSUBSCRIBE_GETSTATUS, {"error_status": "0", "unsubscribe": 1}),
    (UNSUBSCRIBE_GETSTATUS, {"error_status": "0"}),
    (UNSUBSCRIBE_GETSTATUS, {"unsubscribe": "TRUE", "timeout": "2020-01-01"}),
    (UNSUBSCRIBE_GETSTATUS, {"unsubscribe": "TRUE", "timeout": {"date": "soon"}}),
    (UNSUBSCRIBE_GETSTATUS, {"unsubscribe": "TRUE", "timeout": {"date": "2020-02-31"}}),
    (UNSUBSCRIBE_GETSTATUS, {"unsubscribe": "TRUE", "topics": {"1": 2}}),
    (UNSUBSCRIBE_GETSTATUS, {"unsubscribe": "TRUE", "topics": ["x"]}),
    (UNSUBSCRIBE_GETSTATUS, {"unsubscribe": "TRUE", "topics": "1;2"}),
    (UNSUBSCRIBE_GETSTATUS, {"unsubscribe": "TRUE", "topics": [2**80]}),
    (GETSTATUS, {"data": []}),
    (GETSTATUS, ["not a record"]),
    (GETSTATUS, [{"EMAIL": "a@example.com"}]),
    (GETSTATUS, [{"ID_EMAIL": "5"}]),
    (GETSTATUS, [{**_RECORD, "ID_EMAIL": 2**64}]),
    (GETSTATUS, [{**_RECORD, "ID_EMAIL": "five"}]),
    (GETSTATUS, [{**_RECORD, "FIRST_NAME": ["Jane"]}]),
    (GETSTATUS, [{**_RECORD, "STATUS": {"x": 1}}]),
    (GETSTATUS, [{**_RECORD, "ID_MAILING_LIST": 1.5}]),
    (GETSTATUS, [{**_RECORD, "DATE": 20200101}, {}]),
    (HISTORY, ["x"]),
    (HISTORY, [{"ID_SEND": "x"}]),
    (HISTORY, [{"READ_COUNT": 2**70}]),
    (HISTORY, [{"SUBJECT": {"a": 1}}]),
    (HISTORY, [{"RESPONSE_DATA": "x"}]),
    (HISTORY, [{"RESPONSE_DATA": [1]}]),
    (HISTORY, [{"RESPONSE_DATA": [{"URL": []}]}]),
    (HISTORY, {"error_status": 0}),
    (DELETE, 2**64),
    (DELETE, [1]),
    (DELETE, {"error": "OK", "error_status": 0, "emails": ["1"]}),
    (DELETE, {"error": "OK", "error_status": 0, "emails": "1,x"}),
    (DELETE, {"error": "OK", "error_status": 0, "emails": "9" * 25}),
    (DELETE, {"error": "OK", "error_status": "bad"}),
    (MOVE, 2**64),
    (MOVE, {}),
    (MOVE, {"error_status": "0", "ID_email": "x"}),
    (MOVE, {"error_status": "0", "ID_email": "5", "ID_user_list": [1]}),
    (MOVE, {"error_status": "0", "ID_email": "5", "email": 2.5}),
    (TOPICS, {}),
    (TOPICS, {"error_status": "x"}),
    (TOPICS, [1]),
]


@pytest.mark.parametrize(("function", "answer"), HOSTILE)
def test_hostile_answers_are_malformed_responses(function: str, answer: object) -> None:
    """Wrong types, missing members, huge ints, a non-list where a list is due."""
    with pytest.raises(mk.MalformedResponseError) as caught:
        READERS[function](answer)
    assert caught.value.function == function


@pytest.mark.parametrize(
    ("function", "body", "json"),
    [
        ("mailkit.email.getstatus", b'[{"ID_EMAIL": {"x": 1}, "EMAIL": "a@example.com"}]', True),
        ("mailkit.email.unsubscribe", b'{"error_status": "0", "ID_email": [1]}', True),
        (
            "mailkit.email.getstatus.history",
            b"<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
            b"<value><int>5</int></value></data></array></value></param></params>"
            b"</methodResponse>",
            False,
        ),
    ],
)
async def test_hostile_answer_over_the_wire(
    account: MailkitEmulator, function: str, body: bytes, json: bool
) -> None:
    """Through the whole client: the hostile body is a MalformedResponseError."""
    account.inject(function, body)
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        protocol="json" if json else "xmlrpc",
        transport=EmulatorTransport(account),
    ) as client:
        call = {
            "mailkit.email.getstatus": client.get_status,
            "mailkit.email.unsubscribe": client.unsubscribe,
            "mailkit.email.getstatus.history": client.get_status_history,
        }[function]
        with pytest.raises(mk.MalformedResponseError):
            await call(JANE_ADDRESS)


# -- against the emulator, both protocols, in-process and over loopback -------------------------


async def test_unsubscribe_without_optout(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        result = await client.unsubscribe(JANE_ADDRESS, send_optout=False)
    assert result.status is mk.UnsubscribeStatus.UNSUBSCRIBED
    assert result.status.succeeded
    assert result.id_email == JANE
    assert JANE in account.unsubscribed
    assert account.optouts_sent == {}


async def test_unsubscribe_sends_the_optout_by_default_and_may_be_temporary(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        result = await client.unsubscribe(JANE, timeout_days=30, id_send_message=700000001)
    assert result.status is mk.UnsubscribeStatus.UNSUBSCRIBED
    assert account.optouts_sent == {JANE: 1}
    jane = account.recipient(JANE)
    assert jane is not None
    assert jane.unsubscribed_until is not None
    today = datetime.datetime.now(datetime.UTC).date()
    assert (jane.unsubscribed_until - today).days in (29, 30, 31)


async def test_unsubscribe_an_sms_recipient_by_phone_number(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    """The page: `email` is an address or a phone number, international, without spaces."""
    sms = account.add_recipient("+420777123456")
    async with make_client() as client:
        result = await client.unsubscribe("+420777123456", send_optout=False)
        with pytest.raises(mk.InvalidArgumentError, match="without spaces"):
            await client.unsubscribe("+420 777 123 456", send_optout=False)
        with pytest.raises(mk.InvalidArgumentError, match=r"not an email address$"):
            await client.wipe("+420777123456")  # wipe's page takes addresses only
    assert (result.status, result.id_email) == (mk.UnsubscribeStatus.UNSUBSCRIBED, sms.id_email)
    assert sms.id_email in account.unsubscribed
    assert [function for _, function in account.calls] == ["mailkit.email.unsubscribe"]


async def test_unsubscribe_an_unknown_recipient(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        result = await client.unsubscribe("nobody@example.com", send_optout=False)
        by_id = await client.unsubscribe(99999999, send_optout=False)
    assert result.status is by_id.status is mk.UnsubscribeStatus.INVALID_RECIPIENT
    assert not result.status.succeeded
    assert result.message == "Invalid ID_email or email"
    assert account.unsubscribed == {JOHN}


async def test_get_unsubscribe_status_follows_the_state(
    account: MailkitEmulator, make_client: ClientFactory, protocol: str
) -> None:
    async with make_client() as client:
        jane = await client.get_unsubscribe_status(JANE_ADDRESS)
        john = await client.get_unsubscribe_status(JOHN)
        await client.unsubscribe(JANE, send_optout=False, timeout_days=14)
        later = await client.get_unsubscribe_status(JANE)
    assert (jane.status, jane.unsubscribed) == (mk.SubscriptionStatus.SUBSCRIBED, False)
    assert (john.status, john.unsubscribed) == (mk.SubscriptionStatus.UNSUBSCRIBED, True)
    assert later.unsubscribed is True
    if protocol == "json":
        assert (jane.id_email, jane.email, jane.topics) == (JANE, JANE_ADDRESS, ())
        record = account.recipient(JANE)
        assert record is not None
        assert later.unsubscribed_until == record.unsubscribed_until
        assert john.unsubscribed_until is None  # permanent
    else:
        assert (later.id_email, later.topics, later.unsubscribed_until) == (None, None, None)


async def test_get_status_reads_every_record_of_an_address(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    second = account.add_recipient(JANE_ADDRESS, mailing_list_id=NEWS, subscribed=False).id_email
    async with make_client() as client:
        result = await client.get_status(JANE_ADDRESS)
        one = await client.get_status(JANE)
    assert result.status is mk.LookupStatus.FOUND
    assert [(r.id_email, r.id_mailing_list, r.status) for r in result.records] == [
        (JANE, 1, mk.RecipientState.ENABLED),
        (second, NEWS, mk.RecipientState.UNSUBSCRIBE),
    ]
    assert result.records[0].first_name == "Jane"
    assert result.records[0].email == JANE_ADDRESS
    jane = account.recipient(JANE)
    assert jane is not None
    assert result.records[0].date == jane.created_at.replace(tzinfo=None)
    assert [r.id_email for r in one.records] == [JANE]


async def test_get_status_of_an_unknown_recipient_is_not_found(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        result = await client.get_status("nobody@example.com")
    assert result == mk.RecipientStatus(status=mk.LookupStatus.NOT_FOUND, message="")


async def test_get_status_history_lists_what_was_sent(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        empty = await client.get_status_history(JANE)
        sent = {"mailinglist_id": 1, "campaign_id": CAMPAIGN, "main": {"send_to": JANE_ADDRESS}}
        await client.call("mailkit.sendmail", sent)
        by_id = await client.get_status_history(JANE)
        by_address = await client.get_status_history(JANE_ADDRESS)
    assert empty == mk.HistoryResult(status=mk.HistoryStatus.FOUND, message="")
    [message] = account.messages_sent
    assert by_id == by_address
    [entry] = by_id.entries
    assert (entry.id_send_message, entry.id_send, entry.id_email, entry.id_message) == (
        message.id_send_message,
        message.id_send,
        JANE,
        CAMPAIGN,
    )
    assert (entry.subject, entry.message_name, entry.id_user_list) == ("Hello", "Welcome", 1)
    assert entry.date_send == message.sent_at.replace(tzinfo=None)


async def test_delete_recipient_deletes_every_record_of_an_address(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    second = account.add_recipient(JANE_ADDRESS, mailing_list_id=NEWS).id_email
    async with make_client() as client:
        result = await client.delete_recipient(JANE_ADDRESS)
        again = await client.delete_recipient(JANE_ADDRESS)
        by_id = await client.delete_recipient(JOHN)
    assert result.status is mk.DeleteStatus.DELETED
    assert set(result.id_emails) == {JANE, second}
    assert again.status is mk.DeleteStatus.INVALID_RECIPIENT
    assert by_id.id_emails == (JOHN,)
    assert set(account.deleted) == {JANE, second, JOHN}
    assert account.recipient(JANE_ADDRESS) is None


async def test_move_recipient_gives_it_a_new_id(
    account: MailkitEmulator, make_client: ClientFactory, protocol: str
) -> None:
    async with make_client() as client:
        result = await client.move_recipient(JANE, id_user_list=NEWS)
        again = await client.move_recipient(JANE, id_user_list=NEWS)
    assert result.status is mk.MoveStatus.MOVED
    [(old, new)] = account.moved.items()
    assert old == JANE
    assert JANE_ADDRESS in account.subscribers(NEWS)
    assert JANE_ADDRESS not in account.subscribers(1)
    if protocol == "json":
        assert (result.id_email, result.id_email_source) == (new, JANE)
        assert (result.id_user_list, result.id_user_list_source) == (NEWS, 1)
        assert again.status is mk.MoveStatus.INVALID_RECIPIENT
    else:
        assert (result.message, result.id_email) == ("1", None)
        assert again.status is mk.MoveStatus.NOT_MOVED


@pytest.mark.parametrize(
    ("options", "left"),
    [
        ({"id_topics": [101]}, {102}),
        ({"id_topics": (102, 101, 101)}, set()),
        ({"id_topics": []}, {101, 102}),
        ({"activate_all": True}, set()),
    ],
)
async def test_set_topics_sets_the_whole_state(
    account: MailkitEmulator, make_client: ClientFactory, options: dict[str, Any], left: set[int]
) -> None:
    jane = account.recipient(JANE)
    assert jane is not None
    jane.unsubscribed_topics = frozenset({101})
    async with make_client() as client:
        result = await client.set_topics(JANE_ADDRESS, **options)
    assert result.status is mk.TopicsStatus.SET
    assert jane.unsubscribed_topics == left


async def test_the_lifecycle_through_typed_calls(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    """Access, objection, erasure of one recipient, each step seen in the next."""
    async with make_client() as client:
        assert (await client.get_status(JANE_ADDRESS)).records[0].status is (
            mk.RecipientState.ENABLED
        )
        await client.unsubscribe(JANE_ADDRESS, send_optout=False)
        assert (await client.get_status(JANE_ADDRESS)).records[0].status is (
            mk.RecipientState.UNSUBSCRIBE
        )
        assert (await client.get_unsubscribe_status(JANE_ADDRESS)).unsubscribed is True
        assert (await client.delete_recipient(JANE_ADDRESS)).status.succeeded
        assert (await client.get_status(JANE_ADDRESS)).status is mk.LookupStatus.NOT_FOUND


# -- the requests as the pages show them -----------------------------------------------------


class Recording(httpx.AsyncBaseTransport):
    """Keeps each request body on its way to the emulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(await request.aread())
        return await self.inner.handle_async_request(request)


async def _sent(account: MailkitEmulator, protocol: str, call: Callable[[Any], Any]) -> object:
    recording = Recording(EmulatorTransport(account))
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        protocol=protocol,  # type: ignore[arg-type]
        transport=recording,
    ) as client:
        await call(client)
    [body] = recording.bodies
    if protocol == "json":
        return json.loads(body)["parameters"]
    params, _ = xmlrpc.client.loads(body)
    return params[2:]


async def test_unsubscribe_sends_both_json_keys_and_the_xmlrpc_order(
    account: MailkitEmulator,
) -> None:
    """JSON wants email and ID_email both, one null (CZ page); XML-RPC the newer 4-param
    order with the timeout struct last."""
    sent = await _sent(account, "json", lambda c: c.unsubscribe(JANE_ADDRESS, timeout_days=60))
    assert sent == {
        "email": JANE_ADDRESS,
        "ID_email": None,
        "send_optout": "TRUE",
        "timeout": "TRUE",
        "timeout_days": 60,
    }
    sent = await _sent(account, "xmlrpc", lambda c: c.unsubscribe(JANE, send_optout=False))
    assert sent == (JANE, "", False)
    sent = await _sent(account, "xmlrpc", lambda c: c.unsubscribe(JANE, timeout_days=14))
    assert sent == (JANE, "", True, {"timeout": True, "timeout_days": 14})


async def test_history_and_topics_send_one_struct_over_xmlrpc(account: MailkitEmulator) -> None:
    """The pages' XML-RPC struct: ID_email an <i4>, ID_topics an array of <i4>."""
    assert await _sent(account, "xmlrpc", lambda c: c.get_status_history(JANE)) == (
        {"ID_email": JANE},
    )
    topics = await _sent(account, "xmlrpc", lambda c: c.set_topics(JANE_ADDRESS, id_topics=[102]))
    assert topics == ({"email": JANE_ADDRESS, "ID_topics": [102], "activate_all": False},)
    every = await _sent(account, "json", lambda c: c.set_topics(JANE_ADDRESS, activate_all=True))
    assert every == {"email": JANE_ADDRESS, "activate_all": "TRUE"}


async def test_delete_and_move_send_what_the_pages_show(account: MailkitEmulator) -> None:
    """delete's JSON takes an address in ID_email; move sends both IDs as numbers."""
    sent = await _sent(account, "json", lambda c: c.delete_recipient(JANE_ADDRESS))
    assert sent == {"ID_email": JANE_ADDRESS}
    sent = await _sent(account, "xmlrpc", lambda c: c.move_recipient(JOHN, id_user_list=NEWS))
    assert sent == (JOHN, NEWS)


# -- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "named"),
    [
        ("unsubscribe", (JANE_ADDRESS,), {"timeout_days": 13}, "timeout_days"),
        ("unsubscribe", (JANE_ADDRESS,), {"timeout_days": 91}, "timeout_days"),
        ("unsubscribe", (JANE_ADDRESS,), {"send_optout": "FALSE"}, "send_optout"),
        ("unsubscribe", ("not an address",), {}, "recipient"),
        ("unsubscribe", (0,), {}, "recipient"),
        ("get_status", (JANE,), {"id_send_message": -1}, "id_send_message"),
        ("get_status_history", ("12345678",), {}, "recipient"),
        ("delete_recipient", ("",), {}, "recipient"),
        ("move_recipient", (JANE_ADDRESS,), {"id_user_list": 2}, "id_email"),
        ("move_recipient", (JANE,), {"id_user_list": "2"}, "id_user_list"),
        ("move_recipient", (JANE, 2), {}, "move_recipient"),
        ("set_topics", (JANE_ADDRESS,), {}, "id_topics"),
        ("set_topics", (JANE_ADDRESS,), {"id_topics": [1], "activate_all": True}, "id_topics"),
        ("set_topics", (JANE,), {"id_topics": [1]}, "email"),
        ("set_topics", (JANE_ADDRESS,), {"id_topics": "101"}, "id_topics"),
        ("set_topics", (JANE_ADDRESS,), {"id_topics": [True]}, "id_topics"),
        ("set_topics", (JANE_ADDRESS,), {"id_topics": [1.0]}, "id_topics"),
        ("set_topics", (JANE_ADDRESS,), {"id_topics": {1: 2}}, "id_topics"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    account: MailkitEmulator, protocol: str, method: str, args: tuple[Any, ...],
    kwargs: dict[str, Any], named: str,
) -> None:  # fmt: skip
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        protocol=protocol,
        transport=EmulatorTransport(account),  # type: ignore[arg-type]
    ) as client:
        with pytest.raises(mk.InvalidArgumentError, match=named):
            getattr(client, method)(*args, **kwargs)
    assert account.calls == []


# -- retry classes -----------------------------------------------------------------------------

DROP = Faults(drop_after=1.0)
POLICY = mk.RetryPolicy(max_attempts=3, initial_backoff=0.0, jitter=0.0)


@pytest.mark.parametrize(
    ("call", "safe"),
    [
        (lambda c: c.unsubscribe(JANE), False),  # sends an opt-out email each time
        (lambda c: c.unsubscribe(JANE, send_optout=False), True),
        (lambda c: c.get_unsubscribe_status(JANE), True),
        (lambda c: c.get_status(JANE), True),
        (lambda c: c.get_status_history(JANE), True),
        (lambda c: c.delete_recipient(JANE), True),
        (lambda c: c.move_recipient(JANE, id_user_list=NEWS), False),
        (lambda c: c.set_topics(JANE_ADDRESS, activate_all=True), True),
    ],
)
async def test_a_dropped_answer_is_retried_only_when_safe(
    account: MailkitEmulator,
    protocol: str,
    call: Callable[[mk.MailkitClient], Any],
    safe: bool,
) -> None:
    """drop_after acts, then hangs up: an unsafe call ends OutcomeUnknownError after one
    attempt; a safe one is sent again until the policy's attempts are spent."""
    account.faults = DROP
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, protocol=protocol, transport=EmulatorTransport(account),  # type: ignore[arg-type]
        retry=POLICY,
    ) as client:  # fmt: skip
        with pytest.raises(mk.TransportError) as caught:
            await call(client)
    if safe:
        assert not isinstance(caught.value, mk.OutcomeUnknownError)
        assert account.fault_counts["drop_after"] == 3
    else:
        assert isinstance(caught.value, mk.OutcomeUnknownError)
        assert account.fault_counts["drop_after"] == 1


async def test_unsubscribe_with_optout_acted_once_when_its_answer_was_lost(
    account: MailkitEmulator, protocol: str
) -> None:
    """The OutcomeUnknownError is true to the server: one opt-out email, not three."""
    account.faults = DROP
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, protocol=protocol, transport=EmulatorTransport(account),  # type: ignore[arg-type]
        retry=POLICY,
    ) as client:  # fmt: skip
        with pytest.raises(mk.OutcomeUnknownError):
            await client.unsubscribe(JANE)
    assert account.optouts_sent == {JANE: 1}


# -- fan-out ---------------------------------------------------------------------------------


async def test_unsubscribe_fans_out_through_map(
    account: MailkitEmulator, make_client: ClientFactory
) -> None:
    addresses = [f"user{n}@example.com" for n in range(20)]
    ids = [account.add_recipient(address).id_email for address in addresses]
    items = [*addresses, "nobody@example.com", "not an address"]
    async with make_client() as client:
        batch = client.map(lambda r: client.unsubscribe(r, send_optout=False), items)
        outcomes = {o.item: o async for o in batch}
    assert len(outcomes) == len(items)
    for address, id_email in zip(addresses, ids, strict=True):
        result = outcomes[address].result
        assert result is not None
        assert (result.status, result.id_email) == (mk.UnsubscribeStatus.UNSUBSCRIBED, id_email)
    missing = outcomes["nobody@example.com"].result
    assert missing is not None
    assert missing.status is mk.UnsubscribeStatus.INVALID_RECIPIENT
    assert isinstance(outcomes["not an address"].error, mk.InvalidArgumentError)
    assert account.unsubscribed == {JOHN, *ids}
    assert account.optouts_sent == {}
