"""What the recipient calls learned: status enums and frozen result records.

One status enum per function (`UnsubscribeStatus`, ...): its members are named as the
function table names the documented answers, plus `UNKNOWN` for text nobody documented
(the raw text is kept in `message`). The records are built by the readers
(`_recipient_read.py`), never by users.
"""

from __future__ import annotations

import datetime
import enum

import attrs

__all__ = [
    "DeleteResult",
    "DeleteStatus",
    "HistoryEntry",
    "HistoryResponse",
    "HistoryResult",
    "HistoryStatus",
    "LookupStatus",
    "MoveResult",
    "MoveStatus",
    "RecipientRecord",
    "RecipientState",
    "RecipientStatus",
    "SubscriptionStatus",
    "TopicsResult",
    "TopicsStatus",
    "UnsubscribeResult",
    "UnsubscribeStatus",
    "UnsubscribeStatusResult",
]


# -- unsubscribe ---------------------------------------------------------------------------


class UnsubscribeStatus(enum.StrEnum):
    """The outcome of `mailkit.email.unsubscribe`."""

    UNSUBSCRIBED = "unsubscribed"  # XML-RPC: the ID as an int; JSON: error_status 0
    INVALID_RECIPIENT = "invalid_recipient"  # "Invalid ID_email or email"
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when Mailkit unsubscribed the recipient."""
        return self is UnsubscribeStatus.UNSUBSCRIBED


@attrs.frozen(kw_only=True)
class UnsubscribeResult:
    """What `MailkitClient.unsubscribe` learned.

    `message` is the answer's text ("" for a success, which carries none; an XML-RPC
    answer's ID as its decimal text); `id_email` is the unsubscribed ID when the answer
    carried it; `email` when the answer echoed it; `error_status` is None when the answer
    had none.
    """

    status: UnsubscribeStatus
    message: str
    id_email: int | None = None
    email: str | None = None
    error_status: int | None = None


class SubscriptionStatus(enum.StrEnum):
    """The answer of `mailkit.email.unsubscribe.getstatus`."""

    SUBSCRIBED = "subscribed"  # "FALSE": not unsubscribed
    UNSUBSCRIBED = "unsubscribed"  # "TRUE": unsubscribed (permanently or until a date)
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept


@attrs.frozen(kw_only=True)
class UnsubscribeStatusResult:
    """What `MailkitClient.get_unsubscribe_status` learned.

    `unsubscribed` is True/False as Mailkit said "TRUE"/"FALSE", None when the answer was
    something else (`status` UNKNOWN, the text in `message`). XML-RPC answers only the
    TRUE/FALSE text, so the other fields are filled from JSON answers alone:
    `unsubscribed_until` is the end of a temporary unsubscribe (None when permanent or not
    told), `topics` the IDs of the campaign topics the recipient left (None when not told).
    """

    status: SubscriptionStatus
    message: str
    unsubscribed: bool | None
    id_email: int | None = None
    email: str | None = None
    unsubscribed_until: datetime.date | None = None
    topics: tuple[int, ...] | None = None
    error_status: int | None = None


# -- getstatus -------------------------------------------------------------------------------


class LookupStatus(enum.StrEnum):
    """The outcome of `mailkit.email.getstatus`."""

    FOUND = "found"  # one record or more
    NOT_FOUND = "not_found"  # an empty string (XML-RPC) or an empty list
    MISSING_RECIPIENT = "missing_recipient"  # "Missing ID email"
    INVALID_RECIPIENT = "invalid_recipient"  # "Invalid ID_email"
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept


class RecipientState(enum.StrEnum):
    """A recipient record's `STATUS` (the values the wrappers' UserStatus enum lists)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    UNKNOWN = "unknown"  # Mailkit's own "unknown" (e.g. a double opt-in awaiting its click)
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    UNSUBSCRIBE = "unsubscribe"
    UNDOCUMENTED = "undocumented"  # none of these; the raw text is in `status_text`


@attrs.frozen(kw_only=True)
class RecipientRecord:
    """One recipient record of `mailkit.email.getstatus` (an address has one per list).

    Text fields are "" when the answer left them out. `date` and `change_date` are
    Mailkit's naive local times, None when the text is not a date. `custom` holds
    CUSTOM_1 to CUSTOM_25 in order (`custom[0]` is CUSTOM_1).
    """

    id_email: int
    email: str
    id_mailing_list: int | None
    status: RecipientState
    status_text: str
    vocative: str = ""
    prefix: str = ""
    first_name: str = ""
    last_name: str = ""
    nick_name: str = ""
    gender: str = ""
    reply_to: str = ""
    phone: str = ""
    fax: str = ""
    mobile: str = ""
    company: str = ""
    street: str = ""
    city: str = ""
    country: str = ""
    zip: str = ""
    state: str = ""
    date: datetime.datetime | None = None
    change_date: datetime.datetime | None = None
    custom: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class RecipientStatus:
    """What `MailkitClient.get_status` learned: the records found, or why none.

    `message` is the answer's text for a text answer ("" for a list of records).
    """

    status: LookupStatus
    message: str
    records: tuple[RecipientRecord, ...] = ()


# -- getstatus.history ------------------------------------------------------------------------


class HistoryStatus(enum.StrEnum):
    """The outcome of `mailkit.email.getstatus.history`."""

    FOUND = "found"  # a list of deliveries (perhaps empty: nothing sent in the last year)
    UNKNOWN = "unknown"  # a text answer; no error string is documented; the text is kept


@attrs.frozen(kw_only=True)
class HistoryResponse:
    """One response (an open or click) in a delivery's `RESPONSE_DATA`.

    The page lists URL, COUNTRY, REGION_CODE, CITY and DATE before it is cut: any other
    member is kept in `other` as (name, text) pairs, sorted.
    """

    url: str = ""
    country: str = ""
    region_code: str = ""
    city: str = ""
    date: datetime.datetime | None = None
    other: tuple[tuple[str, str], ...] = ()


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One delivery sent to the recipient (members of the history page; absent ones are
    None or "", undocumented ones in `other` as (name, text) pairs)."""

    id_send_message: int | None = None
    id_send: int | None = None
    id_message: int | None = None
    id_email: int | None = None
    id_user_list: int | None = None
    message_name: str = ""
    subject: str = ""
    preview: str = ""
    date_send: datetime.datetime | None = None
    email_from: str = ""
    name_from: str = ""
    type_message: str = ""
    read_count: int | None = None
    click_count: int | None = None
    responses: tuple[HistoryResponse, ...] = ()
    other: tuple[tuple[str, str], ...] = ()


@attrs.frozen(kw_only=True)
class HistoryResult:
    """What `MailkitClient.get_status_history` learned: the deliveries of the last year."""

    status: HistoryStatus
    message: str
    entries: tuple[HistoryEntry, ...] = ()


# -- delete, move, topics ---------------------------------------------------------------------


class DeleteStatus(enum.StrEnum):
    """The outcome of `mailkit.email.delete`."""

    DELETED = "deleted"  # JSON "OK"; XML-RPC the deleted ID(s)
    # JSON "Invalid ID_email or email", XML-RPC "Invalid ID_email"
    INVALID_RECIPIENT = "invalid_recipient"
    NOT_FOUND = "not_found"  # an empty string (XML-RPC, listed by Spoje-NET)
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when Mailkit deleted the record(s)."""
        return self is DeleteStatus.DELETED


@attrs.frozen(kw_only=True)
class DeleteResult:
    """What `MailkitClient.delete_recipient` learned: `id_emails` are the deleted IDs
    (an address deletes every record of it)."""

    status: DeleteStatus
    message: str
    id_emails: tuple[int, ...] = ()
    error_status: int | None = None


class MoveStatus(enum.StrEnum):
    """The outcome of `mailkit.email.move`."""

    MOVED = "moved"  # XML-RPC 1; JSON the moved record with error_status 0
    NOT_MOVED = "not_moved"  # XML-RPC 0: an invalid ID, or the target list
    INVALID_RECIPIENT = "invalid_recipient"  # JSON "Invalid ID_email or email"
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when Mailkit moved the recipient."""
        return self is MoveStatus.MOVED


@attrs.frozen(kw_only=True)
class MoveResult:
    """What `MailkitClient.move_recipient` learned.

    The recipient gets a new ID in the target list: `id_email` is that new ID,
    `id_email_source` the old one. XML-RPC answers only 1 or 0, so the IDs, lists and
    `email` are filled from JSON answers alone. `message` is the answer's text, or its
    integer as text.
    """

    status: MoveStatus
    message: str
    id_email: int | None = None
    id_email_source: int | None = None
    id_user_list: int | None = None
    id_user_list_source: int | None = None
    email: str | None = None
    error_status: int | None = None


class TopicsStatus(enum.StrEnum):
    """The outcome of `mailkit.email.topics` (no answer of it is documented)."""

    SET = "set"  # "OK" with error_status 0 (or none)
    UNKNOWN = "unknown"  # any other answer; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when Mailkit accepted the topic state."""
        return self is TopicsStatus.SET


@attrs.frozen(kw_only=True)
class TopicsResult:
    """What `MailkitClient.set_topics` learned."""

    status: TopicsStatus
    message: str
    error_status: int | None = None
