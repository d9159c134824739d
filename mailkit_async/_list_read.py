"""Readers of the mailing-list calls and sendmail: one decoded answer to its typed result.

Both protocols come out the same: JSON sends IDs and codes as strings where XML-RPC sends
`<i4>`, status texts travel in JSON's `error` member or as XML-RPC's bare string. Global
errors (`Unauthorized`, `Disallowed IP`) are raised first, by `read_text_answer` /
`raise_for_global_error`. Every shape check is strict: a member of the wrong type, a missing
one, an integer past 64 bits or a non-list where a list is due is a MalformedResponseError,
never a KeyError or TypeError. The strings and codes are the function table's.
"""

from __future__ import annotations

import datetime
import enum
import types
from collections.abc import Mapping
from typing import Final, TypeGuard, TypeVar

from ._classify import MessageTable, raise_for_global_error, read_text_answer
from ._errors import ApiError, MalformedResponseError
from ._functions import FUNCTIONS, FunctionSpec
from ._list_results import (
    AddUserResult,
    AddUserStatus,
    CreateMailingListResult,
    CreateMailingListStatus,
    DeleteMailingListResult,
    DeleteMailingListStatus,
    EditUserResult,
    EditUserStatus,
    ListRecipient,
    ListRecipientStatus,
    MailingListInfo,
    MailingListStatus,
    SendMailResult,
    SendMailStatus,
    UnsubscribedRecipient,
)
from ._members import integer as _integer
from ._members import optional_id as _optional_integer
from ._members import text, timestamp
from ._members import text as _optional_text
from ._records import record_maker

__all__ = [
    "ADDUSER",
    "CREATE",
    "DELETE",
    "EDITUSER",
    "GETSTATUS",
    "LIST",
    "SENDMAIL",
    "UNSUBSCRIBED",
    "read_add_user",
    "read_create_mailing_list",
    "read_delete_mailing_list",
    "read_edit_user",
    "read_list_recipients",
    "read_mailing_lists",
    "read_send_mail",
    "read_unsubscribed",
]

E = TypeVar("E", bound=enum.Enum)

ADDUSER: Final = "mailkit.mailinglist.adduser"
EDITUSER: Final = "mailkit.mailinglist.edituser"
LIST: Final = "mailkit.mailinglist.list"
CREATE: Final = "mailkit.mailinglist.create"
DELETE: Final = "mailkit.mailinglist.delete"
GETSTATUS: Final = "mailkit.mailinglist.getstatus"
UNSUBSCRIBED: Final = "mailkit.mailinglist.unsubscribed"
SENDMAIL: Final = "mailkit.sendmail"



def _codes(spec: FunctionSpec, statuses: type[E], field: str) -> dict[int, E]:
    """The table's integer answers in member `field` -> their status."""
    return {
        m.text: statuses[m.status]
        for m in spec.messages
        if m.field == field and isinstance(m.text, int)
    }


def _successes(spec: FunctionSpec, statuses: type[E], field: str) -> frozenset[E]:
    return frozenset(
        statuses[m.status] for m in spec.messages if m.field == field and not m.failure
    )


_ADD_USER_TEXT: Final = MessageTable.of(FUNCTIONS[ADDUSER], AddUserStatus)
_ADD_USER_CODES: Final = _codes(FUNCTIONS[ADDUSER], AddUserStatus, "status")
_ADD_USER_CODED_OK: Final = _successes(FUNCTIONS[ADDUSER], AddUserStatus, "status")
_EDIT_USER_TEXT: Final = MessageTable.of(FUNCTIONS[EDITUSER], EditUserStatus)
_CREATE_TEXT: Final = MessageTable.of(FUNCTIONS[CREATE], CreateMailingListStatus)
_DELETE_TEXT: Final = MessageTable.of(FUNCTIONS[DELETE], DeleteMailingListStatus)
_DELETE_DATA: Final = {
    text: DeleteMailingListStatus[name]
    for text, name in FUNCTIONS[DELETE].message_table(field="data")[0].items()
}
_SEND_MAIL_TEXT: Final = MessageTable.of(FUNCTIONS[SENDMAIL], SendMailStatus)
_SEND_MAIL_CODES: Final = _codes(FUNCTIONS[SENDMAIL], SendMailStatus, "status")
_SEND_MAIL_CODED_OK: Final = _successes(FUNCTIONS[SENDMAIL], SendMailStatus, "status")

_add_user_result: Final = record_maker(AddUserResult)
_edit_user_result: Final = record_maker(EditUserResult)
_create_result: Final = record_maker(CreateMailingListResult)
_delete_result: Final = record_maker(DeleteMailingListResult)
_send_mail_result: Final = record_maker(SendMailResult)
_mailing_list: Final = record_maker(MailingListInfo)
_list_recipient: Final = record_maker(ListRecipient)
_unsubscribed: Final = record_maker(UnsubscribedRecipient)

_LIST_STATUSES: Final = {
    s.value: s for s in MailingListStatus if s is not MailingListStatus.UNKNOWN
}
_RECIPIENT_STATUSES: Final = {
    s.value: s for s in ListRecipientStatus if s is not ListRecipientStatus.UNDOCUMENTED
}


# -- members ------------------------------------------------------------------------------


def _positive_id(value: object, name: str, function: str) -> int | None:
    """An ID member; absent, zero or negative (the wrappers' "missing") is None."""
    number = _optional_integer(value, name, function)
    return number if number is not None and number > 0 else None


def _required_id(record: Mapping[str, object], name: str, function: str) -> int:
    number = _positive_id(record.get(name), name, function)
    if number is None:
        raise MalformedResponseError(f"record has no positive {name}", function=function)
    return number


def _text(value: object, name: str, function: str) -> str:
    return text(value, name, function, required=True)


def _time(value: object, name: str, function: str) -> datetime.datetime | None:
    return timestamp(value, name, function, strict=True)


def _is_struct(value: object) -> TypeGuard[Mapping[str, object]]:
    # What both codecs build is a dict: the exact type test spares the ABC check.
    return type(value) is dict or isinstance(value, Mapping)


def _vetoed(success: bool, error_status: int | None) -> bool:
    # A success next to a non-zero error_status contradicts itself: never call it done.
    return success and error_status not in (None, 0)


# -- status answers -------------------------------------------------------------------------


def read_add_user(value: object) -> AddUserResult:
    """adduser: "Sent subscribe email" (double opt-in), an insert status with the ID, or a
    documented error; JSON's `ID_email` and XML-RPC's `data` are the same ID."""
    if _is_struct(value) and value.get("error") is None and "status" in value:
        code, id_email, error_status = _coded(value, ("ID_email", "data"), ADDUSER)
        status = _ADD_USER_CODES.get(code, AddUserStatus.UNKNOWN)
        if _vetoed(status in _ADD_USER_CODED_OK, error_status):
            status = AddUserStatus.UNKNOWN
        return _add_user_result(status, str(code), id_email, error_status)
    message, fields = read_text_answer(value, ADDUSER)
    status = _ADD_USER_TEXT.lookup(message) or AddUserStatus.UNKNOWN
    if fields is None:
        return _add_user_result(status, message, None, None)
    _, error_status, id_email, _ = fields
    if _vetoed(status in _ADD_USER_TEXT.successes, error_status):
        status = AddUserStatus.UNKNOWN
    return _add_user_result(status, message, id_email, error_status)


def _coded(
    value: Mapping[str, object], id_keys: tuple[str, ...], function: str
) -> tuple[int, int | None, int | None]:
    """(status code, ID, error_status) of an answer that reports an insert status."""
    code = _integer(value.get("status"), "status", function)
    id_email = None
    for key in id_keys:
        if value.get(key) is not None:
            id_email = _positive_id(value[key], key, function)
            break
    error_status = _optional_integer(value.get("error_status"), "error_status", function)
    return code, id_email, error_status


def read_edit_user(value: object) -> EditUserResult:
    """edituser: "OK" (JSON with the ID, XML-RPC bare) or a documented error."""
    message, fields = read_text_answer(value, EDITUSER)
    status = _EDIT_USER_TEXT.lookup(message) or EditUserStatus.UNKNOWN
    if fields is None:
        return _edit_user_result(status, message, None, None)
    _, error_status, id_email, _ = fields
    if _vetoed(status in _EDIT_USER_TEXT.successes, error_status):
        status = EditUserStatus.UNKNOWN
    return _edit_user_result(status, message, id_email, error_status)


def read_create_mailing_list(value: object) -> CreateMailingListResult:
    """create: `{data: <new ID>}` (a string in JSON, an i4 in XML-RPC) or an error text."""
    if _is_struct(value) and value.get("error") is None and "data" in value:
        list_id = _positive_id(value["data"], "data", CREATE)
        if list_id is None:
            raise MalformedResponseError("data holds no list ID", function=CREATE)
        error_status = _optional_integer(value.get("error_status"), "error_status", CREATE)
        status = CreateMailingListStatus.CREATED
        if _vetoed(True, error_status):
            status = CreateMailingListStatus.UNKNOWN
        return _create_result(status, str(list_id), list_id, error_status)
    message, fields = read_text_answer(value, CREATE)
    status = _CREATE_TEXT.lookup(message) or CreateMailingListStatus.UNKNOWN
    return _create_result(status, message, None, fields[1] if fields else None)


def read_delete_mailing_list(value: object) -> DeleteMailingListResult:
    """delete: `{data: "OK"}` on both protocols, or an error text."""
    if _is_struct(value) and value.get("error") is None and "data" in value:
        message = _text(value["data"], "data", DELETE).strip()
        error_status = _optional_integer(value.get("error_status"), "error_status", DELETE)
        status = (
            _DELETE_DATA.get(message)
            or _DELETE_TEXT.lookup(message)
            or DeleteMailingListStatus.UNKNOWN
        )
        if _vetoed(status in _DELETE_DATA.values(), error_status):
            status = DeleteMailingListStatus.UNKNOWN
        return _delete_result(status, message, error_status)
    message, fields = read_text_answer(value, DELETE)
    status = _DELETE_TEXT.lookup(message) or DeleteMailingListStatus.UNKNOWN
    return _delete_result(status, message, fields[1] if fields else None)


def read_send_mail(value: object) -> SendMailResult:
    """sendmail: `{data, data2, data3, status}` (i4s in XML-RPC) or a documented error."""
    if _is_struct(value) and value.get("error") is None and "status" in value:
        code, id_email, error_status = _coded(value, ("data",), SENDMAIL)
        id_send = _positive_id(value.get("data2"), "data2", SENDMAIL)
        id_send_message = _positive_id(value.get("data3"), "data3", SENDMAIL)
        status = _SEND_MAIL_CODES.get(code, SendMailStatus.UNKNOWN)
        if _vetoed(status in _SEND_MAIL_CODED_OK, error_status):
            status = SendMailStatus.UNKNOWN
        return _send_mail_result(
            status, str(code), id_email, id_send, id_send_message, error_status
        )
    message, fields = read_text_answer(value, SENDMAIL)
    status = _SEND_MAIL_TEXT.lookup(message) or SendMailStatus.UNKNOWN
    return _send_mail_result(status, message, None, None, None, fields[1] if fields else None)


# -- list answers ----------------------------------------------------------------------------


def _rows(value: object, function: str) -> list[Mapping[str, object]]:
    """The records of a list answer; a refusal in words is an ApiError.

    No error string is documented for these functions: any text (or JSON `error`) in place
    of the list is the API refusing, raised with its words. XML-RPC's empty string is
    taken as an empty answer, as email.getstatus answers "" for nothing found.
    """
    if type(value) is list:
        rows = value
    elif isinstance(value, str | Mapping):
        raise_for_global_error(value, function)
        if value == "":
            return []
        if isinstance(value, str):
            raise ApiError(value.strip(), function=function)
        error = value.get("error")
        if not isinstance(error, str):
            raise MalformedResponseError(
                "expected a list of records, got a struct", function=function
            )
        raw = value.get("error_status")
        raise ApiError(
            error.strip(),
            function=function,
            error_status=_optional_integer(raw, "error_status", function),
        )
    else:
        raise MalformedResponseError(
            f"expected a list of records, got {type(value).__name__}", function=function
        )
    for row in rows:
        if not isinstance(row, Mapping):
            raise MalformedResponseError(
                f"a record is {type(row).__name__}, not a struct", function=function
            )
    return rows


def read_mailing_lists(value: object) -> tuple[MailingListInfo, ...]:
    """mailinglist.list: `[{ID_USER_LIST, NAME, DESCRIPTION, STATUS}]` (IDs strings in JSON)."""
    lists = []
    for row in _rows(value, LIST):
        status_text = _optional_text(row.get("STATUS"), "STATUS", LIST)
        lists.append(
            _mailing_list(
                _required_id(row, "ID_USER_LIST", LIST),
                _text(row.get("NAME"), "NAME", LIST),
                _optional_text(row.get("DESCRIPTION"), "DESCRIPTION", LIST),
                _LIST_STATUSES.get(status_text.strip(), MailingListStatus.UNKNOWN),
                status_text,
            )
        )
    return tuple(lists)


_RECORD_KEYS: Final = frozenset({"ID_EMAIL", "EMAIL", "STATUS", "DATE", "CHANGE_DATE"})


def read_list_recipients(value: object) -> tuple[ListRecipient, ...]:
    """mailinglist.getstatus: one record per recipient, values plain text."""
    recipients = []
    for row in _rows(value, GETSTATUS):
        status_text = _text(row.get("STATUS"), "STATUS", GETSTATUS)
        fields: dict[str, str] = {}
        for key, member in row.items():
            if key in _RECORD_KEYS:
                continue
            if type(member) is int:  # XML-RPC's IDs (ID_MAILING_LIST)
                fields[key] = str(_integer(member, key, GETSTATUS))
            else:
                fields[key] = _optional_text(member, key, GETSTATUS)
        recipients.append(
            _list_recipient(
                _required_id(row, "ID_EMAIL", GETSTATUS),
                _text(row.get("EMAIL"), "EMAIL", GETSTATUS),
                _RECIPIENT_STATUSES.get(status_text.strip(), ListRecipientStatus.UNDOCUMENTED),
                status_text,
                _time(row.get("DATE"), "DATE", GETSTATUS),
                _time(row.get("CHANGE_DATE"), "CHANGE_DATE", GETSTATUS),
                types.MappingProxyType(fields),
            )
        )
    return tuple(recipients)


def _groups(value: object) -> tuple[int, ...]:
    """ID_UNSUBSCRIBE_GROUP: "" (none), one ID, or IDs separated by commas."""
    if value is None:
        return ()
    if type(value) is int:
        return (_integer(value, "ID_UNSUBSCRIBE_GROUP", UNSUBSCRIBED),)
    text = _text(value, "ID_UNSUBSCRIBE_GROUP", UNSUBSCRIBED).strip()
    if not text:
        return ()
    return tuple(
        _integer(part.strip(), "ID_UNSUBSCRIBE_GROUP", UNSUBSCRIBED) for part in text.split(",")
    )


def read_unsubscribed(value: object) -> tuple[UnsubscribedRecipient, ...]:
    """mailinglist.unsubscribed: `[{DATE, ID_UNSUBSCRIBE_GROUP, EMAIL}]`."""
    return tuple(
        _unsubscribed(
            _text(row.get("EMAIL"), "EMAIL", UNSUBSCRIBED),
            _time(row.get("DATE"), "DATE", UNSUBSCRIBED),
            _groups(row.get("ID_UNSUBSCRIBE_GROUP")),
        )
        for row in _rows(value, UNSUBSCRIBED)
    )
