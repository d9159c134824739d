"""Decoded recipient answers to their results, the same for JSON and XML-RPC.

Each reader takes what a codec decoded and returns the method's frozen result. Text answers
go through `read_text_answer` (the global errors first) and the function table's strings;
data answers (the unsubscribed ID, records, the history) are read with strict shape checks,
so an answer of the wrong shape is a MalformedResponseError, never a KeyError or TypeError.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Final

from ._classify import MessageTable, read_text_answer
from ._functions import FUNCTIONS
from ._members import items as _items
from ._members import optional_id as _id
from ._members import shape_error as _malformed
from ._members import struct as _struct
from ._members import text as _text
from ._members import timestamp as _timestamp
from ._recipient_results import (
    DeleteResult,
    DeleteStatus,
    HistoryEntry,
    HistoryResponse,
    HistoryResult,
    HistoryStatus,
    LookupStatus,
    MoveResult,
    MoveStatus,
    RecipientRecord,
    RecipientState,
    RecipientStatus,
    SubscriptionStatus,
    TopicsResult,
    TopicsStatus,
    UnsubscribeResult,
    UnsubscribeStatus,
    UnsubscribeStatusResult,
)
from ._records import record_maker

__all__ = [
    "DELETE",
    "GETSTATUS",
    "HISTORY",
    "MOVE",
    "TOPICS",
    "UNSUBSCRIBE",
    "UNSUBSCRIBE_GETSTATUS",
    "read_delete",
    "read_history",
    "read_move",
    "read_status",
    "read_topics",
    "read_unsubscribe",
    "read_unsubscribe_status",
]

UNSUBSCRIBE: Final = "mailkit.email.unsubscribe"
UNSUBSCRIBE_GETSTATUS: Final = "mailkit.email.unsubscribe.getstatus"
GETSTATUS: Final = "mailkit.email.getstatus"
HISTORY: Final = "mailkit.email.getstatus.history"
DELETE: Final = "mailkit.email.delete"
MOVE: Final = "mailkit.email.move"
TOPICS: Final = "mailkit.email.topics"

_UNSUBSCRIBE_TABLE: Final = MessageTable.of(FUNCTIONS[UNSUBSCRIBE], UnsubscribeStatus)
_SUBSCRIPTION_TABLE: Final = MessageTable.of(FUNCTIONS[UNSUBSCRIBE_GETSTATUS], SubscriptionStatus)
# JSON carries the same TRUE/FALSE in its `unsubscribe` member.
_SUBSCRIPTION_MEMBER: Final = {
    text: SubscriptionStatus[name]
    for text, name in FUNCTIONS[UNSUBSCRIBE_GETSTATUS].message_table("unsubscribe")[0].items()
}
_LOOKUP_TABLE: Final = MessageTable.of(FUNCTIONS[GETSTATUS], LookupStatus)
_DELETE_TABLE: Final = MessageTable.of(FUNCTIONS[DELETE], DeleteStatus)
_MOVE_TABLE: Final = MessageTable.of(FUNCTIONS[MOVE], MoveStatus)
_TOPICS_TABLE: Final = MessageTable.of(FUNCTIONS[TOPICS], TopicsStatus)

_INT64: Final = range(-(2**63), 2**63)
_IDS: Final = re.compile(r"[0-9]{1,19}(?:\s*,\s*[0-9]{1,19})*")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NO_DATE: Final = "0000-00-00"
_STATES: Final = {state.value: state for state in RecipientState}

_unsubscribe_result: Final = record_maker(UnsubscribeResult)
_subscription_result: Final = record_maker(UnsubscribeStatusResult)
_record: Final = record_maker(RecipientRecord)
_recipient_status: Final = record_maker(RecipientStatus)
_history_result: Final = record_maker(HistoryResult)
_history_entry: Final = record_maker(HistoryEntry)
_history_response: Final = record_maker(HistoryResponse)
_delete_result: Final = record_maker(DeleteResult)
_move_result: Final = record_maker(MoveResult)
_topics_result: Final = record_maker(TopicsResult)


# -- shared shape checks ---------------------------------------------------------------------


def _data_fields(
    value: Mapping[str, object], function: str
) -> tuple[int | None, int | None, str | None]:
    """A data struct's error_status, ID_email and email. Taken directly: these answers send
    IDs as decimal text, which `reply_fields` hands to the (slower) converter."""
    email = value.get("email")
    return (
        _id(value.get("error_status"), "error_status", function),
        _id(value.get("ID_email"), "ID_email", function),
        None if email is None else _text(email, "email", function),
    )


def _positive_id(value: int, function: str) -> bool:
    if value not in _INT64:
        raise _malformed(function, "the ID is not a 64-bit integer")
    return value > 0


# -- mailkit.email.unsubscribe ---------------------------------------------------------------


def read_unsubscribe(value: object) -> UnsubscribeResult:
    """XML-RPC answers the unsubscribed ID; JSON `{error_status: "0", ID_email, status}`;
    an error is the bare string (XML-RPC) or `{error_status, error}` (JSON)."""
    if type(value) is int:
        status = (
            UnsubscribeStatus.UNSUBSCRIBED
            if _positive_id(value, UNSUBSCRIBE)
            else UnsubscribeStatus.UNKNOWN
        )
        id_email = value if status is UnsubscribeStatus.UNSUBSCRIBED else None
        return _unsubscribe_result(status, str(value), id_email, None, None)
    if isinstance(value, Mapping) and value.get("error") is None:
        error_status, id_email, email = _data_fields(value, UNSUBSCRIBE)
        if error_status is None and id_email is None:
            raise _malformed(UNSUBSCRIBE, "a struct with neither error, error_status nor ID_email")
        done = not error_status  # 0, or none next to the ID
        status = UnsubscribeStatus.UNSUBSCRIBED if done else UnsubscribeStatus.UNKNOWN
        return _unsubscribe_result(status, "", id_email, email, error_status)
    message, fields = read_text_answer(value, UNSUBSCRIBE)
    status = _UNSUBSCRIBE_TABLE.lookup(message) or UnsubscribeStatus.UNKNOWN
    if fields is None:
        return _unsubscribe_result(status, message, None, None, None)
    _, error_status, id_email, email = fields
    return _unsubscribe_result(status, message, id_email, email, error_status)


# -- mailkit.email.unsubscribe.getstatus -----------------------------------------------------


def _until(value: object) -> datetime.date | None:
    if value is None:
        return None
    date = _text(_struct(value, "timeout", UNSUBSCRIBE_GETSTATUS).get("date"), "timeout.date",
                 UNSUBSCRIBE_GETSTATUS).strip()  # fmt: skip
    if date in ("", _NO_DATE):  # 0000-00-00: no expiry, a permanent unsubscribe
        return None
    if _DATE.match(date):
        try:
            return datetime.date.fromisoformat(date[:10])
        except ValueError:
            pass
    raise _malformed(UNSUBSCRIBE_GETSTATUS, "timeout.date is not a date")


def _topics(value: object) -> tuple[int, ...]:
    # The shape of a non-null `topics` is not documented: a list of IDs, or their comma text.
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        if not _IDS.fullmatch(value.strip()):
            raise _malformed(UNSUBSCRIBE_GETSTATUS, "topics is text but not a list of IDs")
        items: list[object] | tuple[object, ...] = list(value.split(","))
    else:
        items = _items(value, "topics", UNSUBSCRIBE_GETSTATUS)
    ids = tuple(_id(item, "topics[]", UNSUBSCRIBE_GETSTATUS) for item in items)
    return tuple(topic for topic in ids if topic is not None)


def read_unsubscribe_status(value: object) -> UnsubscribeStatusResult:
    """XML-RPC answers the bare text TRUE/FALSE; JSON a struct with `unsubscribe` TRUE/FALSE,
    `topics` and `timeout.date`."""
    if isinstance(value, Mapping) and value.get("error") is None:
        raw = value.get("unsubscribe")
        if not isinstance(raw, str):
            raise _malformed(UNSUBSCRIBE_GETSTATUS, "the struct has no 'unsubscribe' text")
        message = raw.strip()
        error_status, id_email, email = _data_fields(value, UNSUBSCRIBE_GETSTATUS)
        status = _SUBSCRIPTION_MEMBER.get(message, SubscriptionStatus.UNKNOWN)
        if error_status:
            status = SubscriptionStatus.UNKNOWN
        return _subscription_result(
            status,
            message,
            _unsubscribed(status),
            id_email,
            email,
            _until(value.get("timeout")),
            _topics(value.get("topics")),
            error_status,
        )
    message, fields = read_text_answer(value, UNSUBSCRIBE_GETSTATUS)
    status = _SUBSCRIPTION_TABLE.lookup(message) or SubscriptionStatus.UNKNOWN
    _, error_status, id_email, email = fields or (None, None, None, None)
    if error_status:
        status = SubscriptionStatus.UNKNOWN
    return _subscription_result(
        status, message, _unsubscribed(status), id_email, email, None, None, error_status
    )


def _unsubscribed(status: SubscriptionStatus) -> bool | None:
    if status is SubscriptionStatus.UNKNOWN:
        return None
    return status is SubscriptionStatus.UNSUBSCRIBED


# -- mailkit.email.getstatus -----------------------------------------------------------------

# RecipientRecord's text fields and the members they come from, in the record's order.
_PROFILE: Final = (
    "VOCATIVE", "PREFIX", "FIRST_NAME", "LAST_NAME", "NICK_NAME", "GENDER", "REPLY_TO", "PHONE",
    "FAX", "MOBILE", "COMPANY", "STREET", "CITY", "COUNTRY", "ZIP", "STATE",
)  # fmt: skip
_CUSTOM: Final = tuple(f"CUSTOM_{n}" for n in range(1, 26))


def _recipient_record(item: object) -> RecipientRecord:
    record = _struct(item, "a record", GETSTATUS)
    id_email = _id(record.get("ID_EMAIL"), "ID_EMAIL", GETSTATUS)
    email = _text(record.get("EMAIL"), "EMAIL", GETSTATUS)
    if id_email is None or not email:
        raise _malformed(GETSTATUS, "a record without ID_EMAIL or EMAIL")
    state = _text(record.get("STATUS"), "STATUS", GETSTATUS)
    # 41 text members: text is checked inline, the reader called only for what is not.
    get = record.get
    profile = [v if type(v := get(key)) is str else _text(v, key, GETSTATUS) for key in _PROFILE]
    custom = [v if type(v := get(key)) is str else _text(v, key, GETSTATUS) for key in _CUSTOM]
    return _record(
        id_email,
        email,
        _id(get("ID_MAILING_LIST"), "ID_MAILING_LIST", GETSTATUS),
        _STATES.get(state.strip(), RecipientState.UNDOCUMENTED),
        state,
        *profile,
        _timestamp(get("DATE"), "DATE", GETSTATUS),
        _timestamp(get("CHANGE_DATE"), "CHANGE_DATE", GETSTATUS),
        tuple(custom),
    )


def read_status(value: object) -> RecipientStatus:
    """A list of records (one per list an address is in); a text answer says why none:
    the empty string (XML-RPC's "not found"), "Missing ID email", "Invalid ID_email"."""
    if type(value) is list or isinstance(value, list | tuple):
        if not value:
            return _recipient_status(LookupStatus.NOT_FOUND, "", ())
        records = tuple(_recipient_record(item) for item in value)
        return _recipient_status(LookupStatus.FOUND, "", records)
    message, _ = read_text_answer(value, GETSTATUS)
    status = _LOOKUP_TABLE.lookup(message) or LookupStatus.UNKNOWN
    return _recipient_status(status, message, ())


# -- mailkit.email.getstatus.history ---------------------------------------------------------

_RESPONSE_TEXT: Final = {"URL": "url", "COUNTRY": "country", "REGION_CODE": "region_code",
                         "CITY": "city"}  # fmt: skip
_ENTRY_IDS: Final = ("ID_SEND_MESSAGE", "ID_SEND", "ID_MESSAGE", "ID_EMAIL", "ID_USER_LIST")
_ENTRY_TEXT: Final = (
    "MESSAGE_NAME", "SUBJECT", "PREVIEW", "DATE_SEND", "EMAIL_FROM", "NAME_FROM", "TYPE_MESSAGE",
)  # fmt: skip
_ENTRY_COUNTS: Final = ("READ_COUNT", "CLICK_COUNT")
_ENTRY_KEYS: Final = frozenset({*_ENTRY_IDS, *_ENTRY_TEXT, *_ENTRY_COUNTS, "RESPONSE_DATA"})
_RESPONSE_KEYS: Final = frozenset({*_RESPONSE_TEXT, "DATE"})


def _other(struct: Mapping[str, object], known: frozenset[str]) -> tuple[tuple[str, str], ...]:
    # Members past where the page is cut: scalars kept as text, anything nested left out
    # (its shape is not known, so it is not taken for an error either).
    pairs = [
        (str(key), "" if value is None else str(value))
        for key, value in struct.items()
        if key not in known
        and (value is None or isinstance(value, str) or (type(value) is int and value in _INT64))
    ]
    return tuple(sorted(pairs))


def _history_response_of(item: object) -> HistoryResponse:
    response = _struct(item, "a RESPONSE_DATA item", HISTORY)
    texts = [_text(response.get(key), key, HISTORY) for key in _RESPONSE_TEXT]
    return _history_response(
        *texts,
        _timestamp(response.get("DATE"), "DATE", HISTORY),
        _other(response, _RESPONSE_KEYS),
    )


def _history_entry_of(item: object) -> HistoryEntry:
    entry = _struct(item, "a delivery", HISTORY)
    ids = [_id(entry.get(key), key, HISTORY) for key in _ENTRY_IDS]
    name, subject, preview, _, email_from, name_from, kind = (
        _text(entry.get(key), key, HISTORY) for key in _ENTRY_TEXT
    )
    responses = entry.get("RESPONSE_DATA")
    return _history_entry(
        *ids,
        name,
        subject,
        preview,
        _timestamp(entry.get("DATE_SEND"), "DATE_SEND", HISTORY),
        email_from,
        name_from,
        kind,
        *(_id(entry.get(key), key, HISTORY) for key in _ENTRY_COUNTS),
        ()
        if responses is None or responses == ""
        else tuple(_history_response_of(r) for r in _items(responses, "RESPONSE_DATA", HISTORY)),
        _other(entry, _ENTRY_KEYS),
    )


def read_history(value: object) -> HistoryResult:
    """A list of deliveries; a text answer (none is documented) is UNKNOWN, kept raw."""
    if type(value) is list or isinstance(value, list | tuple):
        entries = tuple(_history_entry_of(item) for item in value)
        return _history_result(HistoryStatus.FOUND, "", entries)
    message, _ = read_text_answer(value, HISTORY)
    return _history_result(HistoryStatus.UNKNOWN, message, ())


# -- mailkit.email.delete --------------------------------------------------------------------


def _deleted_ids(value: object) -> tuple[int, ...]:
    """The deleted IDs: one int, or a comma-separated string of them."""
    if value is None or value == "":
        return ()
    if type(value) is int:
        return (value,) if _positive_id(value, DELETE) else ()
    if type(value) is str and value.isascii() and value.isdigit() and len(value) < 19:
        return (int(value),) if int(value) > 0 else ()  # one ID, the usual answer
    if isinstance(value, str) and _IDS.fullmatch(value.strip()):
        ids = tuple(_id(part, "emails", DELETE) for part in value.split(","))
        return tuple(i for i in ids if i is not None)
    raise _malformed(DELETE, "the deleted IDs are neither an integer nor a list of IDs")


def read_delete(value: object) -> DeleteResult:
    """XML-RPC answers the deleted ID (several as comma text), JSON
    `{error: "OK", error_status: 0, emails: "1,2"}`; the errors differ by protocol."""
    if type(value) is int:
        ids = _deleted_ids(value)
        done = DeleteStatus.DELETED if ids else DeleteStatus.UNKNOWN
        return _delete_result(done, str(value), ids, None)
    message, fields = read_text_answer(value, DELETE)
    status = _DELETE_TABLE.lookup(message)
    if fields is None:
        if status is None and _IDS.fullmatch(message):
            return _delete_result(DeleteStatus.DELETED, message, _deleted_ids(message), None)
        return _delete_result(status or DeleteStatus.UNKNOWN, message, (), None)
    error_status = fields[1]
    known = status or DeleteStatus.UNKNOWN
    if error_status and known in _DELETE_TABLE.successes:
        known = DeleteStatus.UNKNOWN
    ids = _deleted_ids(_struct(value, "the answer", DELETE).get("emails"))
    return _delete_result(known, message, ids if known.succeeded else (), error_status)


# -- mailkit.email.move ----------------------------------------------------------------------


def read_move(value: object) -> MoveResult:
    """XML-RPC answers 1 (moved) or 0 (not moved); JSON the moved record, or
    `{error_status: 1, error: "Invalid ID_email or email"}`."""
    if type(value) is int:
        if value not in _INT64:
            raise _malformed(MOVE, "the answer is not a 64-bit integer")
        found = FUNCTIONS[MOVE].lookup(value, field=None)
        status = MoveStatus[found.status] if found is not None else MoveStatus.UNKNOWN
        return _move_result(status, str(value), None, None, None, None, None, None)
    if isinstance(value, Mapping) and value.get("error") is None:
        error_status = _id(value.get("error_status"), "error_status", MOVE)
        id_email = _id(value.get("ID_email"), "ID_email", MOVE)
        if error_status is None and id_email is None:
            raise _malformed(MOVE, "a struct with neither error, error_status nor ID_email")
        email = _text(value.get("email"), "email", MOVE) or None
        status = MoveStatus.MOVED if not error_status and id_email else MoveStatus.UNKNOWN
        return _move_result(
            status,
            "",
            id_email,
            _id(value.get("ID_email_source"), "ID_email_source", MOVE),
            _id(value.get("ID_user_list"), "ID_user_list", MOVE),
            _id(value.get("ID_user_list_source"), "ID_user_list_source", MOVE),
            email,
            error_status,
        )
    message, fields = read_text_answer(value, MOVE)
    status = _MOVE_TABLE.lookup(message) or MoveStatus.UNKNOWN
    _, error_status, id_email, email = fields or (None, None, None, None)
    if status is MoveStatus.MOVED and error_status:
        status = MoveStatus.UNKNOWN
    return _move_result(status, message, id_email, None, None, None, email, error_status)


# -- mailkit.email.topics --------------------------------------------------------------------


def read_topics(value: object) -> TopicsResult:
    """No answer of email.topics is documented: "OK" (the other email.* calls' success
    text, the table's LIB entry) with error_status 0 or none is SET, anything else UNKNOWN."""
    if isinstance(value, Mapping) and value.get("error") is None:
        error_status = _id(value.get("error_status"), "error_status", TOPICS)
        if error_status is None:
            raise _malformed(TOPICS, "a struct with neither error nor error_status")
        status = TopicsStatus.UNKNOWN if error_status else TopicsStatus.SET
        return _topics_result(status, "", error_status)
    message, fields = read_text_answer(value, TOPICS)
    status = _TOPICS_TABLE.lookup(message) or TopicsStatus.UNKNOWN
    error_status = fields[1] if fields is not None else None
    if error_status:
        status = TopicsStatus.UNKNOWN
    return _topics_result(status, message, error_status)
