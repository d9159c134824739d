"""Every documented response string, in both the JSON and the XML-RPC shape, to its status.

Proves that each string of the wipe and revalidate tables (every one, counted) gives its
status in every shape it travels in, a bare XML-RPC address only when it is the recipient
asked about; that undocumented strings, or a success string with a non-zero error_status,
are an explicit unknown with the raw text; that wrong shapes raise MalformedResponseError and
the global strings (not their near misses) AuthenticationError; and that extra_messages add
strings and patterns, checked.
"""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mailkit_async as mk
from mailkit_async._classify import (
    REVALIDATE,
    WIPE,
    build_tables,
    classify_revalidate,
    classify_wipe,
    raise_for_api_error,
    raise_for_global_error,
)
from mailkit_async._functions import FUNCTIONS

W = mk.WipeStatus
R = mk.RevalidateStatus

# (message, JSON error_status the API sends with it, expected status). DOC wipe page.
WIPE_STRINGS = [
    ("OK", 0, W.QUEUED),
    ("Email has already been inserted", 1, W.ALREADY_QUEUED),
    ("Invalid ID_email or email", 1, W.INVALID_RECIPIENT),
    ("Invalid_ID_email or email", 1, W.INVALID_RECIPIENT),
    ("Missing ID_email", 1, W.MISSING_RECIPIENT),
]

# DOC revalidate page; W-MK; FX-2018.
REVALIDATE_STRINGS = [
    ("Email has been revalidated", 0, R.REVALIDATED),
    ("Sent subscribe email", 0, R.CONFIRMATION_SENT),
    ("Email is not unsubscribed", 0, R.NOT_UNSUBSCRIBED),  # refused with error_status 0
    ("example@example.cz is not unsubscribed", 1, R.NOT_UNSUBSCRIBED),
    ("12345678 is not unsubscribed", 1, R.NOT_UNSUBSCRIBED),
    ("Invalid ID_email or email", 1, R.INVALID_RECIPIENT),
    ("Missing ID_email", 1, R.MISSING_RECIPIENT),
]


def _json_shape(message: str, error_status: int | str) -> dict[str, object]:
    return {
        "email": "a@example.com",
        "error_status": error_status,
        "ID_email": "12",
        "error": message,
    }


@pytest.mark.parametrize(("message", "error_status", "status"), WIPE_STRINGS)
def test_wipe_strings_as_bare_xmlrpc_string(message: str, error_status: int, status: W) -> None:
    """A bare XML-RPC string classifies by its text alone."""
    result = classify_wipe(message, WIPE, function="w")
    assert (result.status, result.message, result.error_status) == (status, message, None)


@pytest.mark.parametrize(("message", "error_status", "status"), WIPE_STRINGS)
@pytest.mark.parametrize("as_text", [False, True])
def test_wipe_strings_as_json_object(
    message: str, error_status: int, status: W, as_text: bool
) -> None:
    """A JSON object classifies by `error`; error_status arrives as int or string."""
    reply = _json_shape(message, str(error_status) if as_text else error_status)
    result = classify_wipe(reply, WIPE, function="w")
    assert result.status is status
    assert (result.id_email, result.email, result.error_status) == (
        12,
        "a@example.com",
        error_status,
    )


def test_wipe_xmlrpc_struct_from_the_published_page() -> None:
    """The XML-RPC success struct carries email, error_status, ID_email and error."""
    struct = {
        "email": "example@example.com",
        "error_status": 0,
        "ID_email": 12345678,
        "error": "OK",
    }
    result = classify_wipe(struct, WIPE, function="w")
    assert result == mk.WipeResult(
        status=W.QUEUED,
        message="OK",
        id_email=12345678,
        email="example@example.com",
        error_status=0,
    )


@pytest.mark.parametrize(("message", "error_status", "status"), REVALIDATE_STRINGS)
def test_revalidate_strings_in_both_shapes(message: str, error_status: int, status: R) -> None:
    """Every documented revalidate string, bare and inside a JSON object."""
    bare = classify_revalidate(
        message, REVALIDATE, function="r", agreement=True, requested_email=None
    )
    wrapped = classify_revalidate(
        _json_shape(message, error_status),
        REVALIDATE,
        function="r",
        agreement=True,
        requested_email=None,
    )
    assert bare.status is status
    assert wrapped.status is status


@pytest.mark.parametrize(
    ("agreement", "status"), [(True, R.REVALIDATED), (False, R.CONFIRMATION_SENT)]
)
def test_xmlrpc_revalidate_bare_address_is_decided_by_agreement(agreement: bool, status: R) -> None:
    """XML-RPC answers success with the bare address; the request's agreement decides which."""
    result = classify_revalidate(
        "example@example.cz",
        REVALIDATE,
        function="r",
        agreement=agreement,
        requested_email="Example@Example.cz",
    )
    assert (result.status, result.email) == (status, "example@example.cz")


def test_bare_address_of_another_recipient_is_not_success() -> None:
    """An address other than the one asked about is never taken as success."""
    result = classify_revalidate(
        "someone.else@example.cz",
        REVALIDATE,
        function="r",
        agreement=True,
        requested_email="jane@example.cz",
    )
    assert result.status is R.UNKNOWN
    assert result.message == "someone.else@example.cz"


def test_bare_address_when_asked_by_id_is_success() -> None:
    """Asked by ID_email, any address in the answer is the recipient's."""
    result = classify_revalidate(
        "jane@example.cz", REVALIDATE, function="r", agreement=False, requested_email=None
    )
    assert result.status is R.CONFIRMATION_SENT


def test_address_inside_a_json_error_is_not_success() -> None:
    """The bare-address rule is for bare strings only, not JSON `error` text."""
    reply = _json_shape("jane@example.cz", 0)
    result = classify_revalidate(
        reply, REVALIDATE, function="r", agreement=True, requested_email="jane@example.cz"
    )
    assert result.status is R.UNKNOWN


@pytest.mark.parametrize("message", ["", "Queued for tomorrow", "ok", "OK!", "Email has been"])
def test_undocumented_strings_are_unknown_with_raw_message(message: str) -> None:
    """A string nobody documented is UNKNOWN, with the raw text kept, never an exception."""
    assert classify_wipe(message, WIPE, function="w").status is W.UNKNOWN
    assert classify_wipe(message, WIPE, function="w").message == message
    revalidated = classify_revalidate(
        message, REVALIDATE, function="r", agreement=True, requested_email=None
    )
    assert (revalidated.status, revalidated.message) == (R.UNKNOWN, message)


def test_whitespace_around_a_string_is_trimmed() -> None:
    """Matching is exact after trimming surrounding whitespace."""
    result = classify_wipe("\n   Email has already been inserted \t", WIPE, function="w")
    assert (result.status, result.message) == (W.ALREADY_QUEUED, "Email has already been inserted")


@pytest.mark.parametrize("error_status", [1, "1", 3])
def test_success_string_with_nonzero_error_status_is_unknown(error_status: int | str) -> None:
    """'OK' next to a non-zero error_status contradicts itself and is never called done."""
    result = classify_wipe(_json_shape("OK", error_status), WIPE, function="w")
    assert result.status is W.UNKNOWN
    revalidated = classify_revalidate(
        _json_shape("Email has been revalidated", error_status),
        REVALIDATE,
        function="r",
        agreement=True,
        requested_email=None,
    )
    assert revalidated.status is R.UNKNOWN


@pytest.mark.parametrize(
    "reply",
    [
        42,
        ["OK"],
        None,
        {"error_status": 0},  # no error text at all
        {"error": 5, "error_status": 0},
        {"error": "OK", "error_status": "zero"},
        {"error": "OK", "error_status": True},
        {"error": "OK", "ID_email": "12x"},
    ],
)
def test_wrong_shapes_raise_malformed_response(reply: object) -> None:
    """A shape wipe never answers with is a protocol error, not a status."""
    with pytest.raises(mk.MalformedResponseError):
        classify_wipe(reply, WIPE, function="mailkit.email.wipe")


@pytest.mark.parametrize(
    "value",
    [
        "Unauthorized",
        " Unauthorized\n",
        "Disallowed IP 10.1.2.3",
        {"error_status": 1, "error": "Unauthorized"},
        {"error_status": "1", "error": "Disallowed IP 2001:db8::1"},
    ],
)
def test_global_strings_raise_authentication_error(value: object) -> None:
    """Unauthorized and Disallowed IP raise on any function, in either shape."""
    with pytest.raises(mk.AuthenticationError) as info:
        raise_for_global_error(value, "mailkit.mailinglist.list")
    assert info.value.function == "mailkit.mailinglist.list"
    assert info.value.message.startswith(("Unauthorized", "Disallowed IP "))


@pytest.mark.parametrize("value", ["Disallowed IP", "Unauthorized user", [], {"error": "OK"}])
def test_near_misses_of_global_strings_do_not_raise(value: object) -> None:
    """Only the exact global strings raise."""
    raise_for_global_error(value, "f")


def test_extra_messages_add_exact_strings_and_patterns() -> None:
    """Users register strings per function without patching the library; theirs win."""
    wipe, revalidate = build_tables(
        {
            "mailkit.email.wipe": {
                "Queued for tomorrow": W.QUEUED,
                "OK": W.UNKNOWN,
                re.compile(r"Rate limited for \d+ s"): W.UNKNOWN,
            },
            "mailkit.email.revalidate": {"Already subscribed": R.NOT_UNSUBSCRIBED},
        }
    )
    assert wipe.lookup("Queued for tomorrow") is W.QUEUED
    assert wipe.lookup("OK") is W.UNKNOWN
    assert wipe.lookup("Rate limited for 30 s") is W.UNKNOWN
    assert wipe.lookup("Email has already been inserted") is W.ALREADY_QUEUED
    assert revalidate.lookup("Already subscribed") is R.NOT_UNSUBSCRIBED
    assert WIPE.lookup("OK") is W.QUEUED  # the built-in table is untouched


@pytest.mark.parametrize(
    "extra",
    [
        {"mailkit.email.delete": {"OK": W.QUEUED}},
        {"mailkit.email.wipe": {"OK": R.REVALIDATED}},
        {"mailkit.email.wipe": {42: W.QUEUED}},
    ],
)
def test_extra_messages_are_checked(extra: object) -> None:
    """A function without a classifier, a wrong enum or a bad key fails at construction."""
    with pytest.raises(mk.InvalidArgumentError):
        build_tables(extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("function", "value"),
    [
        ("mailkit.email.delete", "Invalid ID_email"),
        ("mailkit.email.delete", {"error_status": 1, "error": "Invalid ID_email or email"}),
        ("mailkit.mailinglist.create", "Mailing list exist"),
        ("mailkit.email.getstatus", ""),
        ("mailkit.email.revalidate", "jane@example.cz is not unsubscribed"),
        ("mailkit.email.revalidate", {"error_status": 0, "error": "Email is not unsubscribed"}),
        ("mailkit.anything.new", {"error_status": "2", "error": "Something"}),
    ],
)
def test_call_raises_api_error_for_documented_errors(function: str, value: object) -> None:
    """`call()` raises ApiError for a non-zero error_status or a documented error string."""
    with pytest.raises(mk.ApiError) as info:
        raise_for_api_error(value, FUNCTIONS.get(function), function)
    assert info.value.function == function


@pytest.mark.parametrize(
    ("function", "value"),
    [
        ("mailkit.email.delete", {"error": "OK", "error_status": 0, "emails": "1,2"}),
        ("mailkit.mailinglist.list", [{"ID_USER_LIST": "1", "NAME": "a"}]),
        ("mailkit.mailinglist.edituser", "OK"),
        ("mailkit.email.unsubscribe.getstatus", "FALSE"),
        ("mailkit.email.unsubscribe", 12345678),
        ("mailkit.anything.new", "Invalid ID_email"),  # no table: a string is just a value
    ],
)
def test_call_returns_successes_unchanged(function: str, value: object) -> None:
    """Success answers pass through `call()` as decoded."""
    raise_for_api_error(value, FUNCTIONS.get(function), function)


def test_every_table_string_is_exercised() -> None:
    """The parametrised lists above cover every exact string in the built-in tables."""
    assert {m for m, _, _ in WIPE_STRINGS} == set(WIPE.exact)
    assert {m for m, _, _ in REVALIDATE_STRINGS} >= set(REVALIDATE.exact)


_ANSWER_TEXT = st.sampled_from(
    [text for text, *_ in WIPE_STRINGS] + ["Unauthorized", "Disallowed IP 10.0.0.1", " OK ", "?"]
) | st.text(max_size=20)
_ANSWER_FIELD = st.none() | st.integers(-(2**70), 2**70) | st.text(max_size=8) | st.booleans()


# The first draw of text builds hypothesis's Unicode tables: slow on a cold machine.
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "error": _ANSWER_TEXT | _ANSWER_FIELD,
            "error_status": _ANSWER_FIELD,
            "ID_email": _ANSWER_FIELD,
            "email": _ANSWER_FIELD,
        },
    )
)
def test_wipe_reads_a_dict_as_it_reads_any_other_mapping(answer: dict[str, object]) -> None:
    # A dict takes classify_wipe's short path; a read-only mapping of the same items the
    # general one. Both must end the same way: the same result, or the same error.
    def outcome(value: object) -> object:
        try:
            return classify_wipe(value, WIPE, function="mailkit.email.wipe")
        except mk.MailkitError as exc:
            return type(exc), str(exc)

    assert outcome(answer) == outcome(MappingProxyType(answer))
