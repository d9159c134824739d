"""The emulator core, driven with raw request documents through `handle` and in-process httpx.

Proves that each function answers the documented request documents (the published pages'
examples, both protocols) with the documented answer and state change: wipe's queue and
daily run, revalidate with and without agreement, unsubscribe and its getstatus, getstatus
records; that credentials, allowed IPs, unknown functions, other paths and methods and
malformed bodies get the documented refusal, and any body at all an HTTP answer; and that
`inject`, the call log and the state views behave as documented.
"""

from __future__ import annotations

import datetime
import json
import xmlrpc.client
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailkit_async.testing import EmulatorTransport, MailkitEmulator, Recipient

CLIENT_ID = "12345"
MD5 = "0123456789abcdef0123456789abcdef"
JANE = 12345678  # the first ID_email the emulator hands out

JSON_HEADERS = (("Content-Type", "application/json"),)
XML_HEADERS = (("Content-Type", "text/xml; charset=utf-8"),)


@pytest.fixture
def emu() -> MailkitEmulator:
    emulator = MailkitEmulator(CLIENT_ID, MD5)
    emulator.add_recipient("jane@example.com")
    return emulator


def unsubscribed(emu: MailkitEmulator) -> Recipient:
    jane = emu.recipient(JANE)
    assert jane is not None
    jane.subscribed = False
    return jane


def json_body(function: str, **params: Any) -> bytes:
    return json.dumps(
        {"function": function, "id": CLIENT_ID, "md5": MD5, "parameters": params}
    ).encode()


def xml_body(function: str, *params: Any, client_id: Any = int(CLIENT_ID), md5: str = MD5) -> bytes:
    return xmlrpc.client.dumps((client_id, md5, *params), function, allow_none=True).encode()


def call_json(emu: MailkitEmulator, function: str, **params: Any) -> Any:
    response = emu.handle("/json.fcgi", json_body(function, **params))
    assert (response.status, response.headers) == (200, JSON_HEADERS)
    return json.loads(response.body)


def call_xml(emu: MailkitEmulator, function: str, *params: Any, **envelope: Any) -> Any:
    response = emu.handle("/rpc.fcgi", xml_body(function, *params, **envelope))
    assert (response.status, response.headers) == (200, XML_HEADERS)
    (value,), method = xmlrpc.client.loads(response.body)
    assert method is None
    return value


def xml_reply(value: Any) -> bytes:
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()


def json_error(message: str) -> dict[str, Any]:
    return {"error_status": 1, "error": message}


# -- mailkit.email.wipe ---------------------------------------------------------------------

# The doc page's XML example with real values in place of the placeholders.
DOC_WIPE_XML = f"""<?xml version="1.0"?>
<methodCall>
  <methodName>mailkit.email.wipe</methodName>
  <params>
    <param>
    <value>
      <int>{CLIENT_ID}</int>
    </value>
    </param>
    <param>
    <value>
      <string>{MD5}</string>
    </value>
    </param>
    <param>
    <value>
      <string>jane@example.com</string>
    </value>
    </param>
  </params>
</methodCall>
""".encode()


def test_wipe_doc_xml_queues_and_replies_with_the_doc_struct(emu: MailkitEmulator) -> None:
    """The doc's XML call queues the recipient; the struct keeps the doc's member order."""
    response = emu.handle("/rpc.fcgi", DOC_WIPE_XML)
    assert response.status == 200
    assert response.body == (
        b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n"
        b"<member>\n<name>email</name>\n<value><string>jane@example.com</string></value>\n</member>\n"
        b"<member>\n<name>error_status</name>\n<value><int>0</int></value>\n</member>\n"
        b"<member>\n<name>ID_email</name>\n<value><int>12345678</int></value>\n</member>\n"
        b"<member>\n<name>error</name>\n<value><string>OK</string></value>\n</member>\n"
        b"</struct></value>\n</param>\n</params>\n</methodResponse>\n"
    )
    assert emu.wipe_queue == frozenset({JANE})
    assert emu.wipe_requests == {JANE: 1}


def test_wipe_doc_json_example_is_not_json(emu: MailkitEmulator) -> None:
    """The doc's JSON example joins its two parameters with the Czech "nebo": a 400."""
    doc = b"""{
  "function": "mailkit.email.wipe",
  "id": "12345",
  "md5": "0123456789abcdef0123456789abcdef",
  "parameters": {
\t"email": "jane@example.com", nebo
\t"ID_email":"12345678"
  }
}"""
    response = emu.handle("/json.fcgi", doc)
    assert (response.status, response.body) == (400, b"Bad Request: body is not JSON\n")
    assert emu.wipe_queue == frozenset()


@pytest.mark.parametrize(
    "params",
    [
        {"email": "jane@example.com"},
        {"email": "JANE@Example.COM"},
        {"ID_email": "12345678"},
        {"ID_email": 12345678},
        {"ID_email": "jane@example.com"},
        {"email": "12345678"},
        {"ID_email": None, "email": "jane@example.com"},
        {"ID_email": "", "email": "jane@example.com"},
    ],
)
def test_wipe_json_names_the_recipient_by_id_or_address(
    emu: MailkitEmulator, params: dict[str, Any]
) -> None:
    """Either parameter may carry the ID or the address."""
    response = emu.handle("/json.fcgi", json_body("mailkit.email.wipe", **params))
    assert (
        response.body
        == b'{"ID_email":12345678,"email":"jane@example.com","error_status":0,"error":"OK"}'
    )
    assert emu.wipe_queue == frozenset({JANE})


def test_wipe_prefers_id_email_over_email(emu: MailkitEmulator) -> None:
    """When both are given, ID_email decides."""
    emu.add_recipient("john@example.com")
    reply = call_json(emu, "mailkit.email.wipe", ID_email="12345679", email="jane@example.com")
    assert reply["email"] == "john@example.com"
    assert emu.wipe_queue == frozenset({12345679})


@pytest.mark.parametrize(
    "params", [{}, {"email": ""}, {"ID_email": None}, {"email": "", "ID_email": ""}]
)
def test_wipe_missing_id(emu: MailkitEmulator, params: dict[str, Any]) -> None:
    assert call_json(emu, "mailkit.email.wipe", **params) == json_error("Missing ID_email")


def test_wipe_missing_id_xml(emu: MailkitEmulator) -> None:
    assert call_xml(emu, "mailkit.email.wipe") == "Missing ID_email"
    assert call_xml(emu, "mailkit.email.wipe", "") == "Missing ID_email"
    assert call_xml(emu, "mailkit.email.wipe", None) == "Missing ID_email"


@pytest.mark.parametrize(
    "key",
    ["nobody@example.com", "12345677", 99999999, "not an address", "jane@", "a b@example.com"],
)
def test_wipe_invalid_id_or_email(emu: MailkitEmulator, key: Any) -> None:
    assert call_json(emu, "mailkit.email.wipe", ID_email=key) == json_error(
        "Invalid ID_email or email"
    )
    assert call_xml(emu, "mailkit.email.wipe", key) == "Invalid ID_email or email"
    assert (emu.wipe_queue, emu.wipe_requests) == (frozenset(), {})


def test_wipe_twice_is_already_inserted_and_counted(emu: MailkitEmulator) -> None:
    call_json(emu, "mailkit.email.wipe", email="jane@example.com")
    again = emu.handle("/json.fcgi", json_body("mailkit.email.wipe", ID_email=JANE))
    assert again.body == b'{"error_status":1,"error":"Email has already been inserted"}'
    # The doc's own XML error sample.
    assert emu.handle("/rpc.fcgi", DOC_WIPE_XML).body == (
        b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
        b"<value><string>Email has already been inserted</string></value>\n"
        b"</param>\n</params>\n</methodResponse>\n"
    )
    assert emu.wipe_requests == {JANE: 3}
    assert emu.wipe_queue == frozenset({JANE})


def test_wipe_runs_once_a_day(emu: MailkitEmulator) -> None:
    """The recipient stays until process_wipe_queue(); afterwards it is gone."""
    call_json(emu, "mailkit.email.wipe", email="jane@example.com")
    assert emu.recipient(JANE) is not None
    assert emu.process_wipe_queue() == frozenset({JANE})
    assert (emu.recipient(JANE), emu.recipient("jane@example.com")) == (None, None)
    assert emu.wipe_queue == frozenset()
    assert call_xml(emu, "mailkit.email.wipe", "jane@example.com") == "Invalid ID_email or email"
    assert emu.wipe_requests == {JANE: 1}


def test_wipe_by_address_queues_every_list(emu: MailkitEmulator) -> None:
    """An address names the recipient on every list; the reply shows the lowest ID."""
    other = emu.add_recipient("Jane@Example.com", mailing_list_id=emu.add_mailing_list("News"))
    assert call_json(emu, "mailkit.email.wipe", email="jane@example.com")["ID_email"] == JANE
    assert emu.wipe_queue == frozenset({JANE, other.id_email})
    assert emu.wipe_requests == {JANE: 1, other.id_email: 1}


def test_auto_create_wipes_an_unknown_address() -> None:
    emu = MailkitEmulator(CLIENT_ID, MD5, auto_create=True)
    assert call_xml(emu, "mailkit.email.wipe", "new@example.com") == {
        "email": "new@example.com",
        "error_status": 0,
        "ID_email": JANE,
        "error": "OK",
    }
    assert emu.wipe_queue == frozenset({JANE})
    # IDs and malformed addresses are never created.
    assert call_xml(emu, "mailkit.email.wipe", "99999999") == "Invalid ID_email or email"
    assert call_xml(emu, "mailkit.email.wipe", "new@example") == "Invalid ID_email or email"
    assert emu.recipient(99999999) is None


# -- mailkit.email.revalidate ---------------------------------------------------------------


def doc_revalidate_xml(id_email: str, agreement: str, language: str) -> bytes:
    """The doc page's XML example with real values in place of the placeholders."""
    return f"""<?xml version="1.0"?>
<methodCall>
  <methodName>mailkit.email.revalidate</methodName>
  <params>
    <param><value><int>{CLIENT_ID}</int></value></param>
    <param><value><string>{MD5}</string></value></param>
    <param><value>{id_email}</value></param>
    <param><value><int>0</int></value></param>
    <param><value>{agreement}</value></param>
    <param><value><string>email</string></value></param>
    <param><value><nil/></value></param>
    <param><value><string>{language}</string></value></param>
  </params>
</methodCall>
""".encode()


def test_revalidate_doc_xml_with_agreement_resubscribes(emu: MailkitEmulator) -> None:
    jane = unsubscribed(emu)
    body = doc_revalidate_xml("<int>12345678</int>", "<boolean>1</boolean>", "cs")
    assert emu.handle("/rpc.fcgi", body).body == xml_reply("jane@example.com")
    assert jane.subscribed
    assert emu.confirmations_sent == {}


def test_revalidate_doc_xml_without_agreement_sends_a_confirmation(emu: MailkitEmulator) -> None:
    jane = unsubscribed(emu)
    body = doc_revalidate_xml("<string>jane@example.com</string>", "<boolean>0</boolean>", "EN")
    assert emu.handle("/rpc.fcgi", body).body == xml_reply("jane@example.com")
    assert emu.handle("/rpc.fcgi", body).body == xml_reply("jane@example.com")
    assert not jane.subscribed
    assert emu.confirmations_sent == {JANE: 2}


@pytest.mark.parametrize(("agreement", "subscribed"), [("TRUE", True), ("FALSE", False)])
def test_revalidate_xml_takes_string_booleans(
    emu: MailkitEmulator, agreement: str, subscribed: bool
) -> None:
    """The PHP wrappers send agreement as the string "TRUE"/"FALSE"."""
    jane = unsubscribed(emu)
    reply = call_xml(emu, "mailkit.email.revalidate", str(JANE), None, agreement, "web", None, "cs")
    assert reply == "jane@example.com"
    assert jane.subscribed is subscribed


def test_revalidate_doc_json_language_cz_is_rejected(emu: MailkitEmulator) -> None:
    """The doc's JSON example says "CZ", which is not among its own language codes."""
    unsubscribed(emu)
    body = json.dumps(
        {
            "id": CLIENT_ID,
            "md5": MD5,
            "function": "mailkit.email.revalidate",
            "parameters": {
                "email": "jane@example.com",
                "language": "CZ",
                "ID_message": "1",
                "ID_email": "12345678",
                "channel": "web",
                "agreement": "FALSE",
            },
        }
    ).encode()
    assert emu.handle("/json.fcgi", body).body == b'{"error_status":1,"error":"Invalid language"}'
    assert emu.confirmations_sent == {}


@pytest.mark.parametrize("agreement", ["TRUE", "true", "True", True])
def test_revalidate_json_agreement_true(emu: MailkitEmulator, agreement: Any) -> None:
    jane = unsubscribed(emu)
    response = emu.handle(
        "/json.fcgi",
        json_body("mailkit.email.revalidate", email="jane@example.com", agreement=agreement),
    )
    assert response.body == (
        b'{"email":"jane@example.com","error_status":0,"ID_email":"12345678",'
        b'"error":"Email has been revalidated"}'
    )
    assert jane.subscribed
    assert emu.confirmations_sent == {}


@pytest.mark.parametrize("agreement", ["FALSE", "false", False])
def test_revalidate_json_agreement_false(emu: MailkitEmulator, agreement: Any) -> None:
    jane = unsubscribed(emu)
    response = emu.handle(
        "/json.fcgi",
        json_body("mailkit.email.revalidate", ID_email=JANE, agreement=agreement, language="de"),
    )
    assert response.body == (
        b'{"email":"jane@example.com","error_status":0,"ID_email":"12345678",'
        b'"error":"Sent subscribe email"}'
    )
    assert not jane.subscribed
    assert emu.confirmations_sent == {JANE: 1}


def test_revalidate_not_unsubscribed_json_has_error_status_0(emu: MailkitEmulator) -> None:
    response = emu.handle(
        "/json.fcgi",
        json_body("mailkit.email.revalidate", email="jane@example.com", agreement="TRUE"),
    )
    assert response.body == (
        b'{"error_status":0,"ID_email":"12345678","error":"Email is not unsubscribed",'
        b'"email":"jane@example.com"}'
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (JANE, "12345678 is not unsubscribed"),
        ("12345678", "12345678 is not unsubscribed"),
        ("Jane@Example.com", "Jane@Example.com is not unsubscribed"),
    ],
)
def test_revalidate_not_unsubscribed_xml_echoes_the_key(
    emu: MailkitEmulator, key: Any, message: str
) -> None:
    assert call_xml(emu, "mailkit.email.revalidate", key, None, True) == message
    assert emu.confirmations_sent == {}


@pytest.mark.parametrize("key", [None, "nobody@example.com", "99999999", "nonsense"])
def test_revalidate_invalid_id_or_email(emu: MailkitEmulator, key: Any) -> None:
    assert call_json(emu, "mailkit.email.revalidate", ID_email=key, agreement="TRUE") == json_error(
        "Invalid ID_email or email"
    )
    assert call_xml(emu, "mailkit.email.revalidate", key, None, True) == "Invalid ID_email or email"


@pytest.mark.parametrize("agreement", [None, "", "yes", 1])
def test_revalidate_needs_an_agreement(emu: MailkitEmulator, agreement: Any) -> None:
    jane = unsubscribed(emu)
    assert call_json(
        emu, "mailkit.email.revalidate", ID_email=JANE, agreement=agreement
    ) == json_error("Invalid agreement")
    assert call_xml(emu, "mailkit.email.revalidate", JANE, None, agreement) == "Invalid agreement"
    assert not jane.subscribed


@pytest.mark.parametrize("language", ["cs", "EN", "de", "ru", "pl", "Sk", "hu", "", None])
def test_revalidate_languages(emu: MailkitEmulator, language: Any) -> None:
    unsubscribed(emu)
    args = (JANE, None, False, None, None, language)
    assert call_xml(emu, "mailkit.email.revalidate", *args) == "jane@example.com"


@pytest.mark.parametrize("language", ["cz", "fr", "english", 1])
def test_revalidate_invalid_language(emu: MailkitEmulator, language: Any) -> None:
    unsubscribed(emu)
    args = (JANE, None, False, None, None, language)
    assert call_xml(emu, "mailkit.email.revalidate", *args) == "Invalid language"
    assert emu.confirmations_sent == {}


# -- mailkit.email.unsubscribe --------------------------------------------------------------


def test_unsubscribe_json(emu: MailkitEmulator) -> None:
    response = emu.handle(
        "/json.fcgi", json_body("mailkit.email.unsubscribe", email="jane@example.com")
    )
    assert response.body == b'{"error_status":"0","ID_email":"12345678","status":"1"}'
    jane = emu.recipient(JANE)
    assert jane is not None
    assert (jane.subscribed, jane.unsubscribed_until) == (False, None)


def test_unsubscribe_xml_replies_with_the_id(emu: MailkitEmulator) -> None:
    response = emu.handle(
        "/rpc.fcgi", xml_body("mailkit.email.unsubscribe", "jane@example.com", None, True)
    )
    assert response.body == xml_reply(JANE)
    assert b"<int>12345678</int>" in response.body
    jane = emu.recipient(JANE)
    assert jane is not None
    assert not jane.subscribed


@pytest.mark.parametrize(
    "params",
    [
        ("jane@example.com", None, True, {"timeout": True, "timeout_days": 30}),
        ("jane@example.com", None, {"timeout": "true", "timeout_days": "30"}),  # the older doc
    ],
)
def test_unsubscribe_xml_temporary(emu: MailkitEmulator, params: tuple[Any, ...]) -> None:
    assert call_xml(emu, "mailkit.email.unsubscribe", *params) == JANE
    jane = emu.recipient(JANE)
    assert jane is not None
    today = datetime.datetime.now(datetime.UTC).date()
    assert jane.unsubscribed_until == today + datetime.timedelta(days=30)
    reply = call_json(emu, "mailkit.email.unsubscribe.getstatus", ID_email=JANE)
    assert reply["timeout"] == {"date": jane.unsubscribed_until.isoformat()}


@pytest.mark.parametrize("days", [None, "13", 91, "thirty", True])
def test_unsubscribe_invalid_timeout_days(emu: MailkitEmulator, days: Any) -> None:
    reply = call_json(
        emu, "mailkit.email.unsubscribe", ID_email=JANE, timeout="TRUE", timeout_days=days
    )
    assert reply == json_error("Invalid timeout_days")
    jane = emu.recipient(JANE)
    assert jane is not None
    assert jane.subscribed


@pytest.mark.parametrize("key", [None, "nobody@example.com", "99999999", "x"])
def test_unsubscribe_invalid_id_or_email(emu: MailkitEmulator, key: Any) -> None:
    assert call_json(emu, "mailkit.email.unsubscribe", ID_email=key) == json_error(
        "Invalid ID_email or email"
    )
    assert call_xml(emu, "mailkit.email.unsubscribe", key) == "Invalid ID_email or email"


def test_unsubscribe_then_revalidate_round_trip(emu: MailkitEmulator) -> None:
    call_json(emu, "mailkit.email.unsubscribe", ID_email=JANE, timeout="true", timeout_days="14")
    assert call_xml(emu, "mailkit.email.revalidate", JANE, None, True) == "jane@example.com"
    jane = emu.recipient(JANE)
    assert jane is not None
    assert (jane.subscribed, jane.unsubscribed_until) == (True, None)


# -- mailkit.email.getstatus ----------------------------------------------------------------


def status_record(
    recipient: Recipient, status: str = "enabled", *, xml: bool = False, **profile: str
) -> dict[str, object]:
    """A getstatus record: IDs are strings in JSON, <int> in XML-RPC (Czech page; FX-2018)."""
    as_id = int if xml else str
    fields = [
        "VOCATIVE",
        "PREFIX",
        "FIRST_NAME",
        "LAST_NAME",
        "NICK_NAME",
        "GENDER",
        "REPLY_TO",
        "PHONE",
        "FAX",
        "MOBILE",
        "COMPANY",
        "STREET",
        "CITY",
        "COUNTRY",
        "ZIP",
        "STATE",
    ]
    return {
        "ID_EMAIL": as_id(recipient.id_email),
        "EMAIL": recipient.email,
        "ID_MAILING_LIST": as_id(recipient.mailing_list_id),
        **{name: profile.get(name, "") for name in fields},
        "DATE": recipient.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "CHANGE_DATE": recipient.changed_at.strftime("%Y-%m-%d %H:%M:%S"),
        "STATUS": status,
        **{f"CUSTOM_{n}": profile.get(f"CUSTOM_{n}", "") for n in range(1, 26)},
    }


def test_getstatus_json_record(emu: MailkitEmulator) -> None:
    jane = emu.add_recipient(
        "jane@example.com",
        mailing_list_id=emu.add_mailing_list("News"),
        profile={"FIRST_NAME": "Jane", "GENDER": "F", "CUSTOM_25": "vip"},
    )
    reply = call_json(emu, "mailkit.email.getstatus", ID_email=jane.id_email)
    assert reply == [status_record(jane, FIRST_NAME="Jane", GENDER="F", CUSTOM_25="vip")]
    assert list(reply[0])[:3] == ["ID_EMAIL", "EMAIL", "ID_MAILING_LIST"]
    assert list(reply[0])[-26:-24] == ["STATUS", "CUSTOM_1"]


def test_getstatus_by_address_lists_every_match(emu: MailkitEmulator) -> None:
    news = emu.add_recipient("JANE@example.com", mailing_list_id=emu.add_mailing_list("News"))
    news.subscribed = False
    jane = emu.recipient(JANE)
    assert jane is not None
    expected = [status_record(jane), status_record(news, "unsubscribe")]
    assert call_json(emu, "mailkit.email.getstatus", email="jane@example.com") == expected
    expected = [status_record(jane, xml=True), status_record(news, "unsubscribe", xml=True)]
    assert call_xml(emu, "mailkit.email.getstatus", "Jane@Example.com") == expected


def test_getstatus_xml_ids_are_ints_and_the_rest_strings(emu: MailkitEmulator) -> None:
    """ID_EMAIL and ID_MAILING_LIST are <i4> on the Czech page and <int> in FX-2018."""
    response = emu.handle("/rpc.fcgi", xml_body("mailkit.email.getstatus", JANE, None))
    assert b"<name>ID_EMAIL</name>\n<value><int>12345678</int></value>" in response.body
    assert b"<name>ID_MAILING_LIST</name>\n<value><int>1</int></value>" in response.body
    assert response.body.count(b"<int>") == 2


@pytest.mark.parametrize("params", [{}, {"email": ""}, {"ID_email": None}])
def test_getstatus_missing_id_has_a_space(emu: MailkitEmulator, params: dict[str, Any]) -> None:
    response = emu.handle("/json.fcgi", json_body("mailkit.email.getstatus", **params))
    assert response.body == b'{"error_status":1,"error":"Missing ID email"}'
    assert call_xml(emu, "mailkit.email.getstatus") == "Missing ID email"


@pytest.mark.parametrize("key", ["abc", "jane@example", "12 345", "9" * 5000, 1.5, ["12345678"]])
def test_getstatus_invalid_id(emu: MailkitEmulator, key: Any) -> None:
    assert call_json(emu, "mailkit.email.getstatus", ID_email=key) == json_error("Invalid ID_email")
    if not isinstance(key, float | list):
        assert call_xml(emu, "mailkit.email.getstatus", key) == "Invalid ID_email"


@pytest.mark.parametrize("key", ["nobody@example.com", "99999999", 99999999])
def test_getstatus_unknown_is_an_empty_string(emu: MailkitEmulator, key: Any) -> None:
    response = emu.handle("/rpc.fcgi", xml_body("mailkit.email.getstatus", key))
    assert response.body == (
        b"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n"
        b"<value><string></string></value>\n</param>\n</params>\n</methodResponse>\n"
    )
    assert call_json(emu, "mailkit.email.getstatus", email=key) == json_error("")


def test_auto_create_getstatus() -> None:
    emu = MailkitEmulator(CLIENT_ID, MD5, auto_create=True)
    [record] = call_json(emu, "mailkit.email.getstatus", email="new@example.com")
    assert (record["ID_EMAIL"], record["EMAIL"], record["STATUS"]) == (
        "12345678",
        "new@example.com",
        "enabled",
    )


# -- mailkit.mailinglist.list ---------------------------------------------------------------


def test_mailinglist_list(emu: MailkitEmulator) -> None:
    assert emu.add_mailing_list("News", "Weekly news", enabled=False) == 2
    # IDs are <i4> in the 2018 XML fixture and strings in the 2018 JSON one.
    expected = [
        {"ID_USER_LIST": 1, "NAME": "Default", "DESCRIPTION": "", "STATUS": "enabled"},
        {"ID_USER_LIST": 2, "NAME": "News", "DESCRIPTION": "Weekly news", "STATUS": "disabled"},
    ]
    assert call_xml(emu, "mailkit.mailinglist.list") == expected
    # KB's client sends no "parameters" at all.
    body = json.dumps({"function": "mailkit.mailinglist.list", "id": int(CLIENT_ID), "md5": MD5})
    response = emu.handle("/json.fcgi", body.encode())
    assert response.body == (
        b'[{"ID_USER_LIST":"1","NAME":"Default","DESCRIPTION":"","STATUS":"enabled"},'
        b'{"ID_USER_LIST":"2","NAME":"News","DESCRIPTION":"Weekly news","STATUS":"disabled"}]'
    )


# -- mailkit.email.unsubscribe.getstatus ----------------------------------------------------


def test_unsubscribe_getstatus_json(emu: MailkitEmulator) -> None:
    body = json_body("mailkit.email.unsubscribe.getstatus", email="jane@example.com")
    assert emu.handle("/json.fcgi", body).body == (
        b'{"email":"jane@example.com","error_status":"0","topics":null,"ID_email":"12345678",'
        b'"unsubscribe":"FALSE","timeout":{"date":"0000-00-00"}}'
    )
    unsubscribed(emu)
    assert call_json(emu, "mailkit.email.unsubscribe.getstatus", ID_email="12345678") == {
        "email": "jane@example.com",
        "error_status": "0",
        "topics": None,
        "ID_email": "12345678",
        "unsubscribe": "TRUE",
        "timeout": {"date": "0000-00-00"},
    }


def test_unsubscribe_getstatus_xml(emu: MailkitEmulator) -> None:
    assert call_xml(emu, "mailkit.email.unsubscribe.getstatus", JANE) == "FALSE"
    call_xml(emu, "mailkit.email.unsubscribe", JANE)
    assert call_xml(emu, "mailkit.email.unsubscribe.getstatus", "jane@example.com") == "TRUE"


@pytest.mark.parametrize("key", [None, "nobody@example.com", "99999999", "x"])
def test_unsubscribe_getstatus_invalid(emu: MailkitEmulator, key: Any) -> None:
    assert call_json(emu, "mailkit.email.unsubscribe.getstatus", ID_email=key) == json_error(
        "Invalid ID_email or email"
    )
    assert call_xml(emu, "mailkit.email.unsubscribe.getstatus", key) == "Invalid ID_email or email"


# -- global errors and the envelope ---------------------------------------------------------


@pytest.mark.parametrize(
    "envelope",
    [
        {"id": CLIENT_ID, "md5": "f" * 32},
        {"id": "54321", "md5": MD5},
        {"id": int(CLIENT_ID), "md5": MD5.upper()},
        {"md5": MD5},
        {"id": CLIENT_ID},
        {"id": True, "md5": MD5},
        {"id": [CLIENT_ID], "md5": MD5},
    ],
)
def test_unauthorized_json(emu: MailkitEmulator, envelope: dict[str, Any]) -> None:
    body = json.dumps(
        {"function": "mailkit.email.wipe", "parameters": {"ID_email": JANE}, **envelope}
    )
    response = emu.handle("/json.fcgi", body.encode())
    assert (response.status, response.headers) == (200, JSON_HEADERS)
    assert response.body == b'{"error_status":1,"error":"Unauthorized"}'
    assert emu.wipe_queue == frozenset()


@pytest.mark.parametrize(("client_id", "md5"), [(12345, "f" * 32), ("54321", MD5), ("012345", MD5)])
def test_unauthorized_xml(emu: MailkitEmulator, client_id: Any, md5: str) -> None:
    response = emu.handle(
        "/rpc.fcgi", xml_body("mailkit.email.wipe", JANE, client_id=client_id, md5=md5)
    )
    assert response.body == xml_reply("Unauthorized")
    assert emu.wipe_queue == frozenset()


def test_unauthorized_xml_without_credentials(emu: MailkitEmulator) -> None:
    body = xmlrpc.client.dumps((), "mailkit.mailinglist.list").encode()
    assert emu.handle("/rpc.fcgi", body).body == xml_reply("Unauthorized")


def test_xml_client_id_as_string_is_accepted(emu: MailkitEmulator) -> None:
    """The PHP wrappers send client_id as a <string>."""
    assert (
        call_xml(emu, "mailkit.email.unsubscribe.getstatus", JANE, client_id=CLIENT_ID) == "FALSE"
    )


def test_disallowed_ip_is_checked_before_credentials() -> None:
    emu = MailkitEmulator(CLIENT_ID, MD5, allowed_ips=[])
    bad_md5 = xml_body("mailkit.mailinglist.list", md5="x")
    assert emu.handle("/rpc.fcgi", bad_md5).body == xml_reply("Disallowed IP 127.0.0.1")
    response = emu.handle("/json.fcgi", json_body("mailkit.mailinglist.list"))
    assert response.body == b'{"error_status":1,"error":"Disallowed IP 127.0.0.1"}'


def test_allowed_ips_take_addresses_and_networks() -> None:
    for allowed in (["127.0.0.1"], ["127.0.0.0/8"], {"127.0.0.1"}):
        emu = MailkitEmulator(CLIENT_ID, MD5, allowed_ips=allowed)
        assert call_xml(emu, "mailkit.mailinglist.list")[0]["NAME"] == "Default"
    emu = MailkitEmulator(CLIENT_ID, MD5, allowed_ips=["127.0.0.1"])
    response = emu.handle("/rpc.fcgi", xml_body("mailkit.mailinglist.list"), client_ip="not-an-ip")
    assert response.body == xml_reply("Disallowed IP not-an-ip")


def test_allowed_ips_must_be_a_collection() -> None:
    with pytest.raises(TypeError, match="not one string"):
        MailkitEmulator(CLIENT_ID, MD5, allowed_ips="127.0.0.1")
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        MailkitEmulator(CLIENT_ID, MD5, allowed_ips=["nonsense"])


def test_unknown_function(emu: MailkitEmulator) -> None:
    assert call_json(emu, "mailkit.email.nonsense") == json_error("Unknown function")
    # A function of the index the emulator does not play.
    assert call_xml(emu, "mailkit.campaigns.messages", JANE) == "Unknown function"


def test_unknown_function_after_credentials(emu: MailkitEmulator) -> None:
    body = xml_body("mailkit.email.nonsense", md5="x")
    assert emu.handle("/rpc.fcgi", body).body == xml_reply("Unauthorized")


@pytest.mark.parametrize("path", ["/", "/json", "/rpc.fcgi/x", "/JSON.FCGI", ""])
def test_other_paths_are_404(emu: MailkitEmulator, path: str) -> None:
    response = emu.handle(path, json_body("mailkit.mailinglist.list"))
    assert (response.status, response.body) == (404, b"Not Found\n")


def test_query_string_is_ignored(emu: MailkitEmulator) -> None:
    response = emu.handle("/json.fcgi?x=1", json_body("mailkit.mailinglist.list"))
    assert response.status == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "post"])
def test_other_methods_are_405(emu: MailkitEmulator, method: str) -> None:
    response = emu.handle("/rpc.fcgi", b"", method=method)
    assert (response.status, response.body) == (405, b"Method Not Allowed\n")
    assert ("Allow", "POST") in response.headers


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", b"body is not JSON"),
        (b"{", b"body is not JSON"),
        (b"\xff\xfe{}", b"body is not JSON"),
        (b"[" * 100_000, b"body is not JSON"),
        (b"[]", b"expected a JSON object with a string 'function'"),
        (b'{"function": 1}', b"expected a JSON object with a string 'function'"),
        (
            b'{"function": "mailkit.email.wipe", "parameters": [1]}',
            b"'parameters' must be a JSON object",
        ),
    ],
)
def test_malformed_json_is_400(emu: MailkitEmulator, body: bytes, reason: bytes) -> None:
    response = emu.handle("/json.fcgi", body)
    assert response.status == 400
    assert response.headers == (("Content-Type", "text/plain; charset=utf-8"),)
    assert response.body == b"Bad Request: " + reason + b"\n"
    assert emu.calls == []


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<methodCall><methodName>&lol2;</methodName><params></params></methodCall>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>mailkit.email.wipe</methodName><params>
<param><value>&ext;</value></param></params></methodCall>"""


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<methodCall>",
        b"not xml",
        b"<!DOCTYPE methodCall>" + xml_body("mailkit.mailinglist.list").partition(b"?>")[2],
        LAUGHS,
        EXTERNAL,
        b"<methodCall><params><param><value>x</value></param></params></methodCall>",
        b"<methodCall><methodName>f</methodName><params><param><value><int>x</int></value>"
        b"</param></params></methodCall>",
        b"<methodCall><methodName>f</methodName><params><param><value><boolean>2</boolean>"
        b"</value></param></params></methodCall>",
        b"<methodCall><methodName>f</methodName><params><param><value><struct><member>"
        b"<value>1</value></member></struct></value></param></params></methodCall>",
        xmlrpc.client.dumps(xmlrpc.client.Fault(1, "x"), methodresponse=True).encode(),
        xml_reply("OK"),
    ],
)
def test_malformed_xmlrpc_is_400(emu: MailkitEmulator, body: bytes) -> None:
    response = emu.handle("/rpc.fcgi", body)
    assert (response.status, response.body) == (
        400,
        b"Bad Request: body is not an XML-RPC methodCall\n",
    )
    assert emu.calls == []


@given(st.binary(max_size=300), st.sampled_from(["/json.fcgi", "/rpc.fcgi"]))
def test_any_body_gets_an_http_answer(body: bytes, path: str) -> None:
    """No byte string makes the core raise."""
    emu = MailkitEmulator(CLIENT_ID, MD5)
    assert emu.handle(path, body).status in (200, 400)


# Text that XML can carry: no control characters, no lone surrogates.
xml_text = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20)
wire_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31 - 1) | xml_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(xml_text, inner, max_size=3),
    max_leaves=10,
)


@given(
    wire_values,
    st.sampled_from(
        [
            "mailkit.email.wipe",
            "mailkit.email.revalidate",
            "mailkit.email.unsubscribe",
            "mailkit.email.getstatus",
            "mailkit.email.unsubscribe.getstatus",
            "mailkit.mailinglist.list",
        ]
    ),
)
def test_any_parameter_values_get_an_api_answer(value: Any, function: str) -> None:
    """Odd parameter values of either protocol end in a reply, never in an exception."""
    emu = MailkitEmulator(CLIENT_ID, MD5, auto_create=True)
    emu.add_recipient("jane@example.com")
    names = ["email", "ID_email", "agreement", "language", "timeout", "timeout_days"]
    assert (
        emu.handle("/json.fcgi", json_body(function, **dict.fromkeys(names, value))).status == 200
    )
    assert (
        emu.handle("/rpc.fcgi", xml_body(function, value, value, value, value, value, value)).status
        == 200
    )


def test_xml_missing_trailing_params_and_nil(emu: MailkitEmulator) -> None:
    """Optional positional params may be <nil/> or simply absent; extra ones are ignored."""
    unsubscribed(emu)
    assert call_xml(emu, "mailkit.email.revalidate", JANE, None, "FALSE") == "jane@example.com"
    assert (
        call_xml(emu, "mailkit.email.getstatus", JANE, None, "extra", 4)[0]["EMAIL"]
        == "jane@example.com"
    )
    assert emu.confirmations_sent == {JANE: 1}


# -- inject, calls ------------------------------------------------------------------------


def test_inject_replaces_the_next_calls_without_state_change(emu: MailkitEmulator) -> None:
    emu.inject(
        "mailkit.email.wipe",
        b"<html>busy</html>",
        status=503,
        content_type="text/html",
        headers={"Retry-After": "1"},
        times=2,
    )
    for _ in range(2):
        response = emu.handle("/rpc.fcgi", xml_body("mailkit.email.wipe", JANE))
        assert response.status == 503
        assert response.headers == (("Content-Type", "text/html"), ("Retry-After", "1"))
        assert response.body == b"<html>busy</html>"
    assert emu.wipe_queue == frozenset()
    assert call_json(emu, "mailkit.email.wipe", ID_email=JANE)["error"] == "OK"
    assert emu.calls == [("xmlrpc", "mailkit.email.wipe")] * 2 + [("json", "mailkit.email.wipe")]


def test_inject_skips_other_functions_and_checks(emu: MailkitEmulator) -> None:
    """Only the named function is hit; the reply wins over credentials."""
    emu.inject("mailkit.email.getstatus", b"<string>odd</string>")
    assert call_xml(emu, "mailkit.email.unsubscribe.getstatus", JANE) == "FALSE"
    response = emu.handle("/rpc.fcgi", xml_body("mailkit.email.getstatus", JANE, md5="wrong"))
    assert (response.status, response.headers, response.body) == (
        200,
        (("Content-Type", "text/plain"),),
        b"<string>odd</string>",
    )
    assert call_xml(emu, "mailkit.email.getstatus", JANE, md5="wrong") == "Unauthorized"


def test_inject_star_matches_even_unparseable_bodies(emu: MailkitEmulator) -> None:
    emu.inject("*", b"", status=500, content_type=None)
    response = emu.handle("/json.fcgi", b"garbage")
    assert (response.status, response.headers, response.body) == (500, (), b"")
    assert emu.handle("/json.fcgi", b"garbage").status == 400


def test_injections_are_used_in_order(emu: MailkitEmulator) -> None:
    emu.inject("*", b"first")
    emu.inject("mailkit.email.wipe", b"second")
    bodies = [emu.handle("/json.fcgi", json_body("mailkit.email.wipe")).body for _ in range(3)]
    assert bodies == [b"first", b"second", b'{"error_status":1,"error":"Missing ID_email"}']


@pytest.mark.parametrize(
    "kwargs",
    [
        {"times": 0},
        {"headers": {"X": "a\r\nB: c"}},
        {"headers": {"X": "\u00e9"}},
        {"content_type": "a\nb"},
    ],
)
def test_inject_rejects_what_cannot_be_sent(emu: MailkitEmulator, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"times|header"):
        emu.inject("*", b"", **kwargs)


def test_calls_records_protocol_and_function_in_order(emu: MailkitEmulator) -> None:
    emu.handle("/json.fcgi", json_body("mailkit.mailinglist.list"))
    emu.handle("/rpc.fcgi", xml_body("mailkit.email.wipe", JANE, md5="wrong"))
    emu.handle("/rpc.fcgi", b"junk")
    emu.handle("/json.fcgi", json_body("no.such.function"))
    assert emu.calls == [
        ("json", "mailkit.mailinglist.list"),
        ("xmlrpc", "mailkit.email.wipe"),
        ("json", "no.such.function"),
    ]


# -- arranging state ----------------------------------------------------------------------


def test_add_recipient_assigns_ids_and_validates() -> None:
    emu = MailkitEmulator(CLIENT_ID, MD5)
    jane = emu.add_recipient("jane@example.com", subscribed=False)
    john = emu.add_recipient("john@example.com")
    assert (jane.id_email, john.id_email) == (12345678, 12345679)
    assert (jane.subscribed, jane.mailing_list_id) == (False, 1)
    assert emu.recipient("JOHN@example.com") is john
    assert emu.recipient("12345678") is jane
    assert emu.recipient(12345680) is None
    with pytest.raises(ValueError, match="already on mailing list 1"):
        emu.add_recipient("Jane@Example.com")
    with pytest.raises(ValueError, match="no mailing list 7"):
        emu.add_recipient("x@example.com", mailing_list_id=7)
    with pytest.raises(ValueError, match="not an email address"):
        emu.add_recipient("x@example")
    with pytest.raises(ValueError, match="unknown profile keys"):
        emu.add_recipient("x@example.com", profile={"first_name": "x"})
    with pytest.raises(AttributeError):
        jane.email = "other@example.com"


def test_state_views_are_copies(emu: MailkitEmulator) -> None:
    call_json(emu, "mailkit.email.wipe", ID_email=JANE)
    emu.wipe_requests.clear()
    emu.calls.clear()
    assert emu.wipe_requests == {JANE: 1}
    assert emu.calls == [("json", "mailkit.email.wipe")]


# -- in-process httpx transport -------------------------------------------------------------


async def test_transport_serves_an_async_client(emu: MailkitEmulator) -> None:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu), base_url="http://127.0.0.1"
    ) as client:
        response = await client.post(
            "/json.fcgi", content=json_body("mailkit.email.wipe", ID_email=JANE)
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-length"] == str(len(response.content))
        assert response.json() == {
            "ID_email": JANE,
            "email": "jane@example.com",
            "error_status": 0,
            "error": "OK",
        }
        response = await client.post("/rpc.fcgi", content=xml_body("mailkit.email.wipe", JANE))
        assert xmlrpc.client.loads(response.content)[0] == ("Email has already been inserted",)
        assert (await client.get("/rpc.fcgi")).status_code == 405
        assert (await client.post("/other", content=b"")).status_code == 404
    assert emu.wipe_requests == {JANE: 2}


async def test_transport_client_ip(emu: MailkitEmulator) -> None:
    """The transport's client_ip is what the allow-list sees."""
    guarded = MailkitEmulator(CLIENT_ID, MD5, allowed_ips=["127.0.0.1"])
    body = json_body("mailkit.mailinglist.list")
    async with httpx.AsyncClient(transport=guarded.transport(client_ip="peer-label")) as client:
        response = await client.post("http://127.0.0.1/json.fcgi", content=body)
    assert response.json() == json_error("Disallowed IP peer-label")
    async with httpx.AsyncClient(transport=EmulatorTransport(guarded)) as client:
        response = await client.post("http://127.0.0.1/json.fcgi", content=body)
    assert response.json()[0]["NAME"] == "Default"


def test_clear_calls_forgets_the_log_but_not_the_state() -> None:
    """clear_calls empties the call log; recipients and the wipe queue stay."""
    emu = MailkitEmulator(CLIENT_ID, MD5)
    jane = emu.add_recipient("jane@example.com")
    body = json.dumps(
        {
            "function": "mailkit.email.wipe",
            "id": CLIENT_ID,
            "md5": MD5,
            "parameters": {"email": "jane@example.com"},
        }
    ).encode()
    emu.handle("/json.fcgi", body)
    assert emu.calls == [("json", "mailkit.email.wipe")]
    emu.clear_calls()
    assert emu.calls == []
    assert emu.wipe_queue == {jane.id_email}
