"""The two codecs: what they send and what they read, against the published documents.

Proves that the JSON envelope is the published example (flags as "true"/"false" strings only
where documented, non-ASCII as UTF-8); that XML-RPC calls carry the credentials and then the
documented positions in their documented types (absent ones as their kind's empty value or
left off at the end, `<nil/>` only when asked, the revalidate dummy placeholder kept); that
both refuse what they cannot carry before anything is sent; and that the published answer
documents, and the echoes servers really send, decode as documented.
"""

from __future__ import annotations

import json
import xmlrpc.client
from pathlib import Path

import pytest

import mailkit_async as mk
from mailkit_async._classify import REVALIDATE, WIPE, classify_revalidate, classify_wipe
from mailkit_async._credentials import Credentials
from mailkit_async._functions import FUNCTIONS

FIXTURES = Path(__file__).parent / "fixtures"
CREDS = Credentials("12345", "0123456789abcdef0123456789abcdef")


def xml_params(body: bytes) -> tuple[tuple[object, ...], str | None]:
    """The stdlib's reading of our request: an independent check of the encoder."""
    params, method = xmlrpc.client.loads(body, use_builtin_types=True)
    return params, method


# --- JSON ---------------------------------------------------------------------------------


def test_json_envelope_matches_the_published_example() -> None:
    """function, id (a string), md5 and parameters, as on the wipe page."""
    body = mk.JsonCodec().encode_call("mailkit.email.wipe", {"email": "example@example.com"}, CREDS)
    assert json.loads(body) == {
        "function": "mailkit.email.wipe",
        "id": "12345",
        "md5": "0123456789abcdef0123456789abcdef",
        "parameters": {"email": "example@example.com"},
    }


def test_json_flags_become_true_false_strings_only_where_documented() -> None:
    """agreement is "TRUE"/"FALSE" in Mailkit's JSON; other bools stay JSON booleans."""
    body = mk.JsonCodec().encode_call(
        "mailkit.email.revalidate", {"email": "a@b.cz", "agreement": False, "x": True}, CREDS
    )
    assert json.loads(body)["parameters"] == {"email": "a@b.cz", "agreement": "FALSE", "x": True}


def test_json_keeps_non_ascii_as_utf8() -> None:
    """Czech diacritics go out as UTF-8, not \\u escapes."""
    body = mk.JsonCodec().encode_call("mailkit.mailinglist.create", {"name": "Příliš"}, CREDS)
    assert "Příliš".encode() in body


@pytest.mark.parametrize(
    "params",
    [
        {"x": float("nan")},
        {"x": object()},
        {"x": "\ud800"},
        ["positional"],
    ],
)
def test_json_refuses_what_it_cannot_carry(params: object) -> None:
    """NaN, unknown types, lone surrogates and positional lists fail before sending."""
    with pytest.raises(mk.InvalidArgumentError) as info:
        mk.JsonCodec().encode_call("mailkit.x.y", params, CREDS)  # type: ignore[arg-type]
    assert CREDS.md5 not in str(info.value)


@pytest.mark.parametrize(
    "name",
    [
        "wipe_ok.json",
        "wipe_invalid.json",
        "revalidate_sent.json",
        "revalidate_not_unsubscribed.json",
    ],
)
def test_json_decodes_the_published_documents(name: str) -> None:
    """The pages' JSON answers, byte for byte, decode to what json.loads gives."""
    body = (FIXTURES / name).read_bytes()
    assert mk.JsonCodec().decode_reply(body, function="f") == json.loads(body)


# --- XML-RPC encoding ----------------------------------------------------------------------


def test_xmlrpc_wipe_sends_credentials_then_one_string() -> None:
    """Wipe's only position is a <string>, even for a numeric ID (DOC wipe)."""
    body = mk.XmlRpcCodec().encode_call("mailkit.email.wipe", {"ID_email": 12345678}, CREDS)
    params, method = xml_params(body)
    assert method == "mailkit.email.wipe"
    assert params == (12345, "0123456789abcdef0123456789abcdef", "12345678")
    assert b"<string>12345678</string>" in body


def test_xmlrpc_revalidate_keeps_the_dummy_placeholder() -> None:
    """language lands sixth: ID_email, ID_message, agreement, channel, dummy, language."""
    body = mk.XmlRpcCodec().encode_call(
        "mailkit.email.revalidate",
        {"ID_email": "123", "agreement": True, "channel": "phone", "language": "en"},
        CREDS,
    )
    params, _ = xml_params(body)
    assert params[2:] == (123, "", True, "phone", "", "en")
    assert b"<boolean>1</boolean>" in body
    assert b"<nil/>" not in body


def test_xmlrpc_revalidate_is_sent_whole_as_the_wrappers_send_it() -> None:
    """An order with a placeholder goes whole: all six positions, the absent ones empty."""
    body = mk.XmlRpcCodec().encode_call(
        "mailkit.email.revalidate", {"email": "a@b.cz", "agreement": "FALSE"}, CREDS
    )
    params, _ = xml_params(body)
    assert params[2:] == ("a@b.cz", "", False, "", "", "")
    assert body.count(b"<value><string/></value>") == 4
    assert b"<nil/>" not in body


def test_xmlrpc_trailing_unfilled_positions_are_left_off() -> None:
    """Without a placeholder, trailing absent positions are not sent (the wrappers' getstatus)."""
    body = mk.XmlRpcCodec().encode_call("mailkit.email.getstatus", {"email": "a@b.cz"}, CREDS)
    assert xml_params(body)[0][2:] == ("a@b.cz",)
    body = mk.XmlRpcCodec().encode_call(
        "mailkit.email.unsubscribe", {"email": "a@b.cz", "send_optout": True}, CREDS
    )
    assert xml_params(body)[0][2:] == ("a@b.cz", "", True)


def test_xmlrpc_unsubscribe_builds_its_timeout_struct() -> None:
    """timeout and timeout_days share the fourth position as a struct (newer DOC)."""
    body = mk.XmlRpcCodec().encode_call(
        "mailkit.email.unsubscribe",
        {"email": "a@b.cz", "send_optout": False, "timeout": True, "timeout_days": 30},
        CREDS,
    )
    params, _ = xml_params(body)
    assert params[2:] == ("a@b.cz", "", False, {"timeout": True, "timeout_days": 30})


def test_xmlrpc_absent_positions_are_their_kinds_empty_value() -> None:
    """An absent boolean, int or string is <string/>; an absent struct is an empty struct."""
    body = mk.XmlRpcCodec().encode_call(
        "mailkit.mailinglist.adduser", {"ID_user_list": 7, "custom": {"custom1": "eA=="}}, CREDS
    )
    assert xml_params(body)[0][2:] == (7, "", {}, {}, {"custom1": "eA=="})
    assert b"<value><struct></struct></value>" in body
    body = mk.XmlRpcCodec().encode_call(
        "mailkit.email.unsubscribe", {"email": "a@b.cz", "timeout": True}, CREDS
    )
    assert xml_params(body)[0][2:] == ("a@b.cz", "", "", {"timeout": True})


def test_xmlrpc_send_nil_sends_nil_for_absent_values() -> None:
    """For a server that wants the extension: absent positions and None become <nil/>."""
    codec = mk.XmlRpcCodec(send_nil=True)
    assert codec.send_nil
    body = codec.encode_call(
        "mailkit.email.revalidate", {"email": "a@b.cz", "agreement": True}, CREDS
    )
    assert xml_params(body)[0][2:] == ("a@b.cz", None, True, None, None, None)
    body = codec.encode_call("mailkit.x.y", [None, {"a": None}], CREDS)
    assert xml_params(body)[0][2:] == (None, {"a": None})
    body = mk.XmlRpcCodec().encode_call("mailkit.x.y", [None, {"a": None}], CREDS)
    assert xml_params(body)[0][2:] == ("", {"a": ""})
    with pytest.raises(mk.InvalidArgumentError, match="send_nil"):
        mk.XmlRpcCodec(send_nil="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("client_id", "sent"),
    [
        ("12345", 12345),
        ("0", 0),
        ("2147483647", 2**31 - 1),
        ("0042", "0042"),  # <int>42</int> would be another credential
        ("00", "00"),
        ("2147483648", "2147483648"),  # past <int>'s 32 bits
        ("99999999999", "99999999999"),
        ("ab12", "ab12"),
        ("+5", "+5"),
        ("\u0661\u0662", "\u0661\u0662"),  # Arabic-Indic digits are not a number here
    ],
)
def test_xmlrpc_client_id_goes_as_int_only_when_an_int_keeps_it(
    client_id: str, sent: object
) -> None:
    """The pages show <int>; an ID an <int> would change goes as the wrappers' <string>."""
    body = mk.XmlRpcCodec().encode_call("mailkit.mailinglist.list", {}, Credentials(client_id, "m"))
    received = xml_params(body)[0][0]
    assert received == sent
    assert type(received) is type(sent)


@pytest.mark.parametrize(
    ("function", "params", "sent"),
    [
        ("mailkit.email.delete", {"email_id": "42"}, (42,)),
        ("mailkit.email.delete", {"email_id": 42}, (42,)),
        ("mailkit.email.delete", {"email_id": "0042"}, ("0042",)),  # kept: not 42
        ("mailkit.email.delete", {"email_id": "a@b.cz"}, ("a@b.cz",)),
        ("mailkit.email.move", {"email_id": 1, "ID_mailing_list": "0042"}, (1, 42)),
        ("mailkit.mailinglist.create", {"name": 5, "description": 6}, ("5", "6")),
        ("mailkit.mailinglist.delete", {"ID_user_list": 3, "keep_list": True}, (3, "TRUE")),
        ("mailkit.mailinglist.delete", {"ID_user_list": 3, "keep_list": "false"}, (3, "FALSE")),
        ("mailkit.mailinglist.adduser", {"ID_user_list": 3, "confirm": "true"}, (3, True)),
    ],
)
def test_xmlrpc_values_take_their_positions_documented_type(
    function: str, params: dict[str, object], sent: tuple[object, ...]
) -> None:
    """Each position's documented type decides what is sent (REFERENCE 4, function pages)."""
    received = xml_params(mk.XmlRpcCodec().encode_call(function, params, CREDS))[0][2:]
    assert received == sent
    assert [type(value) for value in received] == [type(value) for value in sent]


def test_xmlrpc_explicit_positional_list_for_unknown_order() -> None:
    """A function without a known order is callable with an explicit list."""
    body = mk.XmlRpcCodec().encode_call(
        "mailkit.campaigns.messages", [1, "x", {"a": [1, 2]}], CREDS
    )
    assert xml_params(body)[0][2:] == (1, "x", {"a": [1, 2]})


def test_xmlrpc_named_params_for_unknown_order_name_the_function() -> None:
    """Named parameters need a known order; the error says which function and what to do."""
    with pytest.raises(mk.UnknownFunctionOrderError, match=r"mailkit\.campaigns\.messages"):
        mk.XmlRpcCodec().encode_call("mailkit.campaigns.messages", {"a": 1}, CREDS)


@pytest.mark.parametrize(
    ("function", "params", "match"),
    [
        ("mailkit.email.wipe", {}, "required"),
        ("mailkit.email.wipe", {"email": "a@b.cz", "ID_email": "1"}, "only one"),
        ("mailkit.email.wipe", {"email": "a@b.cz", "extra": 1}, "no XML-RPC position"),
        ("mailkit.email.revalidate", {"email": "a@b.cz", "agreement": "maybe"}, "TRUE"),
        ("mailkit.email.revalidate", {"email": "a@b.cz"}, "agreement"),
        (
            "mailkit.email.revalidate",
            {"email": "a@b.cz", "agreement": True, "ID_template": 3},
            "ID_template",
        ),
        ("mailkit.mailinglist.delete", {"ID_user_list": "list-one"}, "integer"),
        ("mailkit.mailinglist.delete", {"ID_user_list": True}, "integer"),
        ("mailkit.mailinglist.delete", {"ID_user_list": 1.5}, "integer"),
        ("mailkit.mailinglist.delete", {"ID_user_list": 1, "keep_list": 1}, "TRUE"),
        ("mailkit.mailinglist.create", {"name": 1.5}, "string"),
        ("mailkit.mailinglist.create", {"name": True}, "string"),
        ("mailkit.mailinglist.adduser", {"ID_user_list": 1, "personal": ["x"]}, "mapping"),
        ("mailkit.mailinglist.adduser", {"ID_user_list": 1, "confirm": 1}, "TRUE"),
        ("mailkit.email.delete", {"email_id": 1.0}, "ID or an email address"),
        ("mailkit.email.delete", {"email_id": b"a@b.cz"}, "ID or an email address"),
        ("mailkit.x.y", [2**64], "64-bit"),
        ("mailkit.x.y", ["bell\x07"], "XML cannot carry"),
        ("mailkit.x.y", [{1: "a"}], "keys must be str"),
        ("mailkit.x.y", [float("inf")], "NaN or infinity"),
        ("mailkit.x.y", [object()], "cannot carry"),
    ],
)
def test_xmlrpc_refuses_bad_calls_before_sending(function: str, params: object, match: str) -> None:
    """Each refusal is an InvalidArgumentError that says what is wrong."""
    with pytest.raises(mk.InvalidArgumentError, match=match):
        mk.XmlRpcCodec().encode_call(function, params, CREDS)  # type: ignore[arg-type]


def test_xmlrpc_refuses_a_self_containing_list() -> None:
    """A cycle is refused rather than recursing forever."""
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(mk.InvalidArgumentError, match="cycles"):
        mk.XmlRpcCodec().encode_call("mailkit.x.y", [loop], CREDS)


def test_xmlrpc_escapes_markup_in_strings() -> None:
    """<, > and & in values are escaped, so a value cannot inject elements."""
    value = "</string></value><value><int>1</int>&amp;"
    body = mk.XmlRpcCodec().encode_call("mailkit.x.y", [value], CREDS)
    assert xml_params(body)[0][2] == value


# --- XML-RPC decoding of the published documents --------------------------------------------


def test_xmlrpc_decodes_the_published_wipe_struct() -> None:
    """The wipe page's success struct, with its indentation, decodes to four members."""
    value = mk.XmlRpcCodec().decode_reply((FIXTURES / "wipe_ok.xml").read_bytes(), function="f")
    assert value == {
        "email": "example@example.com",
        "error_status": 0,
        "ID_email": 12345678,
        "error": "OK",
    }
    assert classify_wipe(value, WIPE, function="f").status is mk.WipeStatus.QUEUED


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("wipe_already_inserted.xml", mk.WipeStatus.ALREADY_QUEUED),
    ],
)
def test_xmlrpc_wipe_bare_strings(name: str, status: mk.WipeStatus) -> None:
    """The wipe page's error answer is a bare string."""
    value = mk.XmlRpcCodec().decode_reply((FIXTURES / name).read_bytes(), function="f")
    assert classify_wipe(value, WIPE, function="f").status is status


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("revalidate_ok.xml", mk.RevalidateStatus.CONFIRMATION_SENT),
        ("revalidate_not_unsubscribed.xml", mk.RevalidateStatus.NOT_UNSUBSCRIBED),
    ],
)
def test_xmlrpc_revalidate_documents(name: str, status: mk.RevalidateStatus) -> None:
    """The revalidate page's answers: the bare address, and '<address> is not unsubscribed'."""
    value = mk.XmlRpcCodec().decode_reply((FIXTURES / name).read_bytes(), function="f")
    result = classify_revalidate(
        value, REVALIDATE, function="f", agreement=False, requested_email="example@example.cz"
    )
    assert result.status is status


def test_every_xmlrpc_order_names_known_slots_once() -> None:
    """The table is self-consistent: no JSON name feeds two positions of one function."""
    for spec in FUNCTIONS.values():
        names = [n for slot in spec.xmlrpc_order or () for n in (*slot.sources, *slot.members)]
        assert len(names) == len(set(names)), spec.name


def test_xmlrpc_wipe_answer_with_an_auto_typed_echo_is_read() -> None:
    """XMLRPC::Lite types scalars by their look: an echoed "12345678" comes back as <int>."""
    body = (
        b"<?xml version='1.0'?><methodResponse><params><param><value><struct>"
        b"<member><name>email</name><value><int>12345678</int></value></member>"
        b"<member><name>error_status</name><value><int>0</int></value></member>"
        b"<member><name>ID_email</name><value><int>12345678</int></value></member>"
        b"<member><name>error</name><value><string>OK</string></value></member>"
        b"</struct></value></param></params></methodResponse>"
    )
    value = mk.XmlRpcCodec().decode_reply(body, function="mailkit.email.wipe")
    result = classify_wipe(value, WIPE, function="mailkit.email.wipe")
    assert result.status is mk.WipeStatus.QUEUED
    assert (result.email, result.id_email, result.error_status) == ("12345678", 12345678, 0)


@pytest.mark.parametrize("echo", ["<boolean>1</boolean>", "<double>1.5</double>", "<struct/>"])
def test_xmlrpc_wipe_answer_with_an_echo_no_server_types_that_way_is_refused(echo: str) -> None:
    """Only an int reads as the echo's text; a bool or a float would be another string."""
    body = (
        b"<methodResponse><params><param><value><struct>"
        b"<member><name>email</name><value>%s</value></member>"
        b"<member><name>error</name><value>OK</value></member>"
        b"</struct></value></param></params></methodResponse>" % echo.encode()
    )
    value = mk.XmlRpcCodec().decode_reply(body, function="mailkit.email.wipe")
    with pytest.raises(mk.MalformedResponseError, match="email"):
        classify_wipe(value, WIPE, function="mailkit.email.wipe")
