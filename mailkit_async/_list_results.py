"""Status enums and frozen results of the mailing-list calls and sendmail.

The status names are the function table's (`_functions.py`): each documented answer of a
function names a member of its enum, and UNKNOWN stands for any answer nobody documented
(the raw text kept in `message`).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping

import attrs

__all__ = [
    "AddUserResult",
    "AddUserStatus",
    "CreateMailingListResult",
    "CreateMailingListStatus",
    "DeleteMailingListResult",
    "DeleteMailingListStatus",
    "EditUserResult",
    "EditUserStatus",
    "ListRecipient",
    "ListRecipientStatus",
    "MailingListInfo",
    "MailingListStatus",
    "SendMailResult",
    "SendMailStatus",
    "UnsubscribedRecipient",
]


class AddUserStatus(enum.StrEnum):
    """The outcome of `mailkit.mailinglist.adduser`."""

    CONFIRMATION_SENT = "confirmation_sent"  # "Sent subscribe email": double opt-in mailed
    INSERTED = "inserted"  # insert status 1: a new recipient on the list
    UPDATED = "updated"  # insert status 0: the recipient was on the list; fields updated
    INSERTED_UNSUBSCRIBED = "inserted_unsubscribed"  # 2: inserted, but unsubscribed
    UPDATED_UNSUBSCRIBED = "updated_unsubscribed"  # 3: updated an unsubscribed recipient
    FAULT = "fault"  # insert status 4
    MISSING_EMAIL = "missing_email"  # "Missing email"
    INVALID_EMAIL = "invalid_email"  # "Bad email syntax"
    MISSING_LIST = "missing_list"  # "Missing ID_mailing_list"
    INVALID_LIST = "invalid_list"  # "Invalid ID_mailing_list"
    INVALID_TEMPLATE = "invalid_template"  # "Invalid ID_template"
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when Mailkit took the record (or mailed the opt-in that will add it)."""
        return self in _ADD_USER_DONE


_ADD_USER_DONE = frozenset(
    {
        AddUserStatus.CONFIRMATION_SENT,
        AddUserStatus.INSERTED,
        AddUserStatus.UPDATED,
        AddUserStatus.INSERTED_UNSUBSCRIBED,
        AddUserStatus.UPDATED_UNSUBSCRIBED,
    }
)


@attrs.frozen(kw_only=True)
class AddUserResult:
    """What `MailkitClient.add_user` learned.

    `message` is the API's text ("Sent subscribe email", an error string), or for an answer
    with an insert status that status code as text ("1"). `id_email` is the recipient's ID
    when the answer carried one (the double opt-in answer does not); `error_status` is None
    when the answer had none (XML-RPC).
    """

    status: AddUserStatus
    message: str
    id_email: int | None = None
    error_status: int | None = None


class EditUserStatus(enum.StrEnum):
    """The outcome of `mailkit.mailinglist.edituser`."""

    UPDATED = "updated"  # "OK"
    MISSING_RECIPIENT = "missing_recipient"  # "Missing ID_email"
    INVALID_RECIPIENT = "invalid_recipient"  # "Invalid ID_email": not on that list
    MISSING_LIST = "missing_list"  # "Missing ID_mailing_list" / "Missing ID_user_list"
    INVALID_LIST = "invalid_list"  # "Invalid ID_mailing_list" / "Invalid ID_user_list"
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when the recipient's fields were overwritten."""
        return self is EditUserStatus.UPDATED


@attrs.frozen(kw_only=True)
class EditUserResult:
    """What `MailkitClient.edit_user` learned (fields as in `AddUserResult`)."""

    status: EditUserStatus
    message: str
    id_email: int | None = None
    error_status: int | None = None


class MailingListStatus(enum.StrEnum):
    """The state of a mailing list, as `mailkit.mailinglist.list` reports it."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    UNKNOWN = "unknown"  # a value nobody documented; the raw text is in `status_text`


@attrs.frozen(kw_only=True)
class MailingListInfo:
    """One mailing list of the account (`MailkitClient.list_mailing_lists`)."""

    list_id: int
    name: str
    description: str
    status: MailingListStatus
    status_text: str  # the API's raw STATUS


class CreateMailingListStatus(enum.StrEnum):
    """The outcome of `mailkit.mailinglist.create`."""

    CREATED = "created"  # the answer carried the new list's ID
    MISSING_NAME = "missing_name"  # "Missing name of mailing list"
    LIST_EXISTS = "list_exists"  # "Mailing list exist": the name is taken
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when a list was created (`list_id` holds its ID)."""
        return self is CreateMailingListStatus.CREATED


@attrs.frozen(kw_only=True)
class CreateMailingListResult:
    """What `MailkitClient.create_mailing_list` learned.

    `list_id` is the new list's ID when it was created; `message` is the API's text, or for
    the success answer the ID as text.
    """

    status: CreateMailingListStatus
    message: str
    list_id: int | None = None
    error_status: int | None = None


class DeleteMailingListStatus(enum.StrEnum):
    """The outcome of `mailkit.mailinglist.delete`."""

    DELETED = "deleted"  # {data: "OK"}: deleted (or, with keep_list, emptied)
    MISSING_LIST = "missing_list"  # "Missing ID_user_list"
    INVALID_LIST = "invalid_list"  # "Invalid ID_user_list": no such list (any more)
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when the list was deleted or emptied."""
        return self is DeleteMailingListStatus.DELETED


@attrs.frozen(kw_only=True)
class DeleteMailingListResult:
    """What `MailkitClient.delete_mailing_list` learned."""

    status: DeleteMailingListStatus
    message: str
    error_status: int | None = None


class ListRecipientStatus(enum.StrEnum):
    """A recipient's state on a list, as `mailkit.mailinglist.getstatus` reports it.

    The values are also the filter `list_recipients(status=...)` takes.
    """

    ENABLED = "enabled"
    UNKNOWN = "unknown"  # Mailkit's own value (e.g. an opt-in not yet confirmed)
    TEMPORARY = "temporary"  # temporarily bouncing
    PERMANENT = "permanent"  # permanently bouncing
    UNSUBSCRIBE = "unsubscribe"  # unsubscribed (the API's spelling)
    DISABLED = "disabled"  # listed by the wrappers for email.getstatus
    UNDOCUMENTED = "undocumented"  # none of these; the raw text is in `status_text`


@attrs.frozen(kw_only=True)
class ListRecipient:
    """One recipient of a list (`MailkitClient.list_recipients`), values as plain text.

    `created` and `changed` are the API's DATE and CHANGE_DATE (Mailkit's local time, no
    zone given; None when empty or zero). `fields` holds every other member of the record
    by its API name (`FIRST_NAME`, `CUSTOM_12`, ...), read-only.
    """

    id_email: int
    email: str
    status: ListRecipientStatus
    status_text: str
    created: datetime.datetime | None
    changed: datetime.datetime | None
    fields: Mapping[str, str]


@attrs.frozen(kw_only=True)
class UnsubscribedRecipient:
    """One unsubscribe (`MailkitClient.list_unsubscribed`).

    `email` may be a phone number (an SMS recipient). `groups` are the unsubscribe groups
    left; empty when the recipient unsubscribed from everything.
    """

    email: str
    unsubscribed_at: datetime.datetime | None
    groups: tuple[int, ...]


class SendMailStatus(enum.StrEnum):
    """The outcome of `mailkit.sendmail`: the insert status, or a documented refusal.

    A success answer can still mean "not sent" (an unsubscribed recipient): only
    `succeeded` statuses sent a message.
    """

    UPDATED = "updated"  # 0: known recipient updated, message sent
    INSERTED = "inserted"  # 1: new recipient inserted, message sent
    INSERTED_UNSUBSCRIBED = "inserted_unsubscribed"  # 2: inserted as unsubscribed
    UPDATED_UNSUBSCRIBED = "updated_unsubscribed"  # 3: an unsubscribed recipient updated
    FAULT = "fault"  # 4
    UPDATED_NOT_SENT = "updated_not_sent"  # 6
    INSERTED_NOT_SENT = "inserted_not_sent"  # 7
    MISSING_LIST = "missing_list"  # "Missing ID_mailing_list"
    INVALID_LIST = "invalid_list"  # "Invalid ID_mailing_list"
    MISSING_CAMPAIGN = "missing_campaign"  # "Missing ID_message"
    INVALID_CAMPAIGN = "invalid_campaign"  # "Invalid ID_message"
    MISSING_RECIPIENT = "missing_recipient"  # "Missing send_to"
    MISSING_SENDER = "missing_sender"  # "Missing sender address"
    ATTACHMENT_NOT_ALLOWED = "attachment_not_allowed"  # "Attachment is not allowed"
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when the message was sent (insert statuses 0 and 1)."""
        return self in (SendMailStatus.UPDATED, SendMailStatus.INSERTED)


@attrs.frozen(kw_only=True)
class SendMailResult:
    """What `MailkitClient.send_mail` learned.

    `id_email` (the recipient), `id_send` (the campaign's sending) and `id_send_message` (the
    message) are the answer's data, data2 and data3, None when absent or not positive.
    `message` is the API's text, or for an answer with a status its code as text.
    """

    status: SendMailStatus
    message: str
    id_email: int | None = None
    id_send: int | None = None
    id_send_message: int | None = None
    error_status: int | None = None
