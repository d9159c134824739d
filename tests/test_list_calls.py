"""The list family's typed methods: add_user, edit_user, the mailing-list calls, send_mail.

Proves, on both protocols: every documented answer of the function table reads as its status
(the cases derived from the table, so none is missed), the wrappers' 2018 recorded answers
read as what they mean, each method does what its result says to the emulator's truth
(in-process and over real loopback HTTP), plain text goes out as the Base64 the pages show,
bad arguments fail before any request, hostile answers are MalformedResponseError, the retry
class holds (a confirmation or a campaign email is never sent twice), and `client.map` fans
a method out.
"""

from __future__ import annotations

import base64
import datetime
import json
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import mailkit_async as mk
from mailkit_async._functions import FUNCTIONS, SentAs
from mailkit_async._list_read import (
    ADDUSER,
    CREATE,
    DELETE,
    EDITUSER,
    GETSTATUS,
    LIST,
    SENDMAIL,
    UNSUBSCRIBED,
    read_add_user,
    read_create_mailing_list,
    read_delete_mailing_list,
    read_edit_user,
    read_list_recipients,
    read_mailing_lists,
    read_send_mail,
    read_unsubscribed,
)
from mailkit_async.testing import EmulatorTransport, Faults, MailkitEmulator

from .conftest import CLIENT_ID, CLIENT_MD5, ClientFactory

FIXTURES = Path(__file__).parent / "fixtures" / "wrapper"
FAST_RETRY = mk.RetryPolicy(max_attempts=3, initial_backoff=0.0, jitter=0.0)

# function -> (reader, status enum) for the functions that answer a status.
STATUS_READERS: dict[str, tuple[Callable[[object], Any], type[Any]]] = {
    ADDUSER: (read_add_user, mk.AddUserStatus),
    EDITUSER: (read_edit_user, mk.EditUserStatus),
    CREATE: (read_create_mailing_list, mk.CreateMailingListStatus),
    DELETE: (read_delete_mailing_list, mk.DeleteMailingListStatus),
    SENDMAIL: (read_send_mail, mk.SendMailStatus),
}
LIST_READERS: dict[str, Callable[[object], Any]] = {
    LIST: read_mailing_lists,
    GETSTATUS: read_list_recipients,
    UNSUBSCRIBED: read_unsubscribed,
}
ALL_READERS: dict[str, Callable[[object], Any]] = {
    **{f: r for f, (r, _) in STATUS_READERS.items()},
    **LIST_READERS,
}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text, validate=True).decode()


# -- every documented answer, both shapes ---------------------------------------------------


def _shapes(function: str, message: Any) -> list[tuple[str, object]]:
    """The documented answer as JSON and as XML-RPC would decode it."""
    if message.field == "error":
        error_status = 0 if message.sent_as is SentAs.SUCCESS else 1
        return [
            ("json", {"error": message.text, "error_status": error_status}),
            ("xmlrpc", message.text),
        ]
    if message.field == "data":  # mailinglist.delete's {data: "OK"} on both
        return [("json", {"data": message.text}), ("xmlrpc", {"data": message.text})]
    assert message.field == "status", message
    code = message.text
    if function == SENDMAIL:
        return [
            ("json", {"data": "12", "data2": "5", "data3": "99", "status": str(code)}),
            ("xmlrpc", {"data": 12, "data2": 5, "data3": 99, "status": code}),
        ]
    return [
        ("json", {"ID_email": "12", "status": str(code)}),
        ("xmlrpc", {"data": 12, "status": code}),
    ]


DOCUMENTED = [
    pytest.param(function, message, protocol, value, id=f"{function}-{message.text!r}-{protocol}")
    for function in STATUS_READERS
    for message in FUNCTIONS[function].messages
    for protocol, value in _shapes(function, message)
]


@pytest.mark.parametrize(("function", "message", "protocol", "value"), DOCUMENTED)
def test_every_documented_answer_reads_as_its_status(
    function: str, message: Any, protocol: str, value: object
) -> None:
    reader, statuses = STATUS_READERS[function]
    result = reader(value)
    assert result.status is statuses[message.status]
    assert result.message == str(message.text)
    if message.field == "status":
        assert result.id_email == 12


def test_each_enum_is_the_tables_statuses() -> None:
    """Every member but UNKNOWN stands for a documented answer, and every answer has a member
    (CREATED is create's data answer, which carries no text)."""
    for function, (_, statuses) in STATUS_READERS.items():
        named = {m.status for m in FUNCTIONS[function].messages}
        members = {s.name for s in statuses} - {"UNKNOWN"}
        if function == CREATE:
            members -= {"CREATED"}
        assert members == named, function


@pytest.mark.parametrize("function", sorted(STATUS_READERS))
@pytest.mark.parametrize(
    "value",
    ["Something new", {"error": "Something new", "error_status": 1}],
    ids=["xmlrpc", "json"],
)
def test_an_undocumented_text_is_unknown_with_its_words(function: str, value: object) -> None:
    reader, statuses = STATUS_READERS[function]
    result = reader(value)
    assert result.status is statuses.UNKNOWN
    assert result.message == "Something new"


@pytest.mark.parametrize(
    ("function", "value"),
    [
        (ADDUSER, {"error": "Sent subscribe email", "error_status": 1}),
        (ADDUSER, {"ID_email": "12", "status": "1", "error_status": "3"}),
        (EDITUSER, {"error": "OK", "error_status": 2, "ID_email": 5}),
        (CREATE, {"data": "12", "error_status": 1}),
        (DELETE, {"data": "OK", "error_status": 1}),
        (SENDMAIL, {"data": "1", "status": "0", "error_status": 1}),
    ],
)
def test_a_success_next_to_an_error_status_is_not_called_done(function: str, value: object) -> None:
    reader, statuses = STATUS_READERS[function]
    assert reader(value).status is statuses.UNKNOWN


def test_an_undocumented_insert_status_is_unknown() -> None:
    assert read_add_user({"ID_email": "12", "status": "9"}).status is mk.AddUserStatus.UNKNOWN
    assert read_send_mail({"data": 1, "status": 5}).status is mk.SendMailStatus.UNKNOWN


@pytest.mark.parametrize("function", sorted(ALL_READERS))
@pytest.mark.parametrize("text", ["Unauthorized", "Disallowed IP 192.0.2.7"])
@pytest.mark.parametrize("shape", ["xmlrpc", "json"])
def test_global_errors_come_first(function: str, text: str, shape: str) -> None:
    value = text if shape == "xmlrpc" else {"error": text, "error_status": 1}
    with pytest.raises(mk.AuthenticationError):
        ALL_READERS[function](value)


# -- the wrappers' recorded answers ----------------------------------------------------------


def _decoded(name: str) -> object:
    """A recording decoded by the library's codec for its protocol and function."""
    parts = Path(name).name.split(".")
    function = ".".join(parts[:2] if parts[1] == "sendmail" else parts[:3])
    codec = mk.JsonCodec() if "/json/" in name else mk.XmlRpcCodec()
    return codec.decode_reply((FIXTURES / name).read_bytes(), function=function)


_A, _E = mk.AddUserStatus, mk.EditUserStatus
_C, _D, _S = mk.CreateMailingListStatus, mk.DeleteMailingListStatus, mk.SendMailStatus
_ML, _X = "mailkit.mailinglist", "80fb10e/xml"
RECORDED_STATUSES = [
    (f"f6bcb86/json/{_ML}.adduser.json", read_add_user, _A.CONFIRMATION_SENT),
    (f"f6bcb86/xml/{_ML}.adduser.12345.xml", read_add_user, _A.CONFIRMATION_SENT),
    (f"f6bcb86/xml/{_ML}.adduser.54321.xml", read_add_user, _A.INVALID_LIST),
    (f"f6bcb86/json/{_ML}.edituser.json", read_edit_user, _E.UPDATED),
    (f"{_X}/{_ML}.edituser.12345.xml", read_edit_user, _E.UPDATED),
    (f"f6bcb86/json/{_ML}.create.json", read_create_mailing_list, _C.CREATED),
    (f"f6bcb86/xml/{_ML}.create.12345.xml", read_create_mailing_list, _C.CREATED),
    (f"{_X}/{_ML}.create.exist.xml", read_create_mailing_list, _C.LIST_EXISTS),
    (f"{_X}/{_ML}.create.missingName.xml", read_create_mailing_list, _C.MISSING_NAME),
    (f"f6bcb86/json/{_ML}.delete.json", read_delete_mailing_list, _D.DELETED),
    (f"f6bcb86/xml/{_ML}.delete.12345.xml", read_delete_mailing_list, _D.DELETED),
    ("f6bcb86/xml/mailkit.sendmail.12345.xml", read_send_mail, _S.UPDATED),
    (f"{_X}/mailkit.sendmail.1.xml", read_send_mail, _S.INVALID_CAMPAIGN),
    (f"{_X}/mailkit.sendmail.2.xml", read_send_mail, _S.INVALID_LIST),
    (f"{_X}/mailkit.sendmail.3.xml", read_send_mail, _S.ATTACHMENT_NOT_ALLOWED),
    (f"{_X}/mailkit.sendmail.54321.xml", read_send_mail, _S.MISSING_RECIPIENT),
]


@pytest.mark.parametrize(("name", "reader", "status"), RECORDED_STATUSES)
def test_recorded_answers_read_as_what_they_mean(
    name: str, reader: Callable[[object], Any], status: Any
) -> None:
    assert reader(_decoded(name)).status is status


def test_recorded_answers_carry_their_ids() -> None:
    assert read_edit_user(_decoded("f6bcb86/json/mailkit.mailinglist.edituser.json")).id_email == (
        1234567890
    )
    for name in (
        "f6bcb86/json/mailkit.mailinglist.create.json",
        "f6bcb86/xml/mailkit.mailinglist.create.12345.xml",
    ):
        assert read_create_mailing_list(_decoded(name)).list_id == 12345
    sent = read_send_mail(_decoded("f6bcb86/xml/mailkit.sendmail.12345.xml"))
    assert (sent.id_email, sent.id_send, sent.id_send_message) == (12345678, 12345, 12345678)
    assert not sent.status.succeeded or sent.status is mk.SendMailStatus.UPDATED


def test_recorded_mailing_lists_read_the_same_from_both_protocols() -> None:
    from_json = read_mailing_lists(_decoded("f6bcb86/json/mailkit.mailinglist.list.json"))
    assert [(m.list_id, m.name, m.description, m.status) for m in from_json] == [
        (123456, "Testovací seznam", "popis seznamu", mk.MailingListStatus.ENABLED),
        (123457, "Druhý seznam", "", mk.MailingListStatus.DISABLED),
    ]
    (from_xml,) = read_mailing_lists(_decoded("f6bcb86/xml/mailkit.mailinglist.list.xml"))
    assert from_xml == mk.MailingListInfo(
        list_id=12345,
        name="Jméno seznamu příjemců",
        description="Popis seznamu příjemců",
        status=mk.MailingListStatus.ENABLED,
        status_text="enabled",
    )


def test_every_list_family_recording_is_read() -> None:
    """A fixture of one of these functions added later must get a row above."""
    read = {name for name, _, _ in RECORDED_STATUSES} | {
        "f6bcb86/json/mailkit.mailinglist.list.json",
        "f6bcb86/xml/mailkit.mailinglist.list.xml",
    }
    ours = ("adduser", "edituser", "create", "delete", "list", "getstatus", "unsubscribed")
    duplicates = {  # byte-identical copies of create.12345.xml under other names
        "f6bcb86/xml/mailkit.mailinglist.create.example@example.cz.xml",
        "f6bcb86/xml/mailkit.mailinglist.create.mailingList.xml",
    }
    present = {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("mailkit.*")
        if p.name.startswith("mailkit.sendmail")
        or any(p.name.startswith(f"mailkit.mailinglist.{f}.") for f in ours)
    }
    assert present - duplicates == read
    for name in duplicates:
        assert (FIXTURES / name).read_bytes() == (
            FIXTURES / "f6bcb86/xml/mailkit.mailinglist.create.12345.xml"
        ).read_bytes()


def test_the_pages_unsubscribed_example_reads() -> None:
    """DOC mailinglist.unsubscribed's JSON example, and its XML's comma list of groups."""
    page = json.loads(
        '[{"DATE":"2015-10-23 15:18:58","ID_UNSUBSCRIBE_GROUP":"","EMAIL":"mail@example.eu"},'
        '{"DATE":"2015-10-25 11:35:12","ID_UNSUBSCRIBE_GROUP":"","EMAIL":"+420777123456"}]'
    )
    first, second = read_unsubscribed(page)
    assert first == mk.UnsubscribedRecipient(
        email="mail@example.eu",
        unsubscribed_at=datetime.datetime(2015, 10, 23, 15, 18, 58),
        groups=(),
    )
    assert second.email == "+420777123456"  # an SMS recipient
    (grouped,) = read_unsubscribed(
        [{"DATE": "2015-10-23 15:18:58", "ID_UNSUBSCRIBE_GROUP": "27,29,35", "EMAIL": "a@b.cz"}]
    )
    assert grouped.groups == (27, 29, 35)
    (single,) = read_unsubscribed([{"DATE": "", "ID_UNSUBSCRIBE_GROUP": 27, "EMAIL": "a@b.cz"}])
    assert (single.groups, single.unsubscribed_at) == ((27,), None)


def test_the_pages_unsubscribed_xml_with_groups_in_an_i4_reads() -> None:
    """The page's XML example writes the groups as <i4>27,29,35</i4>: the answer is read,
    not refused whole, on both XML-RPC decoding paths."""
    from mailkit_async._xmlrpc_unmarshal import _parse_stream, _parse_tree, decode_with

    def record(date: str, groups: str, email: str) -> str:
        return (
            "<value><struct>"
            f"<member><name>DATE</name><value><string>{date}</string></value></member>"
            f"<member><name>ID_UNSUBSCRIBE_GROUP</name><value>{groups}</value></member>"
            f"<member><name>EMAIL</name><value><string>{email}</string></value></member>"
            "</struct></value>"
        )

    body = (
        '<?xml version="1.0" encoding="UTF-8"?><methodResponse><params><param><value><array>'
        "<data>"
        + record("2015-10-23 15:18:58", "<i4>27,29,35</i4>", "mail@example.eu")
        + record("2015-10-25 11:35:12", "<string></string>", "+420777123456")
        + "</data></array></value></param></params></methodResponse>"
    ).encode()
    for parse in (_parse_tree, _parse_stream):
        grouped, plain = read_unsubscribed(decode_with(parse, body, UNSUBSCRIBED))
        assert (grouped.email, grouped.groups) == ("mail@example.eu", (27, 29, 35))
        assert (plain.email, plain.groups) == ("+420777123456", ())


def test_the_pages_getstatus_record_reads() -> None:
    """DOC mailinglist.getstatus's example record (as far as the page shows it)."""
    (recipient,) = read_list_recipients(
        [
            {
                "CHANGE_DATE": "2016-03-17 10:42:35",
                "DATE": "2012-05-25 23:21:30",
                "STATUS": "enabled",
                "ID_EMAIL": "123456789",
                "EMAIL": "jan@example.com",
                "VOCATIVE": "Vážený pan",
                "FAX": "ne",
                "MOBILE": "7771234565",
                "CUSTOM_15": "31.12.",
            }
        ]
    )
    assert recipient.id_email == 123456789
    assert recipient.status is mk.ListRecipientStatus.ENABLED
    assert recipient.created == datetime.datetime(2012, 5, 25, 23, 21, 30)
    assert recipient.changed == datetime.datetime(2016, 3, 17, 10, 42, 35)
    assert recipient.fields == {
        "VOCATIVE": "Vážený pan",
        "FAX": "ne",
        "MOBILE": "7771234565",
        "CUSTOM_15": "31.12.",
    }
    with pytest.raises(TypeError):
        recipient.fields["FAX"] = "x"  # type: ignore[index]


# -- hostile answers ------------------------------------------------------------------------

HOSTILE_STATUS = [None, 7, 2.5, True, [], ["OK"], {}, {"error": 5}, {"error": ["OK"]}]
HOSTILE_CODED = [
    {"status": True},
    {"status": "one"},
    {"status": 2**70},
    {"status": None, "ID_email": "12"},
    {"status": "1", "ID_email": "abc"},
    {"status": "1", "ID_email": 2**64},
    {"status": "1", "data": [1]},
    {"status": "1", "error_status": "x"},
]


@pytest.mark.parametrize("function", sorted(STATUS_READERS))
@pytest.mark.parametrize("value", HOSTILE_STATUS, ids=repr)
def test_hostile_status_answers_are_malformed(function: str, value: object) -> None:
    reader, _ = STATUS_READERS[function]
    with pytest.raises(mk.MalformedResponseError):
        reader(value)


@pytest.mark.parametrize("reader", [read_add_user, read_send_mail])
@pytest.mark.parametrize("value", HOSTILE_CODED, ids=repr)
def test_hostile_insert_status_answers_are_malformed(
    reader: Callable[[object], Any], value: object
) -> None:
    if reader is read_send_mail and "ID_email" in value:  # type: ignore[operator]
        value = {("data" if k == "ID_email" else k): v for k, v in value.items()}  # type: ignore[attr-defined]
    with pytest.raises(mk.MalformedResponseError):
        reader(value)


@pytest.mark.parametrize(
    "value",
    [{"data": "abc"}, {"data": 0}, {"data": None}, {"data": True}, {"data": 2**80}],
    ids=repr,
)
def test_hostile_create_answers_are_malformed(value: object) -> None:
    with pytest.raises(mk.MalformedResponseError):
        read_create_mailing_list(value)


def test_hostile_delete_answer_is_malformed() -> None:
    with pytest.raises(mk.MalformedResponseError):
        read_delete_mailing_list({"data": 1.5})


def test_digits_a_server_sent_as_an_int_read_as_text() -> None:
    # XMLRPC::Lite types scalars by their look: a list named "2024" comes back as <int>.
    (info,) = LIST_READERS[LIST]([{**LIST_ROW[LIST], "NAME": 2024}])
    assert info.name == "2024"


LIST_ROW = {
    LIST: {"ID_USER_LIST": "1", "NAME": "A", "DESCRIPTION": "", "STATUS": "enabled"},
    GETSTATUS: {"ID_EMAIL": "1", "EMAIL": "a@b.cz", "STATUS": "enabled", "DATE": "", "X": "y"},
    UNSUBSCRIBED: {"DATE": "2015-10-23 15:18:58", "ID_UNSUBSCRIBE_GROUP": "", "EMAIL": "a@b.cz"},
}
# Per function: a member spoiled in each way a hostile server could.
SPOILED = {
    LIST: [("ID_USER_LIST", "x"), ("ID_USER_LIST", None), ("ID_USER_LIST", 2**70),
           ("NAME", 5.5), ("NAME", None), ("STATUS", ["enabled"]), ("DESCRIPTION", {})],
    GETSTATUS: [("ID_EMAIL", "-"), ("ID_EMAIL", 0), ("EMAIL", None), ("EMAIL", 5.5),
                ("STATUS", None), ("DATE", "yesterday"), ("CHANGE_DATE", 5), ("X", [1]),
                ("X", 2.5)],
    UNSUBSCRIBED: [("EMAIL", None), ("DATE", "2015-13-45 99:00:00"),
                   ("ID_UNSUBSCRIBE_GROUP", "a,b"), ("ID_UNSUBSCRIBE_GROUP", True),
                   ("ID_UNSUBSCRIBE_GROUP", [27])],
}  # fmt: skip


@pytest.mark.parametrize(
    ("function", "key", "bad"),
    [(f, k, v) for f, spoils in SPOILED.items() for k, v in spoils],
    ids=lambda v: repr(v)[:30],
)
def test_hostile_records_are_malformed(function: str, key: str, bad: object) -> None:
    reader = LIST_READERS[function]
    assert len(reader([LIST_ROW[function]])) == 1  # the unspoiled record reads
    with pytest.raises(mk.MalformedResponseError):
        reader([{**LIST_ROW[function], key: bad}])


@pytest.mark.parametrize("function", sorted(LIST_READERS))
@pytest.mark.parametrize("value", [None, 5, True, {"ID": 1}, [5], [None], [[]], {"error": 3}])
def test_a_non_list_where_a_list_is_due_is_malformed(function: str, value: object) -> None:
    with pytest.raises(mk.MalformedResponseError):
        LIST_READERS[function](value)


@pytest.mark.parametrize("function", sorted(LIST_READERS))
def test_a_refusal_in_place_of_a_list_is_an_api_error(function: str) -> None:
    reader = LIST_READERS[function]
    with pytest.raises(mk.ApiError, match="Invalid ID_user_list") as bare:
        reader("Invalid ID_user_list")
    assert bare.value.function == function
    with pytest.raises(mk.ApiError) as wrapped:
        reader({"error": "Invalid ID_user_list", "error_status": "1"})
    assert wrapped.value.error_status == 1
    assert reader("") == () == reader([])


async def test_a_hostile_answer_through_the_client_is_malformed(protocol: str) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    body = (
        b'{"ID_email": "12", "status": true}'
        if protocol == "json"
        else xmlrpc.client.dumps(({"data": 12, "status": "x"},), methodresponse=True).encode()
    )
    emu.inject(ADDUSER, body)
    async with _client(emu, protocol) as client:
        with pytest.raises(mk.MalformedResponseError):
            await client.add_user(1, "jane@example.com", double_opt_in=False)


# -- against the emulator -------------------------------------------------------------------


def _client(emu: MailkitEmulator, protocol: str, **options: Any) -> mk.MailkitClient:
    return mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        protocol=protocol,  # type: ignore[arg-type]
        transport=EmulatorTransport(emu),
        **options,
    )


async def test_add_user_with_double_opt_in_mails_a_confirmation(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        result = await client.add_user(1, "jane@example.com", first_name="Jana")
    assert result.status is mk.AddUserStatus.CONFIRMATION_SENT
    assert result.status.succeeded
    jane = emulator.recipient("jane@example.com")
    assert jane is not None
    assert jane.pending  # waits for the click
    assert not jane.subscribed
    assert emulator.confirmations_sent == {jane.id_email: 1}
    assert jane.profile["FIRST_NAME"] == "Jana"


async def test_add_user_without_double_opt_in_inserts_updates_and_resubscribes(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    john = emulator.add_recipient("john@example.com", subscribed=False)
    async with make_client() as client:
        inserted = await client.add_user(1, "jane@example.com", double_opt_in=False, city="Brno")
        updated = await client.add_user(1, "jane@example.com", double_opt_in=False, city="Zlín")
        back = await client.add_user(1, "john@example.com", double_opt_in=False)
    jane = emulator.recipient("jane@example.com")
    assert jane is not None
    assert (inserted.status, inserted.id_email) == (mk.AddUserStatus.INSERTED, jane.id_email)
    assert (updated.status, updated.id_email) == (mk.AddUserStatus.UPDATED, jane.id_email)
    assert (back.status, back.id_email) == (mk.AddUserStatus.UPDATED_UNSUBSCRIBED, john.id_email)
    assert jane.profile["CITY"] == "Zlín"
    assert emulator.subscribers(1) == {"jane@example.com", "john@example.com"}
    assert emulator.confirmations_sent == {}


async def test_add_user_documented_refusals(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        unknown_list = await client.add_user(999, "jane@example.com")
    assert unknown_list.status is mk.AddUserStatus.INVALID_LIST
    assert not unknown_list.status.succeeded
    assert emulator.recipients == []


async def test_edit_user_overwrites_fields_and_sends_nothing(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    jane = emulator.add_recipient("jane@example.com", profile={"FIRST_NAME": "Jane"})
    async with make_client() as client:
        result = await client.edit_user(
            1, jane.id_email, last_name="Nováková", zip_code="602 00", custom={7: "vip"}
        )
        missing = await client.edit_user(1, jane.id_email + 100, last_name="X")
    assert result.status is mk.EditUserStatus.UPDATED
    assert jane.profile == {
        "FIRST_NAME": "Jane",
        "LAST_NAME": "Nováková",
        "ZIP": "602 00",
        "CUSTOM_7": "vip",
    }
    assert missing.status is mk.EditUserStatus.INVALID_RECIPIENT
    assert emulator.confirmations_sent == {} == emulator.optouts_sent


async def test_mailing_lists_are_listed_created_and_deleted(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        created = await client.create_mailing_list("News", description="Monthly")
        again = await client.create_mailing_list("News")
        lists = await client.list_mailing_lists()
        assert created.status is mk.CreateMailingListStatus.CREATED
        assert created.list_id is not None
        emulator.add_recipient("jane@example.com", mailing_list_id=created.list_id)
        emptied = await client.delete_mailing_list(created.list_id, keep_list=True)
        assert created.list_id in emulator.mailing_lists
        assert emulator.subscribers(created.list_id) == frozenset()
        deleted = await client.delete_mailing_list(created.list_id)
        gone = await client.delete_mailing_list(created.list_id)
    assert again.status is mk.CreateMailingListStatus.LIST_EXISTS
    assert again.list_id is None
    assert emulator.lists_created == (created.list_id,)
    assert [(m.list_id, m.name, m.description, m.status) for m in lists] == [
        (1, "Default", "", mk.MailingListStatus.ENABLED),
        (created.list_id, "News", "Monthly", mk.MailingListStatus.ENABLED),
    ]
    assert emptied.status is deleted.status is mk.DeleteMailingListStatus.DELETED
    assert gone.status is mk.DeleteMailingListStatus.INVALID_LIST
    assert created.list_id not in emulator.mailing_lists


async def test_list_recipients_filters_and_pages(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    people = [emulator.add_recipient(f"p{n}@example.com") for n in range(5)]
    people[1].subscribed = False
    async with make_client() as client:
        everyone = await client.list_recipients(1)
        first_two = await client.list_recipients(1, limit=2)
        rest = await client.list_recipients(1, from_id_email=first_two[-1].id_email + 1)
        left = await client.list_recipients(1, status=mk.ListRecipientStatus.UNSUBSCRIBE)
        recent = await client.list_recipients(
            1, changed_since=datetime.datetime(2100, 1, 1), status="enabled"
        )
        with pytest.raises(mk.ApiError):
            await client.list_recipients(999)
    assert [r.id_email for r in everyone] == [p.id_email for p in people]
    assert [r.email for r in first_two + rest] == [p.email for p in people]
    assert [r.email for r in left] == ["p1@example.com"]
    assert left[0].status is mk.ListRecipientStatus.UNSUBSCRIBE
    assert recent == ()
    assert everyone[0].fields["ID_MAILING_LIST"] == "1"  # an <i4> in XML-RPC, read as text


async def test_list_unsubscribed_since(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    emulator.add_recipient("jane@example.com")
    john = emulator.add_recipient("john@example.com", subscribed=False)
    async with make_client() as client:
        gone = await client.list_unsubscribed()
        since_today = await client.list_unsubscribed(since=datetime.datetime.now(datetime.UTC))
        future = await client.list_unsubscribed(since=datetime.date(2100, 1, 1))
    assert [(u.email, u.groups) for u in gone] == [("john@example.com", ())]
    assert gone[0].unsubscribed_at is not None
    assert john.unsubscribed_at is not None
    assert gone[0].unsubscribed_at == john.unsubscribed_at.replace(tzinfo=None)
    assert since_today == gone
    assert future == ()


async def test_send_mail_sends_and_answers_the_three_ids(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    campaign = emulator.add_campaign("Welcome", subject="Hello", attachments=True)
    async with make_client() as client:
        result = await client.send_mail(
            1,
            campaign,
            "jane@example.com",
            subject="Ahoj Jano",
            message_data="Dobrý den",
            content={"coupon": "SLEVA-10"},
            first_name="Jana",
            attachment_name="terms.pdf",
            attachment_data=b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n\x00\xff",  # binary, not UTF-8
        )
    (sent,) = emulator.messages_sent
    assert result.status is mk.SendMailStatus.INSERTED
    assert result.status.succeeded
    assert (result.id_email, result.id_send, result.id_send_message) == (
        sent.id_email,
        sent.id_send,
        sent.id_send_message,
    )
    assert (sent.send_to, sent.subject, sent.body) == ("jane@example.com", "Ahoj Jano", "Dobrý den")
    assert sent.content == {"coupon": "SLEVA-10"}
    assert sent.attachments == ("terms.pdf",)
    jane = emulator.recipient("jane@example.com")
    assert jane is not None
    assert jane.profile["FIRST_NAME"] == "Jana"


async def test_send_mail_to_an_unsubscribed_recipient_is_answered_but_not_sent(
    emulator: MailkitEmulator, make_client: ClientFactory
) -> None:
    campaign = emulator.add_campaign("Welcome")
    emulator.add_recipient("john@example.com", subscribed=False)
    async with make_client() as client:
        result = await client.send_mail(1, campaign, "john@example.com")
        refused = await client.send_mail(1, campaign, "john@example.com", attachment_name="a",
                                         attachment_url="https://example.com/a.pdf")  # fmt: skip
        no_campaign = await client.send_mail(1, campaign + 1, "john@example.com")
    assert result.status is mk.SendMailStatus.UPDATED_UNSUBSCRIBED
    assert not result.status.succeeded
    assert refused.status is mk.SendMailStatus.ATTACHMENT_NOT_ALLOWED
    assert no_campaign.status is mk.SendMailStatus.INVALID_CAMPAIGN
    assert emulator.messages_sent == []


# -- what goes on the wire ------------------------------------------------------------------


class Capture(httpx.AsyncBaseTransport):
    """Keeps every request body, then lets the emulator answer."""

    def __init__(self, emu: MailkitEmulator) -> None:
        self.inner = EmulatorTransport(emu)
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(await request.aread())
        return await self.inner.handle_async_request(request)

    def client(self, protocol: str) -> mk.MailkitClient:
        """A client on `protocol` whose requests pass through this capture."""
        return mk.MailkitClient(
            CLIENT_ID,
            CLIENT_MD5,
            protocol=protocol,  # type: ignore[arg-type]
            transport=self,
        )


def _params(protocol: str, body: bytes) -> Any:
    if protocol == "json":
        return json.loads(body)["parameters"]
    params, _ = xmlrpc.client.loads(body)
    return params[2:]  # after client_id and client_md5


async def test_add_user_sends_the_pages_base64(protocol: str) -> None:
    """The page's decoded example values encode to the page's Base64, in the right places."""
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    capture = Capture(emu)
    async with capture.client(protocol) as client:
        await client.add_user(
            12345,
            "example@example.cz",
            first_name="Jméno",
            last_name="Příjmení",
            name_from="Odesilatel",
            return_url="http://some.where",
            id_template=123456,
            gender="F",
            custom={25: "vlastní č.25", 1: "vlastní č.1"},
        )
    sent = _params(protocol, capture.bodies[0])
    if protocol == "json":
        assert sent["ID_user_list"] == "12345"
        assert sent["confirm"] == "TRUE"
        personal, address, custom = sent["personal"], sent["address"], sent["custom"]
    else:
        list_id, confirm, personal, address, custom = sent
        assert (list_id, confirm) == (12345, True)
    assert personal == {
        "ID_template": "MTIzNDU2",
        "name_from": "T2Rlc2lsYXRlbA==",
        "return_url": "aHR0cDovL3NvbWUud2hlcmU=",
        "first_name": "Sm3DqW5v",
        "last_name": "UMWZw61qbWVuw60=",
        "email": "ZXhhbXBsZUBleGFtcGxlLmN6",
    }
    assert address == {"gender": "Rg=="}
    assert custom == {"custom1": "dmxhc3Ruw60gxI0uMQ==", "custom25": "dmxhc3Ruw60gxI0uMjU="}
    assert list(custom) == ["custom1", "custom25"]  # by number: XML-RPC keeps member order


async def test_add_user_origin_params_are_plain_and_json_only(protocol: str) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    capture = Capture(emu)
    async with capture.client(protocol) as client:
        call = client.add_user(
            1, "jane@example.com", ip_src="1.2.3.4", form_url="https://example.com/form"
        )
        if protocol == "xmlrpc":
            with pytest.raises(mk.InvalidArgumentError, match="params"):
                await call
            assert capture.bodies == []
            return
        await call
    assert _params("json", capture.bodies[0])["params"] == {
        "ip_src": "1.2.3.4",
        "form_url": "https://example.com/form",
    }


async def test_edit_user_keeps_the_empty_position(protocol: str) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    jane = emu.add_recipient("jane@example.com")
    capture = Capture(emu)
    async with capture.client(protocol) as client:
        assert (await client.edit_user(1, jane.id_email, company="ACME")).status.succeeded
    sent = _params(protocol, capture.bodies[0])
    if protocol == "xmlrpc":
        assert sent == (1, str(jane.id_email), "", {"company": b64("ACME")}, {}, {})
    else:
        assert sent == {
            "ID_user_list": "1",
            "ID_email": str(jane.id_email),
            "personal": {"company": b64("ACME")},
        }


async def test_send_mail_encodes_what_the_page_encodes(protocol: str) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    campaign = emu.add_campaign("Welcome", attachments=True)
    capture = Capture(emu)
    async with capture.client(protocol) as client:
        await client.send_mail(
            1,
            campaign,
            "email@email.com",
            subject="optional subject",
            message_data="optional message body",
            content={"var1": "variable 1"},
            gender="male",
            custom={1: "custom field no.1"},
            attachment_name="a.pdf",
            attachment_data=b"%PDF",
        )
    sent = _params(protocol, capture.bodies[0])
    if protocol == "json":
        main, contact, custom, attachment = (
            sent["main"],
            sent["contact"],
            sent["custom"],
            sent["attachment"],
        )
        assert (sent["mailinglist_id"], sent["campaign_id"]) == ("1", str(campaign))
    else:
        list_id, campaign_id, main, _recipient, contact, custom, attachment = sent
        assert (list_id, campaign_id) == (1, campaign)
    assert main == {
        "send_to": "email@email.com",
        "subject": "optional subject",  # plain, as the page's example
        "message_data": "b3B0aW9uYWwgbWVzc2FnZSBib2R5",
        "content": {"var1": "dmFyaWFibGUgMQ=="},
    }
    assert contact == {"gender": "bWFsZQ=="}
    assert custom == {"custom1": "Y3VzdG9tIGZpZWxkIG5vLjE="}
    assert attachment == {"name": "a.pdf", "data": b64("%PDF")}


# -- bad arguments, before any request ---------------------------------------------------------

BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("add_user", (1, "not an address"), {}, "email"),
    ("add_user", (1, 12345678), {}, "email"),
    ("add_user", (0, "jane@example.com"), {}, "list_id"),
    ("add_user", (True, "jane@example.com"), {}, "list_id"),
    ("add_user", (1, "jane@example.com"), {"double_opt_in": "TRUE"}, "double_opt_in"),
    ("add_user", (1, "jane@example.com"), {"custom": {26: "x"}}, "custom"),
    ("add_user", (1, "jane@example.com"), {"custom": {"custom1": "x"}}, "custom"),
    ("add_user", (1, "jane@example.com"), {"custom": {1: 5}}, "custom[1]"),
    ("add_user", (1, "jane@example.com"), {"custom": [("1", "x")]}, "custom"),
    ("add_user", (1, "jane@example.com"), {"first_name": "a\x00b"}, "first_name"),
    ("add_user", (1, "jane@example.com"), {"city": "x" * 10_001}, "city"),
    ("add_user", (1, "jane@example.com"), {"ip_src": "1.2.3"}, "ip_src"),
    ("add_user", (1, "jane@example.com"), {"email_from": "nobody"}, "email_from"),
    ("add_user", (1, "jane@example.com"), {"reply_to": "@x"}, "reply_to"),
    ("add_user", (1, "jane@example.com"), {"id_template": -1}, "id_template"),
    ("edit_user", (1, 12345678), {}, "at least one field"),
    ("edit_user", (1, "jane@example.com"), {"city": "Brno"}, "id_email"),
    ("edit_user", (1, 12345678), {"custom": {0: "x"}}, "custom"),
    ("create_mailing_list", ("  ",), {}, "name"),
    ("create_mailing_list", ("x" * 256,), {}, "name"),
    ("create_mailing_list", ("News",), {"description": 5}, "description"),
    ("delete_mailing_list", (2**63,), {}, "list_id"),
    ("delete_mailing_list", (2,), {"keep_list": 1}, "keep_list"),
    ("list_recipients", (1,), {"status": "unsubscribed"}, "status"),
    ("list_recipients", (1,), {"limit": 10_001}, "limit"),
    ("list_recipients", (1,), {"limit": 0}, "limit"),
    ("list_recipients", (1,), {"changed_since": "2024-01-01"}, "changed_since"),
    ("list_recipients", (1,), {"from_id_email": 0}, "from_id_email"),
    ("list_unsubscribed", (), {"since": "2024-01-01"}, "since"),
    ("send_mail", (1, 2, "nobody"), {}, "send_to"),
    ("send_mail", (1, 0, "jane@example.com"), {}, "campaign_id"),
    ("send_mail", (1, 2, "jane@example.com"), {"content": {"": "x"}}, "content"),
    ("send_mail", (1, 2, "jane@example.com"), {"content": {"v": 1}}, "content"),
    ("send_mail", (1, 2, "jane@example.com"), {"attachment_data": b"x"}, "attachment_name"),
    ("send_mail", (1, 2, "jane@example.com"), {"attachment_name": "a"}, "attachment_data"),
    ("send_mail", (1, 2, "jane@example.com"),
     {"attachment_name": "a", "attachment_data": "text"}, "attachment_data"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "args", "kwargs", "named"), BAD_CALLS)
async def test_bad_arguments_fail_before_any_request(
    protocol: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], named: str
) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    capture = Capture(emu)
    async with capture.client(protocol) as client:
        with pytest.raises(mk.InvalidArgumentError, match=named.replace("[", r"\[")) as error:
            getattr(client, method)(*args, **kwargs)  # raised at the call, not when awaited
    assert "jane@example.com" not in str(error.value)  # values are never echoed
    assert capture.bodies == []
    assert emu.calls == []


# -- retry classes ---------------------------------------------------------------------------


async def test_a_double_opt_in_is_never_sent_twice(protocol: str) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    emu.faults = Faults(drop_after=1.0)
    trace = mk.CallTrace()
    async with _client(emu, protocol, retry=FAST_RETRY) as client:
        with pytest.raises(mk.OutcomeUnknownError):
            await client.add_user(1, "jane@example.com", trace=trace)
    jane = emu.recipient("jane@example.com")
    assert jane is not None
    assert trace.attempts == 1
    assert emu.confirmations_sent == {jane.id_email: 1}


async def test_an_add_user_without_opt_in_is_retried_as_an_upsert(protocol: str) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    emu.faults = Faults(drop_after=1.0)
    trace = mk.CallTrace()
    async with _client(emu, protocol, retry=FAST_RETRY) as client:
        with pytest.raises(mk.ConnectionDroppedError):
            await client.add_user(1, "jane@example.com", double_opt_in=False, trace=trace)
        assert trace.attempts == FAST_RETRY.max_attempts
        emu.faults = None
        again = await client.add_user(1, "jane@example.com", double_opt_in=False)
    assert again.status is mk.AddUserStatus.UPDATED  # the lost calls had inserted it, once
    assert len(emu.recipients) == 1
    assert emu.confirmations_sent == {}


RETRY_CLASSES = [
    ("send_mail", True),
    ("create_mailing_list", True),
    ("edit_user", False),
    ("delete_mailing_list", False),
    ("list_mailing_lists", False),
    ("list_recipients", False),
    ("list_unsubscribed", False),
]
METHOD_FUNCTIONS = {
    "send_mail": SENDMAIL,
    "create_mailing_list": CREATE,
    "edit_user": EDITUSER,
    "delete_mailing_list": DELETE,
    "list_mailing_lists": LIST,
    "list_recipients": GETSTATUS,
    "list_unsubscribed": UNSUBSCRIBED,
}


@pytest.mark.parametrize(("method", "unsafe"), RETRY_CLASSES)
async def test_each_method_keeps_its_retry_class(protocol: str, method: str, unsafe: bool) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    jane = emu.add_recipient("jane@example.com")
    campaign = emu.add_campaign("Welcome")
    news = emu.add_mailing_list("News")
    calls: dict[str, Callable[[mk.MailkitClient, mk.CallTrace], Any]] = {
        "send_mail": lambda c, t: c.send_mail(1, campaign, "jane@example.com", trace=t),
        "create_mailing_list": lambda c, t: c.create_mailing_list("Fresh", trace=t),
        "edit_user": lambda c, t: c.edit_user(1, jane.id_email, city="Brno", trace=t),
        "delete_mailing_list": lambda c, t: c.delete_mailing_list(news, trace=t),
        "list_mailing_lists": lambda c, t: c.list_mailing_lists(trace=t),
        "list_recipients": lambda c, t: c.list_recipients(1, trace=t),
        "list_unsubscribed": lambda c, t: c.list_unsubscribed(trace=t),
    }
    assert set(calls) == {name for name, _ in RETRY_CLASSES}
    assert (FUNCTIONS[METHOD_FUNCTIONS[method]].retry_class is mk.RetryClass.UNSAFE) == unsafe
    emu.faults = Faults(drop_after=1.0)
    trace = mk.CallTrace()
    async with _client(emu, protocol, retry=FAST_RETRY) as client:
        expected = mk.OutcomeUnknownError if unsafe else mk.ConnectionDroppedError
        with pytest.raises(expected):
            await calls[method](client, trace)
    assert trace.attempts == (1 if unsafe else FAST_RETRY.max_attempts)
    if method == "send_mail":
        assert len(emu.messages_sent) == 1
    if method == "create_mailing_list":
        assert len(emu.lists_created) == 1


# -- fan-out --------------------------------------------------------------------------------


async def test_add_user_fans_out_through_map(protocol: str) -> None:
    emu = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    addresses = [f"reader{n}@example.com" for n in range(30)]
    async with _client(emu, protocol) as client:
        batch = client.map(
            lambda a: client.add_user(1, a, double_opt_in=False, first_name=a[:7]),
            [*addresses, "broken"],
            concurrency=5,
        )
        outcomes = [o async for o in batch]
    by_item = {o.item: o for o in outcomes}
    assert len(outcomes) == 31
    assert isinstance(by_item["broken"].error, mk.InvalidArgumentError)
    assert by_item["broken"].attempts == 0
    assert {by_item[a].result.status for a in addresses} == {mk.AddUserStatus.INSERTED}  # type: ignore[union-attr]
    assert emu.subscribers(1) == frozenset(addresses)
    assert batch.summary.outcomes == 31
