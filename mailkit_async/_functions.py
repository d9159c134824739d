"""What the library knows about each API function, as one table.

Every function of the API index is here with its XML-RPC positional order (after client_id and
client_md5; None where no page shows it), its JSON parameter names, its retry class and its
documented response strings (`Message`), so codecs, classifiers, retry decisions and the
emulator all read the same facts.

Source tags are the API reference's (REFERENCE.md): DOC = Mailkit's published pages; W-MK =
the mailkit/mailkit-api PHP wrapper in its XML-RPC era, W-MK-HEAD = its 2026 JSON-only rewrite,
W-IG / W-SP = the igloonet and Spoje-NET forks; FX-2018 = the wrappers' 2018 recorded answers;
KB / DE = the keboola clients. LIB marks a string this library adds for a function whose pages
do not list it. The 2026 fixtures (FX-2026) are invented and never a source here.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Mapping
from typing import Final

import attrs

__all__ = [
    "FUNCTIONS",
    "GLOBAL_ERRORS",
    "GLOBAL_MESSAGES",
    "SOURCE_TAGS",
    "FunctionSpec",
    "Message",
    "Protocols",
    "RetryClass",
    "RetryWhen",
    "SentAs",
    "Slot",
    "SlotKind",
]


class RetryClass(enum.Enum):
    """How safe it is to send a call again when its first answer was lost.

    The two values the retry decision tells apart: why a function is safe (it only reads,
    a repeat leaves the same state, or Mailkit answers a repeat as a duplicate, as it does
    a wipe) is in its table entry's `retry_reason`, not here.
    """

    SAFE = "safe"  # a repeat does no harm: sent again after a failure that may have acted
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
    #: `<array>` from a list or tuple (the recipients of mailinglist.import). Absent: the empty
    #: `<array>`.
    ARRAY = "array"
    #: A position the page says must be present but carries nothing (revalidate's `dummy`):
    #: always `<string/>`, and its presence makes the whole order be sent, every position,
    #: where other orders leave unfilled trailing positions off.
    PLACEHOLDER = "placeholder"

    @property
    def empty(self) -> object:
        """The value an absent position of this kind is sent as (a fresh object each time)."""
        if self is SlotKind.STRUCT:
            return {}
        return [] if self is SlotKind.ARRAY else ""


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


class Protocols(enum.Flag):
    """The protocol(s) the reference documents a response string for."""

    JSON = enum.auto()
    XMLRPC = enum.auto()
    BOTH = JSON | XMLRPC

    @classmethod
    def named(cls, protocol: str) -> Protocols:
        """The member for a codec or emulator protocol name ("json", "xmlrpc")."""
        return _PROTOCOL_NAMES[protocol]


_PROTOCOL_NAMES: Final = {"json": Protocols.JSON, "xmlrpc": Protocols.XMLRPC}


class SentAs(enum.Enum):
    """How the API sends a documented answer, whatever it means for the caller."""

    SUCCESS = "success"  # error_status 0 or none, or a plain XML-RPC value
    ERROR = "error"  # a non-zero error_status (JSON); the bare string of XML-RPC
    # A refusal inside a success answer: revalidate's "Email is not unsubscribed" with
    # error_status 0, adduser's insert status 4 ("fault"), a per-file upload error.
    FAILURE_AS_SUCCESS = "failure-as-success"


#: The tags a `Message` may cite (see the module docstring).
SOURCE_TAGS: Final = frozenset(
    {"DOC", "W-MK", "W-MK-HEAD", "W-IG", "W-SP", "FX-2018", "KB", "DE", "LIB"}
)

_STATUS_NAME: Final = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


@attrs.frozen
class Message:
    """One documented answer of one function and the status it stands for.

    `text` is the exact (trimmed) text, a pattern matched against the whole text, or for
    the few integer answers (email.move's XML-RPC 1/0, insert statuses) the integer.
    `field` says where it travels: "error" (the default) is the answer's text, i.e. JSON's
    `error` member or XML-RPC's bare string (or the `error` member of a struct); None is the
    bare answer value itself; any other name is that member of a struct answer. `status` is
    the name a status enum member gets (`WipeStatus.QUEUED` for wipe's "OK"). A pattern
    carries the `template` the API fills, e.g. "{} is not unsubscribed".
    """

    text: str | int | re.Pattern[str]
    sent_as: SentAs
    protocols: Protocols
    status: str
    sources: tuple[str, ...]
    field: str | None = "error"
    template: str | None = None
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if not _STATUS_NAME.fullmatch(self.status):
            raise ValueError(f"status {self.status!r} is not an UPPER_SNAKE name")
        if not self.sources or not SOURCE_TAGS.issuperset(self.sources):
            raise ValueError(f"{self.text!r}: sources must be among {sorted(SOURCE_TAGS)}")
        if isinstance(self.text, re.Pattern) != (self.template is not None):
            raise ValueError(f"{self.text!r}: a pattern needs a template, and only a pattern")
        if isinstance(self.text, bool):
            raise ValueError("a boolean is not an answer text")

    @property
    def failure(self) -> bool:
        """True when the answer means the call did not do what it was asked."""
        return self.sent_as is not SentAs.SUCCESS

    def matches(self, value: object) -> bool:
        """Whether `value` (an answer's text or integer) is this message."""
        if isinstance(self.text, re.Pattern):
            return isinstance(value, str) and self.text.fullmatch(value) is not None
        return type(value) is type(self.text) and value == self.text

    def render(self, *values: object) -> str:
        """The text as the API sends it; a pattern is filled from its template."""
        if self.template is not None:
            return self.template.format(*values)
        if not isinstance(self.text, str):
            raise TypeError(f"{self.text!r} is not a text answer")
        return self.text


@attrs.frozen
class RetryWhen:
    """A call is `retry_class` (instead of the function's own class) when `parameter` is `value`.

    For functions whose repeat is safe or not depending on one flag: adduser's `confirm`
    (FALSE sends no opt-in email), unsubscribe's `send_optout`, revalidate's `agreement`.
    """

    parameter: str
    value: bool
    retry_class: RetryClass


_FLAG_WORDS: Final = {"TRUE": True, "FALSE": False}


def _flag_value(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _FLAG_WORDS.get(value.strip().upper())
    return None


@attrs.frozen
class FunctionSpec:
    """One API function: XML-RPC order, JSON parameters, documented answers, retry class."""

    name: str
    retry_class: RetryClass
    # None: the positional order is unknown, so an XML-RPC call needs an explicit list.
    xmlrpc_order: tuple[Slot, ...] | None = None
    # Parameters that Mailkit's JSON API spells "TRUE"/"FALSE" (a Python bool is converted).
    flags: frozenset[str] = frozenset()
    # Every documented answer string (and integer) with its status; `call()` raises
    # ApiError for the failures among the texts, on either protocol.
    messages: tuple[Message, ...] = ()
    # The documented JSON parameter names; None where no page shows a JSON request.
    json_params: tuple[str, ...] | None = None
    # JSON parameters that sit beside `function`/`id`/`md5` instead of in `parameters`.
    json_top_level: frozenset[str] = frozenset()
    retry_when: tuple[RetryWhen, ...] = ()
    # The reference's judgement behind `retry_class`, in its own words.
    retry_reason: str = ""
    # The function's section of the API index ("Mailing list management", ...).
    section: str = ""
    notes: str = ""
    _exact: Mapping[tuple[str | None, str | int], Message] = attrs.field(
        init=False, repr=False, eq=False
    )
    _patterns: tuple[Message, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        exact: dict[tuple[str | None, str | int], Message] = {}
        for message in self.messages:
            if isinstance(message.text, re.Pattern):
                continue
            key = (message.field, message.text)
            known = exact.setdefault(key, message)
            if known.status != message.status or known.sent_as is not message.sent_as:
                raise ValueError(f"{self.name}: {message.text!r} is documented twice, differently")
        object.__setattr__(self, "_exact", exact)
        patterns = tuple(m for m in self.messages if isinstance(m.text, re.Pattern))
        object.__setattr__(self, "_patterns", patterns)

    def lookup(self, value: object, field: str | None = "error") -> Message | None:
        """The documented message `value` is (exact texts first, then patterns), or None."""
        if isinstance(value, str | int) and not isinstance(value, bool):
            found = self._exact.get((field, value))
            if found is not None:
                return found
        for message in self._patterns:
            if message.field == field and message.matches(value):
                return message
        return None

    def is_error_message(self, message: str) -> bool:
        """True for a documented failure text (an answer's `error` or bare string)."""
        found = self.lookup(message)
        return found is not None and found.failure

    @property
    def errors(self) -> frozenset[str]:
        """The exact failure texts."""
        return frozenset(
            m.text
            for m in self.messages
            if m.failure and m.field == "error" and isinstance(m.text, str)
        )

    @property
    def error_patterns(self) -> tuple[re.Pattern[str], ...]:
        """The failure patterns, matched against the whole trimmed text."""
        return tuple(
            m.text
            for m in self._patterns
            if m.failure and m.field == "error" and isinstance(m.text, re.Pattern)
        )

    def message_table(
        self, field: str | None = "error"
    ) -> tuple[dict[str, str], tuple[tuple[re.Pattern[str], str], ...]]:
        """The classifier view: exact text -> status name, and (pattern, status name) pairs."""
        exact = {
            m.text: m.status for m in self.messages if m.field == field and isinstance(m.text, str)
        }
        patterns = tuple(
            (m.text, m.status)
            for m in self._patterns
            if m.field == field and isinstance(m.text, re.Pattern)
        )
        return exact, patterns

    def message_for(self, status: str, protocol: Protocols, field: str | None = "error") -> Message:
        """The answer the API gives for `status` on `protocol`: the first one documented there.

        Falls back to the first message of that status on any protocol; KeyError if the
        function has none.
        """
        candidates = [m for m in self.messages if m.status == status and m.field == field]
        for message in candidates:
            if protocol in message.protocols:
                return message
        if candidates:
            return candidates[0]
        raise KeyError(f"{self.name} documents no {status} answer")

    def retry_class_for(self, params: Mapping[str, object]) -> RetryClass:
        """The retry class of one call, given its parameters (see `RetryWhen`)."""
        for condition in self.retry_when:
            if _flag_value(params.get(condition.parameter)) is condition.value:
                return condition.retry_class
        return self.retry_class

    def xmlrpc_names(self) -> tuple[str | None, ...] | None:
        """The JSON name of each XML-RPC position; None for a struct of named parameters."""
        if self.xmlrpc_order is None:
            return None
        json = self.json_params or ()
        names: list[str | None] = []
        for slot in self.xmlrpc_order:
            if slot.members:
                names.append(None)
                continue
            named = [source for source in slot.sources if source in json]
            names.append(named[0] if named else (slot.sources or (slot.name,))[0])
        return tuple(names)


# Answered by every function on both protocols (DOC intro page).
GLOBAL_ERRORS: Final = re.compile(r"Unauthorized|Disallowed IP .+")

_BOTH: Final = Protocols.BOTH
_JSON: Final = Protocols.JSON
_XML: Final = Protocols.XMLRPC


def _message(
    sent_as: SentAs,
    text: str | int,
    status: str,
    *sources: str,
    on: Protocols = _BOTH,
    field: str | None = "error",
    note: str = "",
) -> Message:
    return Message(text, sent_as, on, status, sources, field, note=note)


# The table's rows, named by how the API sends each answer.
_ok: Final = functools.partial(_message, SentAs.SUCCESS)
_error: Final = functools.partial(_message, SentAs.ERROR)
_refusal: Final = functools.partial(_message, SentAs.FAILURE_AS_SUCCESS)


#: The two answers every function may give (DOC intro page), with the statuses
#: `AuthenticationError` stands for.
GLOBAL_MESSAGES: Final = (
    _error("Unauthorized", "UNAUTHORIZED", "DOC", note="wrong client ID or MD5"),
    Message(
        re.compile(r"Disallowed IP .+", re.DOTALL),
        SentAs.ERROR,
        _BOTH,
        "DISALLOWED_IP",
        ("DOC",),
        template="Disallowed IP {}",
        note="the calling IP is not on the account's allow-list; match by prefix",
    ),
)

# The page presumes its errors from report.message.links/.recipients; unverified.
_SIBLINGS_PRESUMED: Final = "presumed from the sibling report pages, unverified"
_ID_OR_EMAIL_SOURCES: Final = ("ID_email", "email", "email_id")
_NOT_UNSUBSCRIBED: Final = re.compile(r".+ is not unsubscribed", re.DOTALL)

_CAMPAIGNS: Final = "Campaign management"
_LISTS: Final = "Mailing list management"
_DELIVERY: Final = "Campaign delivery"
_REPORTING: Final = "Reporting"
_PROFILE: Final = "Profile"
_OTHER: Final = "Other"

# The insert statuses adduser answers without double opt-in (W-MK InsertStatus).
_INSERT_STATUSES: Final = (
    _ok(0, "UPDATED", "W-MK", field="status"),
    _ok(1, "INSERTED", "W-MK", field="status"),
    _ok(2, "INSERTED_UNSUBSCRIBED", "W-MK", field="status"),
    _ok(3, "UPDATED_UNSUBSCRIBED", "W-MK", field="status"),
    _refusal(4, "FAULT", "W-MK", field="status"),
)


def _specs(*specs: FunctionSpec) -> Mapping[str, FunctionSpec]:
    table = {spec.name: spec for spec in specs}
    if len(table) != len(specs):
        raise ValueError("a function is in the table twice")
    return table


FUNCTIONS: Final[Mapping[str, FunctionSpec]] = _specs(
    FunctionSpec(  # DOC wipe: one <string> that holds an ID or an address
        "mailkit.email.wipe",
        RetryClass.SAFE,
        (Slot("ID_email", _ID_OR_EMAIL_SOURCES, SlotKind.STRING, required=True),),
        messages=(
            _ok("OK", "QUEUED", "DOC", note="queued; the queue is processed once a day"),
            _error("Email has already been inserted", "ALREADY_QUEUED", "DOC"),
            _error("Invalid ID_email or email", "INVALID_RECIPIENT", "DOC"),
            _error(
                "Invalid_ID_email or email",
                "INVALID_RECIPIENT",
                "DOC",
                note="the doc's Values list spells it with an underscore",
            ),
            _error("Missing ID_email", "MISSING_RECIPIENT", "DOC"),
        ),
        json_params=("email", "ID_email"),
        retry_reason="the second request is refused with 'Email has already been inserted'",
        section=_LISTS,
        notes="GDPR erasure; success means queued, not wiped (the queue runs once a day)",
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
        messages=(
            _ok("Email has been revalidated", "REVALIDATED", "DOC", "W-MK", "FX-2018"),
            _ok("Sent subscribe email", "CONFIRMATION_SENT", "DOC", "W-MK", "FX-2018"),
            Message(
                _NOT_UNSUBSCRIBED,
                SentAs.ERROR,
                _XML,
                "NOT_UNSUBSCRIBED",
                ("DOC", "W-MK", "FX-2018"),
                template="{} is not unsubscribed",
                note="the ID or address as sent, then ' is not unsubscribed'",
            ),
            _refusal(
                "Email is not unsubscribed",
                "NOT_UNSUBSCRIBED",
                "DOC",
                on=_JSON,
                note="sent with error_status 0",
            ),
            _error(
                "Invalid ID_email or email",
                "INVALID_RECIPIENT",
                "LIB",
                note="not on the revalidate page; the string the other email.* functions use",
            ),
            _error(
                "Missing ID_email",
                "MISSING_RECIPIENT",
                "LIB",
                note="not on the revalidate page; wipe's string",
            ),
        ),
        json_params=(
            "email",
            "ID_email",
            "ID_message",
            "ID_template",
            "agreement",
            "channel",
            "language",
        ),
        retry_when=(RetryWhen("agreement", True, RetryClass.SAFE),),
        retry_reason=(
            "conditional: agreement FALSE sends an opt-in email each time; "
            "TRUE then answers '... is not unsubscribed'"
        ),
        section=_LISTS,
        notes=(
            "deprecated in favour of mailinglist.adduser; the XML-RPC success is the bare "
            "address per the page (the 2018 fixture: 'Email has been revalidated'), so the "
            "request's agreement tells REVALIDATED from CONFIRMATION_SENT"
        ),
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
        messages=(
            _ok(
                "Sent subscribe email",
                "CONFIRMATION_SENT",
                "W-MK",
                "FX-2018",
                note="confirm TRUE: a double opt-in email was sent",
            ),
            _error("Missing email", "MISSING_EMAIL", "W-MK", "W-SP"),
            _error("Bad email syntax", "INVALID_EMAIL", "W-MK", "W-SP"),
            _error("Missing ID_mailing_list", "MISSING_LIST", "W-MK", "W-SP"),
            _error("Invalid ID_mailing_list", "INVALID_LIST", "W-MK", "FX-2018"),
            _error("Invalid ID_template", "INVALID_TEMPLATE", "W-MK", "W-SP"),
            *_INSERT_STATUSES,
        ),
        json_params=("ID_user_list", "confirm", "personal", "address", "custom", "params"),
        retry_when=(RetryWhen("confirm", False, RetryClass.SAFE),),
        retry_reason=(
            "conditional: an upsert, no duplicate record; but with confirm TRUE every call "
            "sends another opt-in email"
        ),
        section=_LISTS,
        notes=(
            "personal/address/custom values are base64, params (ip_src, form_url) plain; "
            "without confirm the answer is a struct with the ID (XML-RPC data, JSON ID_email) "
            "and an insert status; whether XML-RPC takes a 6th params struct is unknown"
        ),
    ),
    FunctionSpec(  # DOC getstatus (Czech page); the empty string means "not found" (FX-2018)
        "mailkit.email.getstatus",
        RetryClass.SAFE,
        (
            Slot("email_id", ("email_id", "ID_email", "email"), SlotKind.ID_OR_EMAIL, True),
            Slot("ID_send_message", kind=SlotKind.INT),
        ),
        messages=(
            _error(
                "Missing ID email",
                "MISSING_RECIPIENT",
                "W-MK",
                "W-SP",
                "FX-2018",
                note="a space, no underscore",
            ),
            _error("Invalid ID_email", "INVALID_RECIPIENT", "W-MK", "W-SP"),
            _error(
                "",
                "NOT_FOUND",
                "W-MK",
                "W-SP",
                "FX-2018",
                on=_XML,
                note="an empty string instead of an empty array",
            ),
        ),
        json_params=("email", "ID_email", "ID_send_message"),
        retry_reason="read",
        section=_LISTS,
        notes="an address answers every record of it (one per list); JSON values are strings",
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
        messages=(
            _error("Invalid ID_email or email", "INVALID_RECIPIENT", "W-MK", "W-SP", "FX-2018"),
        ),
        json_params=(
            "email",
            "ID_email",
            "ID_send_message",
            "send_optout",
            "timeout",
            "timeout_days",
        ),
        retry_when=(RetryWhen("send_optout", False, RetryClass.SAFE),),
        retry_reason=(
            "conditional: the state does not change twice, but send_optout defaults to TRUE, "
            "so each call may send another opt-out email"
        ),
        section=_LISTS,
        notes=(
            "XML-RPC answers the ID as an i4; temporary with timeout_days 14-90; the older "
            "page leaves out send_optout, so the XML-RPC order is ambiguous (the newer is used)"
        ),
    ),
    FunctionSpec(
        "mailkit.email.unsubscribe.getstatus",
        RetryClass.SAFE,
        (Slot("ID_email", _ID_OR_EMAIL_SOURCES, SlotKind.ID_OR_EMAIL, required=True),),
        messages=(
            _ok("FALSE", "SUBSCRIBED", "DOC", on=_XML),
            _ok("TRUE", "UNSUBSCRIBED", "DOC", on=_XML),
            _ok("FALSE", "SUBSCRIBED", "DOC", on=_JSON, field="unsubscribe"),
            _ok("TRUE", "UNSUBSCRIBED", "DOC", on=_JSON, field="unsubscribe"),
        ),
        json_params=("email", "ID_email"),
        retry_reason="read",
        section=_LISTS,
        notes=(
            "topics and timeout.date (0000-00-00: permanent) come in JSON only; no error "
            "string is documented"
        ),
    ),
    FunctionSpec(  # DOC delete: the XML error differs from the JSON one
        "mailkit.email.delete",
        RetryClass.SAFE,
        (Slot("email_id", ("email_id", "ID_email", "email"), SlotKind.ID_OR_EMAIL, True),),
        messages=(
            _ok("OK", "DELETED", "DOC", on=_JSON),
            _error("Invalid ID_email or email", "INVALID_RECIPIENT", "DOC", on=_JSON),
            _error("Invalid ID_email", "INVALID_RECIPIENT", "DOC", on=_XML),
            _error("", "NOT_FOUND", "W-SP", on=_XML, note="listed by Spoje-NET only"),
        ),
        json_params=("ID_email",),
        retry_reason="yes in effect: the second call returns the invalid-ID error",
        section=_LISTS,
        notes=(
            "an address deletes every record of it; JSON lists the IDs in 'emails' (a comma "
            "string), XML-RPC answers the ID as an i4"
        ),
    ),
    FunctionSpec(  # DOC move; XML answers failure with i4 0, not a string
        "mailkit.email.move",
        RetryClass.UNSAFE,
        (
            Slot("email_id", ("email_id", "ID_email", "email"), SlotKind.ID_OR_EMAIL, True),
            Slot("ID_mailing_list", ("ID_mailing_list", "ID_user_list"), SlotKind.INT, True),
        ),
        messages=(
            _error("Invalid ID_email or email", "INVALID_RECIPIENT", "DOC", on=_JSON),
            _ok(1, "MOVED", "DOC", on=_XML, field=None),
            _error(0, "NOT_MOVED", "DOC", on=_XML, field=None),
        ),
        json_params=("ID_email", "ID_user_list"),
        retry_reason=(
            "no: the ID changes on move, so a retry with the old ID fails; "
            "treat that as 'maybe done'"
        ),
        section=_LISTS,
        notes="the recipient gets a new ID_email in the target list",
    ),
    FunctionSpec(
        "mailkit.mailinglist.list",
        RetryClass.SAFE,
        (),
        json_params=(),
        retry_reason="read",
        section=_LISTS,
        notes="no doc page; wrapper and 2018 fixtures only (IDs strings in JSON, i4 in XML)",
    ),
    FunctionSpec(  # W-MK; DOC create
        "mailkit.mailinglist.create",
        RetryClass.UNSAFE,
        (
            Slot("name", kind=SlotKind.STRING, required=True),
            Slot("description", kind=SlotKind.STRING),
        ),
        messages=(
            _error("Missing name of mailing list", "MISSING_NAME", "DOC", "FX-2018"),
            _error("Mailing list exist", "LIST_EXISTS", "W-MK", "FX-2018", on=_XML),
        ),
        json_params=("name", "description"),
        retry_reason="no: a retry after success gets 'Mailing list exist' instead of the ID",
        section=_LISTS,
        notes="answers {data: <new list ID>} (a string in JSON, an i4 in XML-RPC)",
    ),
    FunctionSpec(  # W-MK; no page: the XML-era wrapper sends keep_list as "TRUE"/"FALSE"
        "mailkit.mailinglist.delete",
        RetryClass.SAFE,
        (
            Slot("ID_user_list", kind=SlotKind.INT, required=True),
            Slot("keep_list", kind=SlotKind.TRUE_FALSE),
        ),
        flags=frozenset({"keep_list"}),
        messages=(
            _ok("OK", "DELETED", "W-MK", "FX-2018", field="data"),
            _error("Missing ID_user_list", "MISSING_LIST", "W-MK"),
            _error("Invalid ID_user_list", "INVALID_LIST", "W-MK"),
        ),
        json_params=("ID_user_list", "keep_list"),
        retry_reason="yes in effect: the second call finds nothing (Invalid ID_user_list)",
        section=_LISTS,
        notes="no doc page; keep_list TRUE empties the list but keeps it",
    ),
    FunctionSpec(  # DOC edituser: an empty placeholder after email_id, kept for compatibility
        "mailkit.mailinglist.edituser",
        RetryClass.SAFE,
        (
            Slot("ID_user_list", kind=SlotKind.INT, required=True),
            Slot("email_id", ("ID_email", "email_id"), SlotKind.STRING, required=True),
            # The current page: a value with no type; an older one: <boolean>keep_values.
            Slot("keep_values", kind=SlotKind.PLACEHOLDER),
            Slot("personal", kind=SlotKind.STRUCT),
            Slot("address", kind=SlotKind.STRUCT),
            Slot("custom", kind=SlotKind.STRUCT),
        ),
        messages=(
            _ok("OK", "UPDATED", "W-MK", "FX-2018"),
            _error("Missing ID_email", "MISSING_RECIPIENT", "W-MK"),
            _error("Invalid ID_email", "INVALID_RECIPIENT", "W-MK"),
            _error("Missing ID_mailing_list", "MISSING_LIST", "W-MK"),
            _error("Invalid ID_mailing_list", "INVALID_LIST", "W-MK"),
            _error("Missing ID_user_list", "MISSING_LIST", "W-MK-HEAD"),
            _error("Invalid ID_user_list", "INVALID_LIST", "W-MK-HEAD"),
        ),
        json_params=("ID_user_list", "ID_email", "personal", "address", "custom"),
        retry_reason="yes: overwrites the same fields, sends nothing",
        section=_LISTS,
        notes="personal/address/custom values are base64; XML-RPC answers a bare 'OK'",
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
        messages=(
            _error("Missing ID_mailing_list", "MISSING_LIST", "W-MK"),
            _error("Invalid ID_mailing_list", "INVALID_LIST", "W-MK", "FX-2018"),
            _error("Missing ID_message", "MISSING_CAMPAIGN", "W-MK"),
            _error("Invalid ID_message", "INVALID_CAMPAIGN", "W-MK", "FX-2018"),
            _error("Missing send_to", "MISSING_RECIPIENT", "W-MK", "FX-2018"),
            _error("Missing sender address", "MISSING_SENDER", "W-MK"),
            _error("Attachment is not allowed", "ATTACHMENT_NOT_ALLOWED", "W-MK", "FX-2018"),
            _ok(0, "UPDATED", "W-MK", field="status"),
            _ok(1, "INSERTED", "W-MK", field="status"),
            _ok(2, "INSERTED_UNSUBSCRIBED", "W-MK", field="status"),
            _ok(3, "UPDATED_UNSUBSCRIBED", "W-MK", field="status"),
            _refusal(4, "FAULT", "W-MK", field="status"),
            _ok(6, "UPDATED_NOT_SENT", "W-MK", field="status"),
            _ok(7, "INSERTED_NOT_SENT", "W-MK", field="status"),
        ),
        json_params=(
            "mailinglist_id",
            "campaign_id",
            "main",
            "recipient",
            "contact",
            "custom",
            "attachment",
        ),
        retry_reason="no: sends an email each time",
        section=_DELIVERY,
        notes=(
            "answers {data: ID_email, data2: sending ID, data3: message ID, status}; statuses "
            "2/3/6/7 are successes that may not have sent; most values base64"
        ),
    ),
    FunctionSpec(  # DOC report.message.recipients (JSON; XML on the Czech page)
        "mailkit.report.message.recipients",
        RetryClass.SAFE,
        (Slot("ID_send", kind=SlotKind.INT, required=True),),
        messages=(
            _error("Missing ID_send", "MISSING_DELIVERY", "DOC", on=_JSON),
            _error("Invalid ID_send", "INVALID_DELIVERY", "DOC", on=_JSON),
        ),
        json_params=("ID_send",),
        retry_reason="read",
        section=_REPORTING,
        notes="per-recipient STATUS sent / failed / wait / wait_ab",
    ),
    # -- campaign management --------------------------------------------------------------
    FunctionSpec(  # DOC (EN section page; CZ)
        "mailkit.campaigns.list",
        RetryClass.SAFE,
        (Slot("ID_message", kind=SlotKind.INT),),
        json_params=("ID_message",),
        json_top_level=frozenset({"ID_message"}),  # the only example; it may be a doc slip
        retry_reason="read",
        section=_CAMPAIGNS,
        notes="an invalid ID_message gets an 'empty response' of undocumented shape",
    ),
    FunctionSpec(  # DOC (EN, cut inside the struct)
        "mailkit.campaigns.create",
        RetryClass.UNSAFE,
        (
            Slot(
                "campaign",
                kind=SlotKind.STRUCT,
                members=(
                    "name",
                    "subject",
                    "ID_allow_email",
                    "type_message",
                    "ID_mailing_list",
                    "ID_delivery_feed",
                    "ID_query",
                    "ID_template",
                    "google_analytics",
                    "analytic_name",
                    "ID_tagset",
                    "content",
                ),
            ),
        ),
        retry_reason="no: creates another campaign each time",
        section=_CAMPAIGNS,
        notes="one struct, base64 values; members after 'content' and the answer not captured",
    ),
    FunctionSpec(  # DOC (CZ, cut inside the struct)
        "mailkit.campaigns.update",
        RetryClass.UNSAFE,
        (
            Slot("ID_message", kind=SlotKind.STRING, required=True),
            Slot("update", kind=SlotKind.STRING),  # printed "update (true/false)", unexplained
            Slot(
                "campaign",
                kind=SlotKind.STRUCT,
                members=(
                    "name",
                    "subject",
                    "ID_allow_email",
                    "type_send",
                    "generate_txt",
                    "ID_mailing_list",
                    "ID_delivery_feed",
                    "ID_query",
                    "ID_template",
                    "test_mode",
                    "test_emails",
                    "google_analytics",
                ),
            ),
        ),
        retry_reason="probably: overwrites the same fields; the meaning of 'update' is unknown",
        section=_CAMPAIGNS,
        notes="struct values base64, booleans included; the answer is not captured",
    ),
    FunctionSpec(  # DOC (EN; CZ names the placeholder `condition`)
        "mailkit.campaigns.single.schedule",
        RetryClass.UNSAFE,
        (
            Slot("ID_message", kind=SlotKind.INT, required=True),
            Slot("subject", kind=SlotKind.STRING),
            Slot("send_date", kind=SlotKind.STRING, required=True),
            Slot("time_zone", kind=SlotKind.STRING),
            Slot("condition", kind=SlotKind.PLACEHOLDER),  # EN: an empty <string>
            Slot("ID_template", kind=SlotKind.ANY),  # EN <string>, CZ <i4>
            Slot("delivery", kind=SlotKind.STRUCT, members=("ID_query", "ID_delivery_feed")),
        ),
        json_params=(
            "ID_message",
            "subject",
            "send_date",
            "time_zone",
            "ID_delivery_feed",
            "ID_query",
        ),
        retry_reason="no: each call schedules another delivery; with 'now' it sends again",
        section=_CAMPAIGNS,
        notes="send_date 'YYYY-MM-DD hh:mm' or 'now'; the answer is not captured",
    ),
    FunctionSpec(  # DOC (EN; CZ marks ID_message required)
        "mailkit.campaigns.schedule.list",
        RetryClass.SAFE,
        (Slot("ID_message", kind=SlotKind.INT),),
        json_params=("ID_message",),
        retry_reason="read",
        section=_CAMPAIGNS,
        notes="'data' is '' when none is pending, else a list; XML-RPC names error_status 'error'",
    ),
    FunctionSpec(  # DOC (CZ); the examples call it ...schedule.timezones
        "mailkit.campaigns.schedule.timezone",
        RetryClass.SAFE,
        (),
        json_params=(),
        retry_reason="read",
        section=_CAMPAIGNS,
        notes="both request examples spell it mailkit.campaigns.schedule.timezones (plural)",
    ),
    FunctionSpec(
        "mailkit.campaigns.schedule.cancel",
        RetryClass.UNSAFE,
        retry_reason="probably: a second cancel can only fail or do nothing (not documented)",
        section=_CAMPAIGNS,
        notes="no page found; presumably takes schedule.list's ID_SEND_MESSAGE_QUEUE",
    ),
    FunctionSpec(
        "mailkit.campaigns.messages",
        RetryClass.UNSAFE,
        retry_reason="unknown: nothing known",
        section=_CAMPAIGNS,
        notes="no page found",
    ),
    FunctionSpec(
        "mailkit.campaigns.messages.last",
        RetryClass.UNSAFE,
        retry_reason="unknown: nothing known",
        section=_CAMPAIGNS,
        notes="no page found",
    ),
    FunctionSpec(  # DOC (EN types i4, CZ string for the IDs)
        "mailkit.campaigns.messages.test",
        RetryClass.UNSAFE,
        (
            Slot("ID_message", kind=SlotKind.ANY, required=True),
            Slot("email", kind=SlotKind.STRING, required=True),
            Slot("ID_preview_email", kind=SlotKind.ANY),
            Slot("A/B", kind=SlotKind.STRING),  # the page's own label: "A" or "B"
            Slot("content", kind=SlotKind.STRUCT, members=("content",)),
        ),
        messages=(
            _ok("OK", "SENT", "DOC", on=_XML),
            _ok("OK version A", "SENT_VERSION_A", "DOC", on=_XML),
            _ok("OK version B", "SENT_VERSION_B", "DOC", on=_XML),
        ),
        retry_reason="no: sends a test email each time; max 1 per 30 s",
        section=_CAMPAIGNS,
        notes="content variables base64; the error section is cut",
    ),
    FunctionSpec(  # DOC (CZ)
        "mailkit.campaigns.history",
        RetryClass.SAFE,
        (Slot("parameters", kind=SlotKind.STRUCT, members=("list_count", "ID_message")),),
        json_params=("list_count", "ID_message"),
        retry_reason="read",
        section=_CAMPAIGNS,
        notes="XML-RPC takes one struct; list_count 1-50 (default 10), newest first",
    ),
    # -- mailing list management ----------------------------------------------------------
    FunctionSpec(  # DOC (EN JSON; XML cut)
        "mailkit.mailinglist.import",
        RetryClass.UNSAFE,
        (
            Slot("ID_user_list", ("ID_user_list", "mailinglist_id"), SlotKind.INT, True),
            Slot("recipients", kind=SlotKind.ARRAY, required=True),
        ),
        json_params=("ID_user_list", "recipients"),
        retry_reason="probably: bulk upsert into one list (inferred); no email mentioned",
        section=_LISTS,
        notes="plain-text values, not base64; the answer is not documented",
    ),
    FunctionSpec(  # DOC
        "mailkit.mailinglist.getstatus",
        RetryClass.SAFE,
        (
            Slot("mailinglist_id", ("ID_user_list", "mailinglist_id"), SlotKind.INT, True),
            Slot("status", kind=SlotKind.STRING),
            Slot("change_date", kind=SlotKind.STRING),
            Slot("ID_email", kind=SlotKind.STRING),
            Slot("limit", kind=SlotKind.STRING),
        ),
        json_params=("ID_user_list", "status", "change_date", "ID_email", "limit"),
        retry_reason="read",
        section=_LISTS,
        notes="limit max 10000; page with the ID_email cursor (inclusive or not: undocumented)",
    ),
    FunctionSpec(  # DOC
        "mailkit.mailinglist.unsubscribed",
        RetryClass.SAFE,
        (Slot("range_from", kind=SlotKind.STRING),),
        json_params=("range_from",),
        retry_reason="read",
        section=_LISTS,
        notes="account-wide; EMAIL may be a phone number; XML shows ID_UNSUBSCRIBE_GROUP as i4",
    ),
    FunctionSpec(  # DOC
        "mailkit.mailinglist.engagement",
        RetryClass.SAFE,
        (
            Slot("ID_user_list", kind=SlotKind.INT, required=True),
            Slot("ID_email", kind=SlotKind.INT),
            Slot("limit", kind=SlotKind.INT),
        ),
        json_params=("ID_user_list", "ID_email", "limit"),
        retry_reason="read (throttled if polled more than daily)",
        section=_LISTS,
        notes="default limit 25000; scores update once a day",
    ),
    FunctionSpec(  # DOC
        "mailkit.email.getstatus.history",
        RetryClass.SAFE,
        (Slot("parameters", kind=SlotKind.STRUCT, members=("email", "ID_email")),),
        json_params=("email", "ID_email"),
        retry_reason="read",
        section=_LISTS,
        notes="XML-RPC takes one struct; ID_email wins over email; the last year only",
    ),
    FunctionSpec(  # DOC (XML only, cut)
        "mailkit.email.topics",
        RetryClass.SAFE,
        (Slot("parameters", kind=SlotKind.STRUCT, members=("ID_topics", "email", "activate_all")),),
        flags=frozenset({"activate_all"}),
        messages=(
            _ok(
                "OK",
                "SET",
                "LIB",
                note="no answer is captured; the success text of the other email.* calls",
            ),
        ),
        retry_reason="yes: sets an absolute topic state; no email mentioned",
        section=_LISTS,
        notes=(
            "with neither activate_all nor ID_topics it unsubscribes from every topic; "
            "no JSON example, no answer captured"
        ),
    ),
    # -- campaign delivery ----------------------------------------------------------------
    FunctionSpec(  # DOC (JSON; XML cut after the first recipient's members)
        "mailkit.sendmail_mass",
        RetryClass.UNSAFE,
        json_params=("recipients", "options"),
        json_top_level=frozenset({"recipients", "options"}),
        retry_reason="no: sends to every recipient each time",
        section=_DELIVERY,
        notes=(
            "JSON puts recipients and options at the top level; XML-RPC: an array of "
            "recipient structs first, where options go is not captured"
        ),
    ),
    FunctionSpec(  # DOC
        "mailkit.sendmail_mass.results",
        RetryClass.SAFE,
        (
            Slot("id_send", ("ID_send", "id_send"), SlotKind.INT),
            Slot("request_id", kind=SlotKind.INT, required=True),
        ),
        messages=(
            _ok(
                "OK",
                "NO_ERRORS_YET",
                "DOC",
                field="status",
                note="also while the request is still being processed",
            ),
            _refusal(
                2,
                "RECIPIENT_PERMANENT",
                "DOC",
                on=_JSON,
                field="ERROR_CODE",
                note="INFO 'invalid email status permanent'",
            ),
            _refusal(
                6,
                "RECIPIENT_UNSUBSCRIBED",
                "DOC",
                on=_JSON,
                field="ERROR_CODE",
                note="INFO 'unsubscribed email'",
            ),
        ),
        json_params=("ID_send", "request_id"),
        retry_reason="read (call it 30 min or more after the send)",
        section=_DELIVERY,
        notes="{status: OK} or {results: [...]} per recipient; the full ERROR_CODE list is cut",
    ),
    FunctionSpec(  # DOC (JSON; XML cut in the recipient struct)
        "mailkit.sendsms",
        RetryClass.UNSAFE,
        json_params=("campaign", "recipient", "content"),
        retry_reason="no: sends an SMS each time",
        section=_DELIVERY,
        notes=(
            "XML-RPC: campaign and recipient structs, then presumably content (not captured); "
            "use_utf/allow_split are JSON booleans"
        ),
    ),
    # -- reporting ------------------------------------------------------------------------
    FunctionSpec(  # DOC (EN)
        "mailkit.report",
        RetryClass.SAFE,
        (Slot("range_from", kind=SlotKind.STRING), Slot("range_to", kind=SlotKind.STRING)),
        json_params=("range_from", "range_to"),
        retry_reason="read",
        section=_REPORTING,
        notes="dates YYYY-MM-DD",
    ),
    FunctionSpec(  # DOC (EN)
        "mailkit.report.campaign",
        RetryClass.SAFE,
        (
            Slot("ID_message", kind=SlotKind.INT, required=True),
            Slot("range_from", kind=SlotKind.STRING),
            Slot("range_to", kind=SlotKind.STRING),
        ),
        json_params=("ID_message", "range_from", "range_to"),
        retry_reason="read",
        section=_REPORTING,
        notes="one record per delivery (ID_SEND)",
    ),
    FunctionSpec(  # DOC (CZ)
        "mailkit.report.message",
        RetryClass.SAFE,
        (Slot("ID_send", kind=SlotKind.INT, required=True),),
        messages=(
            _error("Missing ID_send", "MISSING_DELIVERY", "LIB", note=_SIBLINGS_PRESUMED),
            _error("Invalid ID_send", "INVALID_DELIVERY", "LIB", note=_SIBLINGS_PRESUMED),
        ),
        json_params=("ID_send",),
        retry_reason="read",
        section=_REPORTING,
        notes="one object; REV a double in XML-RPC, a string in JSON",
    ),
    FunctionSpec(  # DOC
        "mailkit.report.message.feedback",
        RetryClass.SAFE,
        (Slot("ID_send", kind=SlotKind.INT, required=True), Slot("period", kind=SlotKind.STRING)),
        json_params=("period", "ID_send"),
        retry_reason="read",
        section=_REPORTING,
        notes="period DAY / WEEK / MONTH (default DAY); JSON mixes strings and numbers",
    ),
    FunctionSpec(  # DOC (EN JSON; XML on the Czech page)
        "mailkit.report.message.links",
        RetryClass.SAFE,
        (Slot("ID_send", kind=SlotKind.INT, required=True),),
        messages=(
            _error("Missing ID_send", "MISSING_DELIVERY", "DOC", on=_JSON),
            _error("Invalid ID_send", "INVALID_DELIVERY", "DOC", on=_JSON),
        ),
        json_params=("ID_send",),
        retry_reason="read",
        section=_REPORTING,
        notes="only links that were clicked",
    ),
    FunctionSpec(  # DOC (EN, JSON only)
        "mailkit.report.message.links.visitors",
        RetryClass.SAFE,
        messages=(
            _error("Missing ID_send", "MISSING_DELIVERY", "LIB", note=_SIBLINGS_PRESUMED),
            _error("Invalid ID_send", "INVALID_DELIVERY", "LIB", note=_SIBLINGS_PRESUMED),
        ),
        json_params=("ID_send", "ID_url"),
        retry_reason="read",
        section=_REPORTING,
        notes="no XML-RPC request documented; personal data (IP, user agent) in DATA",
    ),
    FunctionSpec(  # DOC (CZ)
        "mailkit.report.message.bounces",
        RetryClass.SAFE,
        (Slot("ID_send", kind=SlotKind.INT, required=True),),
        json_params=("ID_send",),
        retry_reason="read",
        section=_REPORTING,
        notes="the recommended bounce report for regular integration",
    ),
    FunctionSpec(  # DOC
        "mailkit.report.raw.messages",
        RetryClass.SAFE,
        (
            Slot("ID_message", kind=SlotKind.INT),
            Slot("ID_send", kind=SlotKind.INT),
            Slot("ID_send_message", kind=SlotKind.INT),
            Slot("limit", kind=SlotKind.INT),
        ),
        json_params=("ID_message", "ID_send", "ID_send_message", "limit"),
        retry_reason="read (limited query frequency; 25000 rows per call)",
        section=_REPORTING,
        notes="bulk export; cursor ID_send_message; lower-case keys",
    ),
    FunctionSpec(  # DOC
        "mailkit.report.raw.bounces",
        RetryClass.SAFE,
        (
            Slot("ID_message", kind=SlotKind.INT),
            Slot("ID_send", kind=SlotKind.INT),
            Slot("ID_undelivered_log", kind=SlotKind.INT),
            Slot("limit", kind=SlotKind.INT),
        ),
        json_params=("ID_message", "ID_send", "ID_undelivered_log", "limit"),
        retry_reason="read (limited query frequency; 25000 rows per call)",
        section=_REPORTING,
        notes="bulk export; cursor ID_undelivered_log",
    ),
    FunctionSpec(
        "mailkit.report.raw.responses",
        RetryClass.UNSAFE,
        retry_reason="presumably read: the name suggests a read-only export; nothing documented",
        section=_REPORTING,
        notes="no page found",
    ),
    # -- profile --------------------------------------------------------------------------
    FunctionSpec(  # DOC (CZ, XML only)
        "mailkit.profile.emails.list",
        RetryClass.SAFE,
        (),
        retry_reason="read",
        section=_PROFILE,
        notes="sender addresses (ID_ALLOW_EMAIL); SPF as the string TRUE/FALSE",
    ),
    FunctionSpec(  # DOC (CZ)
        "mailkit.profile.queries.list",
        RetryClass.SAFE,
        (),
        json_params=(),
        retry_reason="read",
        section=_PROFILE,
        notes="XML-RPC wraps the list in {error_status, data}",
    ),
    # -- other ----------------------------------------------------------------------------
    FunctionSpec(  # DOC (XML only)
        "mailkit.filemanager.upload",
        RetryClass.UNSAFE,
        (Slot("files", kind=SlotKind.ARRAY, required=True),),
        messages=(
            _ok(0, "UPLOADED", "DOC", on=_XML, field="ERROR"),
            _refusal(1, "FORBIDDEN_EXTENSION", "DOC", on=_XML, field="ERROR"),
            _ok(
                2,
                "UPLOADED_TO_ROOT",
                "DOC",
                on=_XML,
                field="ERROR",
                note="folder not found: stored in the root anyway",
            ),
            _refusal(3, "MISSING_DATA", "DOC", on=_XML, field="ERROR"),
            _refusal(4, "MISSING_NAME", "DOC", on=_XML, field="ERROR"),
            _ok(5, "RENAMED", "DOC", on=_XML, field="ERROR", note="a duplicate name"),
        ),
        retry_reason="no: uploads another copy; a duplicate name gets renamed (code 5)",
        section=_OTHER,
        notes="an array of {folder_name, name (max 50), data (base64), description}",
    ),
    FunctionSpec(  # DOC (CZ, XML only)
        "mailkit.filemanager.list",
        RetryClass.SAFE,
        (Slot("ID_folder", kind=SlotKind.STRING),),
        messages=(
            _error(
                "Invalid ID_folder", "INVALID_FOLDER", "LIB", note="filemanager.delete's string"
            ),
        ),
        retry_reason="read",
        section=_OTHER,
        notes="without ID_folder the root folder",
    ),
    FunctionSpec(  # DOC (XML only)
        "mailkit.filemanager.delete",
        RetryClass.SAFE,
        (
            Slot("ID_file", ("ID_file", "ID_folder"), SlotKind.INT, required=True),
            Slot("file/dir", kind=SlotKind.STRING, required=True),  # the page's own label
        ),
        messages=(
            _ok("DELETED", "DELETED", "DOC", on=_XML),
            _error("Invalid ID_file", "INVALID_FILE", "DOC", on=_XML),
            _error("Invalid ID_folder", "INVALID_FOLDER", "DOC", on=_XML),
            _error("Directory is not empty", "FOLDER_NOT_EMPTY", "DOC", on=_XML),
        ),
        retry_reason="yes in effect: the second call returns Invalid ID_file / Invalid ID_folder",
        section=_OTHER,
        notes="'file' or 'dir' second; only an empty folder can be deleted",
    ),
)


def spec_for(function: str) -> FunctionSpec | None:
    """The known spec of `function`, or None for a function the table does not describe."""
    return FUNCTIONS.get(function)
