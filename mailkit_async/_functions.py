"""What the library knows about each API function, as one table.

Sources are tagged as in the API reference (REFERENCE.md): DOC = the published pages, W-* = the
PHP wrappers, FX-2018 = captured fixtures. XML-RPC orders list the parameters after client_id
and client_md5.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Final

import attrs

__all__ = ["FUNCTIONS", "GLOBAL_ERRORS", "FunctionSpec", "RetryClass", "Slot", "SlotKind"]


class RetryClass(enum.Enum):
    """How safe it is to send a call again when its first answer was lost."""

    READ = "read"  # no side effect
    IDEMPOTENT = "idempotent"  # a repeat leaves the same state
    IDEMPOTENT_DEDUP = "idempotent-dedup"  # a repeat is answered as a duplicate (wipe)
    UNSAFE = "unsafe"  # a repeat may act twice (sends an email, creates a record)


class SlotKind(enum.Enum):
    """The documented XML-RPC type of one position: what a value becomes, what absence is sent as.

    An absent optional position is sent as its kind's empty value (the PHP wrappers, which work
    against the live service, send null as `<string/>`); `XmlRpcCodec(send_nil=True)` sends
    `<nil/>` instead, for a server that wants it. A value of the wrong type is refused with
    InvalidArgumentError before anything is sent.
    """

    #: As given (anything the marshaller carries). Absent: `<string/>`.
    ANY = "any"
    #: `<string>`; an int is sent as its decimal text. Absent: `<string/>`.
    STRING = "string"
    #: `<int>` (`<i8>` past 32 bits); a decimal string is read as the number. Absent:
    #: `<string/>`, because XML-RPC has no empty int (`<int/>` is refused by most parsers).
    INT = "int"
    #: A recipient: a decimal ID (an int, or digits that round-trip through int) is sent as an
    #: int, anything else (an address, "0042") as the text given. Absent: `<string/>`.
    ID_OR_EMAIL = "id-or-email"
    #: `<boolean>`; True/False or "TRUE"/"FALSE" in any case. Absent: `<string/>` (FALSE is a
    #: value with a meaning, not an absence).
    BOOLEAN = "boolean"
    #: A flag the pages or wrappers write as the `<string>` "TRUE"/"FALSE"; True/False or either
    #: string in any case. Absent: `<string/>`.
    TRUE_FALSE = "true-false"
    #: `<struct>` from a mapping. Absent: the empty `<struct></struct>`.
    STRUCT = "struct"
    #: A position the page says must be present but carries nothing (revalidate's `dummy`):
    #: always `<string/>`, and its presence makes the whole order be sent, every position,
    #: where other orders leave unfilled trailing positions off.
    PLACEHOLDER = "placeholder"

    @property
    def empty(self) -> object:
        """The value an absent position of this kind is sent as (a fresh object each time)."""
        return {} if self is SlotKind.STRUCT else ""


@attrs.frozen
class Slot:
    """One XML-RPC position, its documented kind, and the named parameters that may fill it."""

    name: str
    sources: tuple[str, ...] = ()
    kind: SlotKind = SlotKind.ANY
    required: bool = False
    # For a struct position built from several named parameters (unsubscribe's timeout).
    members: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not self.sources and not self.members and self.kind is not SlotKind.PLACEHOLDER:
            object.__setattr__(self, "sources", (self.name,))


@attrs.frozen
class FunctionSpec:
    """One API function: XML-RPC order, JSON flag parameters, documented errors, retry class."""

    name: str
    retry_class: RetryClass
    # None: the positional order is unknown, so an XML-RPC call needs an explicit list.
    xmlrpc_order: tuple[Slot, ...] | None = None
    # Parameters that Mailkit's JSON API spells "TRUE"/"FALSE" (a Python bool is converted).
    flags: frozenset[str] = frozenset()
    # Documented error strings; `call()` raises ApiError for them on either protocol.
    errors: frozenset[str] = frozenset()
    error_patterns: tuple[re.Pattern[str], ...] = ()

    def is_error_message(self, message: str) -> bool:
        return message in self.errors or any(p.fullmatch(message) for p in self.error_patterns)


# Answered by every function on both protocols (DOC intro page).
GLOBAL_ERRORS: Final = re.compile(r"Unauthorized|Disallowed IP .+")

_ID_OR_EMAIL_SOURCES: Final = ("ID_email", "email", "email_id")
_NOT_UNSUBSCRIBED: Final = re.compile(r".+ is not unsubscribed", re.DOTALL)


def _specs(*specs: FunctionSpec) -> Mapping[str, FunctionSpec]:
    return {spec.name: spec for spec in specs}


FUNCTIONS: Final[Mapping[str, FunctionSpec]] = _specs(
    FunctionSpec(  # DOC wipe: one <string> that holds an ID or an address
        "mailkit.email.wipe",
        RetryClass.IDEMPOTENT_DEDUP,
        (Slot("ID_email", _ID_OR_EMAIL_SOURCES, SlotKind.STRING, required=True),),
        errors=frozenset(
            {
                "Missing ID_email",
                "Invalid ID_email or email",
                "Invalid_ID_email or email",  # the doc's own spelling in its list
                "Email has already been inserted",
            }
        ),
    ),
    FunctionSpec(  # DOC revalidate; `dummy` must hold its place so `language` lands 6th
        "mailkit.email.revalidate",
        RetryClass.UNSAFE,  # agreement=FALSE sends an email
        (
            Slot("ID_email", _ID_OR_EMAIL_SOURCES, SlotKind.ID_OR_EMAIL, required=True),
            Slot("ID_message", kind=SlotKind.INT),
            Slot("agreement", kind=SlotKind.BOOLEAN, required=True),
            Slot("channel", kind=SlotKind.STRING),
            Slot("dummy", kind=SlotKind.PLACEHOLDER),
            Slot("language", kind=SlotKind.STRING),
        ),
        flags=frozenset({"agreement"}),
        errors=frozenset({"Email is not unsubscribed", "Invalid ID_email or email"}),
        error_patterns=(_NOT_UNSUBSCRIBED,),
    ),
    FunctionSpec(  # DOC adduser; W-MK possibleErrors
        "mailkit.mailinglist.adduser",
        RetryClass.UNSAFE,  # double opt-in sends an email
        (
            Slot("ID_user_list", ("ID_user_list", "mailinglist_id"), SlotKind.INT, required=True),
            Slot("confirm", kind=SlotKind.BOOLEAN),
            Slot("personal", kind=SlotKind.STRUCT),
            Slot("address", kind=SlotKind.STRUCT),
            Slot("custom", kind=SlotKind.STRUCT),
        ),
        flags=frozenset({"confirm"}),
        errors=frozenset(
            {
                "Missing email",
                "Bad email syntax",
                "Missing ID_mailing_list",
                "Invalid ID_mailing_list",
                "Invalid ID_template",
            }
        ),
    ),
    FunctionSpec(  # DOC getstatus (Czech page); the empty string means "not found" (FX-2018)
        "mailkit.email.getstatus",
        RetryClass.READ,
        (
            Slot("email_id", ("email_id", "ID_email", "email"), SlotKind.ID_OR_EMAIL, True),
            Slot("ID_send_message", kind=SlotKind.INT),
        ),
        errors=frozenset({"Missing ID email", "Invalid ID_email", ""}),
    ),
    FunctionSpec(  # newer DOC order; the older page omits send_optout (REFERENCE 4.5)
        "mailkit.email.unsubscribe",
        RetryClass.UNSAFE,  # send_optout sends an email
        (
            Slot("email_id", ("email_id", "ID_email", "email"), SlotKind.ID_OR_EMAIL, True),
            Slot("ID_send_message", kind=SlotKind.INT),
            Slot("send_optout", kind=SlotKind.BOOLEAN),
            Slot("timeout", kind=SlotKind.STRUCT, members=("timeout", "timeout_days")),
        ),
        flags=frozenset({"send_optout", "timeout"}),
        errors=frozenset({"Invalid ID_email or email"}),
    ),
    FunctionSpec(
        "mailkit.email.unsubscribe.getstatus",
        RetryClass.READ,
        (Slot("ID_email", _ID_OR_EMAIL_SOURCES, SlotKind.ID_OR_EMAIL, required=True),),
    ),
    FunctionSpec(  # DOC delete: the XML error differs from the JSON one
        "mailkit.email.delete",
        RetryClass.IDEMPOTENT,
        (Slot("email_id", ("email_id", "ID_email", "email"), SlotKind.ID_OR_EMAIL, True),),
        errors=frozenset({"Invalid ID_email or email", "Invalid ID_email"}),
    ),
    FunctionSpec(  # DOC move; XML answers failure with i4 0, not a string
        "mailkit.email.move",
        RetryClass.IDEMPOTENT,
        (
            Slot("email_id", ("email_id", "ID_email", "email"), SlotKind.ID_OR_EMAIL, True),
            Slot("ID_mailing_list", ("ID_mailing_list", "ID_user_list"), SlotKind.INT, True),
        ),
        errors=frozenset({"Invalid ID_email or email"}),
    ),
    FunctionSpec("mailkit.mailinglist.list", RetryClass.READ, ()),
    FunctionSpec(  # W-MK; DOC create
        "mailkit.mailinglist.create",
        RetryClass.UNSAFE,
        (
            Slot("name", kind=SlotKind.STRING, required=True),
            Slot("description", kind=SlotKind.STRING),
        ),
        errors=frozenset({"Missing name of mailing list", "Mailing list exist"}),
    ),
    FunctionSpec(  # W-MK; no page: the XML-era wrapper sends keep_list as "TRUE"/"FALSE"
        "mailkit.mailinglist.delete",
        RetryClass.IDEMPOTENT,
        (
            Slot("ID_user_list", kind=SlotKind.INT, required=True),
            Slot("keep_list", kind=SlotKind.TRUE_FALSE),
        ),
        flags=frozenset({"keep_list"}),
        errors=frozenset({"Missing ID_user_list", "Invalid ID_user_list"}),
    ),
    FunctionSpec(  # XML order only partly documented (an empty param after email_id)
        "mailkit.mailinglist.edituser",
        RetryClass.IDEMPOTENT,
        errors=frozenset(
            {
                "Missing ID_email",
                "Invalid ID_email",
                "Missing ID_user_list",
                "Invalid ID_user_list",
                "Missing ID_mailing_list",
                "Invalid ID_mailing_list",
            }
        ),
    ),
    FunctionSpec(  # DOC sendmail; W-MK possibleErrors
        "mailkit.sendmail",
        RetryClass.UNSAFE,
        (
            Slot("mailinglist_id", kind=SlotKind.INT, required=True),
            Slot("campaign_id", kind=SlotKind.INT, required=True),
            Slot("main", kind=SlotKind.STRUCT),
            Slot("recipient", kind=SlotKind.STRUCT),
            Slot("contact", kind=SlotKind.STRUCT),
            Slot("custom", kind=SlotKind.STRUCT),
            Slot("attachment", kind=SlotKind.STRUCT),
        ),
        errors=frozenset(
            {
                "Missing ID_mailing_list",
                "Invalid ID_mailing_list",
                "Missing ID_message",
                "Invalid ID_message",
                "Missing send_to",
                "Missing sender address",
                "Attachment is not allowed",
            }
        ),
    ),
    FunctionSpec(  # DOC report.message.recipients (JSON)
        "mailkit.report.message.recipients",
        RetryClass.READ,
        errors=frozenset({"Missing ID_send", "Invalid ID_send"}),
    ),
)


def spec_for(function: str) -> FunctionSpec | None:
    """The known spec of `function`, or None for a function the table does not describe."""
    return FUNCTIONS.get(function)
