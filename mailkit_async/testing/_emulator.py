"""The emulator core: account state and the documented behaviour of each function.

`MailkitEmulator.handle` is synchronous and never awaits, so every call is atomic on the
event loop that drives it, whichever way it is mounted. Documented answer strings come from
the library's function table; the few answers no page documents are the emulator's own
choice, marked where they are made.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import random
from collections.abc import Callable, Iterable, Mapping

import attrs

from .._credentials import SecretText
from .._errors import InvalidArgumentError
from .._functions import FUNCTIONS, GLOBAL_MESSAGES, Message, Protocols
from .._validate import (
    check_count,
    check_flag,
    check_instance,
    check_text,
    checked_arguments,
    describe,
)
from ._faults import FAULT_KINDS, FaultEvent, FaultKind, Faults, fault_reply
from ._transport import EmulatorTransport
from ._values import (
    ADDRESS_FIELDS,
    CUSTOM_FIELDS,
    PERSONAL_FIELDS,
    PROFILE_KEYS,
    absent,
    count,
    decode_base64,
    decode_base64_bytes,
    flag,
    integer,
    is_address,
    is_phone,
    parse_datetime,
    profile_of,
    struct,
)
from ._wire import PROTOCOLS, BadRequestError, Call, EmulatorResponse, decode, failure, plain, reply

__all__ = ["Campaign", "MailingList", "MailkitEmulator", "Recipient", "SentMessage"]

_FIRST_ID_EMAIL = 12345678
_FIRST_ID_SEND = 500001
_FIRST_ID_SEND_MESSAGE = 700000001
_LANGUAGES = frozenset({"cs", "en", "de", "ru", "pl", "sk", "hu"})
_CUSTOM_KEYS = tuple(CUSTOM_FIELDS.values())
_PROFILE_KEY_SET = frozenset({*PROFILE_KEYS, *_CUSTOM_KEYS})
_MAX_LIST_PAGE = 10000  # mailinglist.getstatus: "max. 10000"
_UNAUTHORIZED, _DISALLOWED_IP = GLOBAL_MESSAGES
_TIME = "%Y-%m-%d %H:%M:%S"

# drop_before hangs up before anything happens: there is no answer to lose.
_NOTHING_DONE = EmulatorResponse(0, (), b"", action="drop")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


@attrs.define
class Recipient:
    """One recipient on one mailing list: the emulator's live record, editable by tests.

    `profile` holds getstatus fields by their wire names (`FIRST_NAME`, `CUSTOM_3`, ...).
    `unsubscribed_until` is the end of a temporary unsubscribe, None when permanent.
    `pending` is a double opt-in waiting for the recipient's click (see
    `MailkitEmulator.confirm`): a new record then is neither subscribed nor unsubscribed, an
    unsubscribed one stays unsubscribed until the click. `unsubscribed_at` is when it was
    unsubscribed (None while subscribed, and for a new double opt-in); `unsubscribed_topics`
    holds campaign topic IDs it left. Times are UTC.
    """

    id_email: int = attrs.field(on_setattr=attrs.setters.frozen)
    email: str = attrs.field(on_setattr=attrs.setters.frozen)
    mailing_list_id: int = attrs.field(on_setattr=attrs.setters.frozen)
    subscribed: bool = True
    unsubscribed_until: datetime.date | None = None
    profile: dict[str, str] = attrs.Factory(dict)
    created_at: datetime.datetime = attrs.Factory(_now)
    changed_at: datetime.datetime = attrs.Factory(_now)
    pending: bool = False
    unsubscribed_at: datetime.datetime | None = None
    unsubscribed_topics: frozenset[int] = frozenset()


@attrs.define
class MailingList:
    """One mailing list of the account."""

    id: int = attrs.field(on_setattr=attrs.setters.frozen)
    name: str
    description: str = ""
    enabled: bool = True


@attrs.define
class Campaign:
    """One email campaign, for sendmail: its sender and whether it takes attachments.

    `sender` None makes sendmail answer "Missing sender address".
    """

    id: int = attrs.field(on_setattr=attrs.setters.frozen)
    name: str
    subject: str = ""
    sender: str | None = "news@example.com"
    sender_name: str = ""
    attachments: bool = False
    id_send: int = 0  # the campaign's sending (ID_send), once it sent


@attrs.frozen
class SentMessage:
    """One campaign message sendmail sent: what the recipient got, values decoded."""

    id_send_message: int
    id_send: int
    campaign_id: int
    id_email: int
    mailing_list_id: int
    send_to: str
    subject: str
    body: str
    content: Mapping[str, str]
    attachments: tuple[str, ...]
    sent_at: datetime.datetime


@attrs.define
class _Injection:
    function: str
    response: EmulatorResponse
    remaining: int


class _RefusalError(Exception):
    """A handler's early answer: raised with the reply to send, caught by `_act`."""

    def __init__(self, response: EmulatorResponse) -> None:
        super().__init__()
        self.response = response


@functools.cache
def _message(function: str, status: str, protocol: str, field: str | None) -> Message:
    return FUNCTIONS[function].message_for(status, Protocols.named(protocol), field)


def _text(call: Call, status: str, *values: object, field: str | None = "error") -> str:
    """The documented answer of the called function for `status` on the call's protocol."""
    return _message(call.function, status, call.protocol, field).render(*values)


def _code(call: Call, status: str, field: str | None) -> object:
    """The documented integer answer (or member) of the called function for `status`."""
    return _message(call.function, status, call.protocol, field).text


def _fail(call: Call, status: str, *values: object) -> _RefusalError:
    """The documented error answer for `status`, to raise."""
    return _RefusalError(failure(call.protocol, _text(call, status, *values)))


def _own(call: Call, message: str) -> _RefusalError:
    """An error answer no page documents: the emulator's choice, to raise."""
    return _RefusalError(failure(call.protocol, message))


class MailkitEmulator:
    """An in-memory Mailkit account answering the JSON and XML-RPC APIs.

    Serve it in-process with `EmulatorTransport` or on loopback with `serve`. `allowed_ips`
    (addresses or networks) arms the IP allow-list; `auto_create` lets calls naming an
    unknown, well-formed address create it first. Assign a `Faults` plan to `faults` to
    inject seeded failures.
    """

    @checked_arguments
    def __init__(
        self,
        client_id: str,
        client_md5: str,
        *,
        allowed_ips: Iterable[str] | None = None,
        auto_create: bool = False,
    ) -> None:
        # Wrapped and forgotten first: a traceback records this frame's locals.
        given: object = client_md5
        del client_md5
        md5 = SecretText(given) if isinstance(given, str) else None
        del given
        if md5 is None:
            raise InvalidArgumentError("client_md5 must be a str")
        self._client_id = check_text(client_id, name="client_id", max_length=64)
        self._client_md5 = check_text(md5, name="client_md5", max_length=1000)
        check_flag(auto_create, name="auto_create")
        if isinstance(allowed_ips, str):
            raise InvalidArgumentError(
                "allowed_ips takes a collection of addresses, not one string"
            )
        self._allowed = None if allowed_ips is None else _networks(allowed_ips)
        self._auto_create = auto_create
        self._recipients: dict[int, Recipient] = {}
        self._ids_by_address: dict[str, list[int]] = {}
        self._next_id = _FIRST_ID_EMAIL
        self._lists = {1: MailingList(1, "Default", "", enabled=True)}
        self._next_list_id = 2
        self._lists_created: list[int] = []
        self._campaigns: dict[int, Campaign] = {}
        self._topics: dict[int, str] = {}
        self._next_id_send = _FIRST_ID_SEND
        self._messages: list[SentMessage] = []
        self._wipe_queue: set[int] = set()
        self._wipe_requests: dict[int, int] = {}
        self._confirmations: dict[int, int] = {}
        self._optouts: dict[int, int] = {}
        self._deleted: list[int] = []
        self._moved: dict[int, int] = {}
        self._calls: list[tuple[str, str]] = []
        self._injections: list[_Injection] = []
        self._faults: Faults | None = None
        self._rng = random.Random(0)
        self._fault_counts: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        self._fault_log: list[FaultEvent] = []

    # -- arranging and inspecting state ---------------------------------------------------

    @checked_arguments
    def add_mailing_list(self, name: str, description: str = "", *, enabled: bool = True) -> int:
        """Create a mailing list and return its ID."""
        check_text(name, name="name")
        check_text(description, name="description", max_length=10_000)
        check_flag(enabled, name="enabled")
        list_id = self._next_list_id
        self._next_list_id += 1
        self._lists[list_id] = MailingList(list_id, name, description, enabled)
        return list_id

    @checked_arguments
    def add_campaign(
        self,
        name: str,
        *,
        subject: str = "",
        sender: str | None = "news@example.com",
        attachments: bool = False,
    ) -> int:
        """Create an email campaign for sendmail and return its ID (ID_message)."""
        check_text(name, name="name")
        check_text(subject, name="subject", max_length=10_000)
        if sender is not None and not is_address(check_text(sender, name="sender")):
            raise InvalidArgumentError(f"sender: not an email address: {describe(sender)}")
        check_flag(attachments, name="attachments")
        campaign_id = 1000 + len(self._campaigns) + 1
        self._campaigns[campaign_id] = Campaign(
            campaign_id, name, subject, sender, attachments=attachments
        )
        return campaign_id

    @checked_arguments
    def add_topic(self, name: str) -> int:
        """Create a campaign topic (for email.topics) and return its ID."""
        check_text(name, name="name")
        topic_id = 100 + len(self._topics) + 1
        self._topics[topic_id] = name
        return topic_id

    @checked_arguments
    def add_recipient(
        self,
        email: str,
        *,
        subscribed: bool = True,
        mailing_list_id: int = 1,
        profile: Mapping[str, str] | None = None,
    ) -> Recipient:
        """Add a recipient to a mailing list; IDs count up from 12345678. `email` is an
        address, or an SMS recipient's phone number ("+420777123456")."""
        text = check_text(email, name="email", max_length=254)
        if not (is_address(text) or is_phone(text)):
            raise InvalidArgumentError(
                f"email: not an email address or phone number: {describe(email)}"
            )
        check_flag(subscribed, name="subscribed")
        if check_count(mailing_list_id, name="mailing_list_id") not in self._lists:
            raise InvalidArgumentError(f"mailing_list_id: no mailing list {mailing_list_id}")
        if self._on_list(email, mailing_list_id) is not None:
            raise InvalidArgumentError(
                f"email: {email!r} is already on mailing list {mailing_list_id}"
            )
        _check_profile(profile)
        return self._insert(email, mailing_list_id, subscribed, dict(profile or {}))

    @checked_arguments
    def recipient(self, email_or_id: str | int) -> Recipient | None:
        """Find a recipient by ID_email or by address (case-insensitive; lowest ID first)."""
        _check_key(email_or_id, "email_or_id")
        found = self._lookup(email_or_id, create=False)
        return found[0] if found else None

    @checked_arguments
    def confirm(self, email_or_id: str | int) -> list[Recipient]:
        """The recipient clicks the opt-in link: every pending record it names is subscribed.

        Raises ValueError when nothing it names waits for a confirmation.
        """
        _check_key(email_or_id, "email_or_id")
        pending = [r for r in self._lookup(email_or_id, create=False) or () if r.pending]
        if not pending:
            raise ValueError(f"no confirmation is pending for {email_or_id!r}")
        for recipient in pending:
            self._set_subscribed(recipient, True)
        return pending

    @property
    def recipients(self) -> list[Recipient]:
        """Every recipient record, in ID order."""
        return [self._recipients[i] for i in sorted(self._recipients)]

    @checked_arguments
    def subscribers(self, mailing_list_id: int) -> frozenset[str]:
        """The addresses subscribed on a mailing list (pending double opt-ins not included)."""
        check_count(mailing_list_id, name="mailing_list_id")
        return frozenset(
            r.email
            for r in self._recipients.values()
            if r.mailing_list_id == mailing_list_id and r.subscribed
        )

    @property
    def unsubscribed(self) -> frozenset[int]:
        """ID_emails of the unsubscribed records (a new double opt-in is not one yet)."""
        return frozenset(r.id_email for r in self._recipients.values() if _left(r))

    @property
    def mailing_lists(self) -> dict[int, MailingList]:
        """The account's mailing lists by ID."""
        return dict(self._lists)

    @property
    def lists_created(self) -> tuple[int, ...]:
        """IDs of the lists mailinglist.create made, in order (deleted ones included)."""
        return tuple(self._lists_created)

    @property
    def campaigns(self) -> dict[int, Campaign]:
        """The campaigns `add_campaign` made, by ID."""
        return dict(self._campaigns)

    @property
    def topics(self) -> dict[int, str]:
        """The account's campaign topics by ID."""
        return dict(self._topics)

    @property
    def wipe_queue(self) -> frozenset[int]:
        """ID_emails queued for the next daily wipe run."""
        return frozenset(self._wipe_queue)

    @property
    def wipe_requests(self) -> dict[int, int]:
        """How many wipe calls reached each ID_email, duplicates included."""
        return dict(self._wipe_requests)

    @property
    def confirmations_sent(self) -> dict[int, int]:
        """Opt-in confirmation emails sent per ID_email.

        Sent by revalidate with agreement FALSE and by adduser with confirm TRUE.
        """
        return dict(self._confirmations)

    @property
    def optouts_sent(self) -> dict[int, int]:
        """Opt-out confirmation emails sent per ID_email (unsubscribe without send_optout FALSE)."""
        return dict(self._optouts)

    @property
    def messages_sent(self) -> list[SentMessage]:
        """Every campaign message sendmail sent, in order."""
        return list(self._messages)

    @property
    def deleted(self) -> tuple[int, ...]:
        """ID_emails email.delete removed, in order."""
        return tuple(self._deleted)

    @property
    def moved(self) -> dict[int, int]:
        """email.move's old ID_email -> the new one in the target list."""
        return dict(self._moved)

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(protocol, function) of every decodable call received, in order.

        Calls that got an injected fault are here too: they reached the server.
        """
        return list(self._calls)

    @checked_arguments
    def clear_calls(self) -> None:
        """Forget the call log; a long run (a soak or a benchmark) keeps memory flat with it."""
        self._calls.clear()

    @property
    def faults(self) -> Faults | None:
        """The fault plan in force; None (the default) injects nothing.

        Assigning a plan re-seeds the emulator's RNG from `Faults.seed`, so the same plan
        and the same calls give the same faults. `fault_counts` and `fault_log` keep
        counting across assignments.
        """
        return self._faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        if faults is not None and not isinstance(faults, Faults):
            raise InvalidArgumentError(
                f"faults takes a Faults plan or None, not {type(faults).__name__}"
            )
        if faults is not None:
            self._rng = random.Random(faults.seed)
        self._faults = faults

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many faults of each kind were injected, every kind listed (zeros included)."""
        return dict(self._fault_counts)

    @property
    def fault_log(self) -> list[FaultEvent]:
        """Every injected fault in order, as (function, kind, recipient key) tuples.

        A call that is both slow and faulted logs its fault first, then "slow".
        """
        return list(self._fault_log)

    @checked_arguments
    def process_wipe_queue(self) -> frozenset[int]:
        """Run the daily wipe: delete every queued recipient, empty the queue, return the IDs."""
        wiped = frozenset(self._wipe_queue)
        for id_email in wiped:
            recipient = self._recipients.get(id_email)
            if recipient is not None:  # deleted in the meantime: nothing left to wipe
                self._remove(recipient)
        self._wipe_queue.clear()
        return wiped

    @checked_arguments
    def inject(
        self,
        function: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str | None = "text/plain",
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `function` ("*": any call) with this raw reply.

        Injected replies change no state and skip every check, even decoding the body.
        """
        check_text(function, name="function", max_length=200)
        check_instance(body, bytes, name="body", what="bytes")
        check_count(status, name="status", minimum=100, maximum=999)
        check_instance(headers, (Mapping, type(None)), name="headers", what="a mapping or None")
        check_count(times, name="times")
        # Checked here so neither mount has to fail half-way through a reply.
        if content_type is not None:
            _check_header_text(content_type, "content_type")
        pairs = [("Content-Type", content_type)] if content_type is not None else []
        given: list[tuple[object, object]] = list((headers or {}).items())  # checked at run time
        for name, value in given:
            _check_header_text(name, "headers")
            _check_header_text(value, "headers")
        pairs += (headers or {}).items()
        response = EmulatorResponse(status, tuple(pairs), body)
        self._injections.append(_Injection(function, response, times))

    @checked_arguments
    def transport(self, *, client_ip: str = "127.0.0.1") -> EmulatorTransport:
        """An httpx transport serving this emulator in-process."""
        check_text(client_ip, name="client_ip", max_length=100)
        return EmulatorTransport(self, client_ip=client_ip)

    # -- the pure core --------------------------------------------------------------------

    @checked_arguments
    def handle(
        self, path: str, body: bytes, *, client_ip: str = "127.0.0.1", method: str = "POST"
    ) -> EmulatorResponse:
        """Answer one HTTP request; the query string of `path` is ignored."""
        check_text(path, name="path", max_length=64 * 1024)
        check_instance(body, (bytes, bytearray, memoryview), name="body", what="bytes")
        check_text(client_ip, name="client_ip", max_length=100)
        check_text(method, name="method", max_length=100)
        protocol = PROTOCOLS.get(path.partition("?")[0])
        if protocol is None:
            return plain(404, "Not Found")
        if method != "POST":
            return plain(405, "Method Not Allowed", ("Allow", "POST"))
        try:
            call = decode(protocol, body)
        except BadRequestError as exc:
            # The real API's answer is undocumented; a 400 tells a broken client apart.
            return self._take_injection(None) or plain(400, f"Bad Request: {exc}")
        self._calls.append((protocol, call.function))
        injected = self._take_injection(call.function)
        if injected is not None:
            return injected
        if not self._ip_allowed(client_ip):
            return failure(protocol, _DISALLOWED_IP.render(client_ip))
        if not self._authorized(call):
            return failure(protocol, _UNAUTHORIZED.render())
        # With no plan this one check is all faults cost.
        if self._faults is not None and self._faults._covers(call.function):
            return self._handle_with_faults(self._faults, call)
        return self._act(call)

    def _act(self, call: Call) -> EmulatorResponse:
        handler = _HANDLERS.get(call.function, MailkitEmulator._unknown_function)
        try:
            return handler(self, call)
        except _RefusalError as refused:
            return refused.response

    def _handle_with_faults(self, faults: Faults, call: Call) -> EmulatorResponse:
        kind, slow = faults._draw(self._rng)
        if kind is None:
            response = self._act(call)
        elif kind == "drop_before":
            response = _NOTHING_DONE
        elif kind == "drop_after":
            response = attrs.evolve(self._act(call), action="drop")
        elif kind == "truncate":
            response = attrs.evolve(self._act(call), action="truncate")
        else:
            response = fault_reply(kind, faults)
        if kind is not None:
            self._record_fault(call, kind)
        if slow:
            self._record_fault(call, "slow")
            response = attrs.evolve(response, delay=faults.slow_seconds)
        return response

    def _record_fault(self, call: Call, kind: FaultKind) -> None:
        key = _fault_key(call)
        id_email = integer(key)
        logged = id_email if id_email is not None else key if isinstance(key, str) else None
        self._fault_counts[kind] += 1
        self._fault_log.append(FaultEvent(call.function, kind, logged))

    def _take_injection(self, function: str | None) -> EmulatorResponse | None:
        for index, injection in enumerate(self._injections):
            if injection.function in ("*", function):
                injection.remaining -= 1
                if not injection.remaining:
                    del self._injections[index]
                return injection.response
        return None

    def _ip_allowed(self, client_ip: str) -> bool:
        if self._allowed is None:
            return True
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False
        return any(address in network for network in self._allowed)

    def _authorized(self, call: Call) -> bool:
        # XML-RPC sends client_id as <int> in the docs and as <string> in the PHP wrappers.
        client_id = call.client_id
        if isinstance(client_id, bool) or not isinstance(client_id, int | str):
            return False
        return str(client_id) == self._client_id and call.md5 == self._client_md5

    # -- recipients by ID or address ------------------------------------------------------

    def _matching(self, address: str) -> list[Recipient]:
        return [self._recipients[i] for i in self._ids_by_address.get(address.lower(), ())]

    def _on_list(self, address: str, mailing_list_id: int) -> Recipient | None:
        for recipient in self._matching(address):
            if recipient.mailing_list_id == mailing_list_id:
                return recipient
        return None

    def _insert(
        self, email: str, mailing_list_id: int, subscribed: bool, profile: dict[str, str]
    ) -> Recipient:
        recipient = Recipient(self._next_id, email, mailing_list_id, subscribed, profile=profile)
        if not subscribed:
            recipient.unsubscribed_at = recipient.created_at
        self._next_id += 1
        self._recipients[recipient.id_email] = recipient
        self._ids_by_address.setdefault(email.lower(), []).append(recipient.id_email)
        return recipient

    def _remove(self, recipient: Recipient) -> None:
        del self._recipients[recipient.id_email]
        ids = self._ids_by_address[recipient.email.lower()]
        ids.remove(recipient.id_email)
        if not ids:
            del self._ids_by_address[recipient.email.lower()]

    def _lookup(self, key: object, *, create: bool) -> list[Recipient] | None:
        """Every recipient `key` names: an ID, or an address (or phone number) naming all
        its records.

        None when `key` is neither an ID nor a well-formed address or phone number.
        """
        id_email = integer(key)
        if id_email is not None:
            found = self._recipients.get(id_email)
            return [found] if found else []
        if not isinstance(key, str) or not (is_address(key) or is_phone(key)):
            return None
        matches = self._matching(key)
        if not matches and create:
            matches = [self.add_recipient(key)]
        return matches

    def _target(self, call: Call) -> tuple[object, list[Recipient] | None]:
        """The caller's recipient key (ID_email first, then email) and what it names."""
        key = _key(call)
        if key is None:
            return None, None
        return key, self._lookup(key, create=self._auto_create)

    def _set_subscribed(self, recipient: Recipient, subscribed: bool) -> None:
        recipient.subscribed = subscribed
        recipient.pending = False
        recipient.changed_at = _now()
        if subscribed:
            recipient.unsubscribed_until = None
            recipient.unsubscribed_at = None
        else:
            recipient.unsubscribed_at = recipient.changed_at

    def _list_of(
        self, call: Call, name: str, missing: _RefusalError, invalid: _RefusalError
    ) -> int:
        value = call.params.get(name)
        if absent(value):
            raise missing
        list_id = integer(value)
        if list_id is None or list_id not in self._lists:
            raise invalid
        return list_id

    def _status_of(self, recipient: Recipient) -> str:
        if recipient.subscribed:
            return "enabled"
        # A new double opt-in: "unknown" is among the documented values; our choice.
        return "unsubscribe" if _left(recipient) else "unknown"

    def _send_opt_in(self, recipient: Recipient, *, new: bool = False) -> None:
        """A double opt-in email goes out; `confirm` subscribes the record."""
        if not recipient.subscribed:
            if not new and recipient.unsubscribed_at is None:
                # Unsubscribed by a test setting `subscribed`: it stays unsubscribed.
                recipient.unsubscribed_at = recipient.changed_at
            recipient.pending = True
        count(self._confirmations, recipient.id_email)

    def _status_record(self, recipient: Recipient, protocol: str) -> dict[str, object]:
        def fields(keys: tuple[str, ...]) -> dict[str, str]:
            return {k: recipient.profile.get(k, "") for k in keys}

        # IDs are strings in JSON and <i4> in XML-RPC (the Czech page; FX-2018).
        as_id: Callable[[int], object] = str if protocol == "json" else int
        return {
            "ID_EMAIL": as_id(recipient.id_email),
            "EMAIL": recipient.email,
            "ID_MAILING_LIST": as_id(recipient.mailing_list_id),
            **fields(PROFILE_KEYS),
            "DATE": f"{recipient.created_at:{_TIME}}",
            "CHANGE_DATE": f"{recipient.changed_at:{_TIME}}",
            "STATUS": self._status_of(recipient),
            **fields(_CUSTOM_KEYS),
        }

    # -- the functions ----------------------------------------------------------------------

    def _unknown_function(self, call: Call) -> EmulatorResponse:
        # Undocumented too; an error in the API's own shape keeps clients on one path.
        return failure(call.protocol, "Unknown function")

    def _wipe(self, call: Call) -> EmulatorResponse:
        key, matches = self._target(call)
        if key is None:
            raise _fail(call, "MISSING_RECIPIENT")
        if not matches:
            raise _fail(call, "INVALID_RECIPIENT")
        for recipient in matches:
            count(self._wipe_requests, recipient.id_email)
        fresh = [r for r in matches if r.id_email not in self._wipe_queue]
        if not fresh:
            raise _fail(call, "ALREADY_QUEUED")
        self._wipe_queue.update(r.id_email for r in fresh)
        first = fresh[0]
        ok = _text(call, "QUEUED")
        if call.protocol == "json":
            return reply(
                "json",
                {"ID_email": first.id_email, "email": first.email, "error_status": 0, "error": ok},
            )
        # The member order of the doc page, which differs from the JSON example's.
        return reply(
            "xmlrpc",
            {"email": first.email, "error_status": 0, "ID_email": first.id_email, "error": ok},
        )

    def _revalidate(self, call: Call) -> EmulatorResponse:
        key, matches = self._target(call)
        if not matches:
            # A missing key gets the same answer: the reference lists no other string.
            raise _fail(call, "INVALID_RECIPIENT")
        language = call.params.get("language")
        if language and not (isinstance(language, str) and language.lower() in _LANGUAGES):
            raise _own(call, "Invalid language")  # our choice; undocumented
        agreement = flag(call.params.get("agreement"))
        if agreement is None:
            raise _own(call, "Invalid agreement")  # our choice; undocumented
        unsubscribed = [r for r in matches if not r.subscribed]
        if not unsubscribed:
            first = matches[0]
            refusal = _text(call, "NOT_UNSUBSCRIBED", key)
            if call.protocol == "xmlrpc":
                return reply("xmlrpc", refusal)
            # error_status 0 although nothing happened: the documented quirk.
            return reply(
                "json",
                {
                    "error_status": 0,
                    "ID_email": str(first.id_email),
                    "error": refusal,
                    "email": first.email,
                },
            )
        for recipient in unsubscribed:
            if agreement:
                self._set_subscribed(recipient, True)
            else:
                self._send_opt_in(recipient)
        first = unsubscribed[0]
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", first.email)  # the page's XML answer: the bare address
        return reply(
            "json",
            {
                "email": first.email,
                "error_status": 0,
                "ID_email": str(first.id_email),
                "error": _text(call, "REVALIDATED" if agreement else "CONFIRMATION_SENT"),
            },
        )

    def _unsubscribe(self, call: Call) -> EmulatorResponse:
        _, matches = self._target(call)
        if not matches:
            raise _fail(call, "INVALID_RECIPIENT")
        until = None
        if flag(call.params.get("timeout")):
            days = integer(call.params.get("timeout_days"))
            if days is None or not 14 <= days <= 90:
                raise _own(call, "Invalid timeout_days")  # our choice; undocumented
            until = _now().date() + datetime.timedelta(days=days)
        send_optout = call.params.get("send_optout")
        optout = True if absent(send_optout) else flag(send_optout)  # TRUE is the default
        if optout is None:
            raise _own(call, "Invalid send_optout")  # our choice; undocumented
        for recipient in matches:
            self._set_subscribed(recipient, False)
            recipient.unsubscribed_until = until
            if optout:
                count(self._optouts, recipient.id_email)
        first = matches[0]
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", first.id_email)
        return reply("json", {"error_status": "0", "ID_email": str(first.id_email), "status": "1"})

    def _getstatus(self, call: Call) -> EmulatorResponse:
        key, matches = self._target(call)
        if key is None:
            raise _fail(call, "MISSING_RECIPIENT")
        if matches is None:
            raise _fail(call, "INVALID_RECIPIENT")
        if not matches:
            # XML's empty string is on record; the JSON form is a guess (only made-up fixtures).
            raise _fail(call, "NOT_FOUND")
        return reply(call.protocol, [self._status_record(r, call.protocol) for r in matches])

    def _mailinglist_list(self, call: Call) -> EmulatorResponse:
        # IDs are strings in the 2018 JSON fixture and <i4> in the XML one.
        as_id: Callable[[int], object] = str if call.protocol == "json" else int
        return reply(
            call.protocol,
            [
                {
                    "ID_USER_LIST": as_id(ml.id),
                    "NAME": ml.name,
                    "DESCRIPTION": ml.description,
                    "STATUS": "enabled" if ml.enabled else "disabled",
                }
                for ml in self._lists.values()
            ],
        )

    def _unsubscribe_getstatus(self, call: Call) -> EmulatorResponse:
        _, matches = self._target(call)
        if not matches:
            raise _own(call, "Invalid ID_email or email")  # our choice; the doc lists no errors
        first = matches[0]
        unsubscribed = _text(call, "SUBSCRIBED" if first.subscribed else "UNSUBSCRIBED")
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", unsubscribed)
        until = first.unsubscribed_until
        # The shape of a non-null `topics` is not documented: the topic IDs, our choice.
        topics = sorted(str(t) for t in first.unsubscribed_topics) or None
        return reply(
            "json",
            {
                "email": first.email,
                "error_status": "0",
                "topics": topics,
                "ID_email": str(first.id_email),
                "unsubscribe": unsubscribed,
                "timeout": {"date": until.isoformat() if until else "0000-00-00"},
            },
        )

    def _profile(self, call: Call, personal: str, address: str) -> dict[str, str]:
        """The getstatus fields of a call's base64 structs (adduser, edituser, sendmail)."""
        try:
            return profile_of(
                {
                    personal: (call.params.get(personal), PERSONAL_FIELDS),
                    address: (call.params.get(address), ADDRESS_FIELDS),
                    "custom": (call.params.get("custom"), CUSTOM_FIELDS),
                }
            )
        except ValueError as exc:
            raise _own(call, f"Invalid value: {exc}") from None  # our choice; undocumented

    def _adduser(self, call: Call) -> EmulatorResponse:
        list_id = self._list_of(
            call,
            "ID_user_list",
            _fail(call, "MISSING_LIST"),
            _fail(call, "INVALID_LIST"),
        )
        try:
            personal = struct(call.params.get("personal"), "personal")
        except ValueError:
            raise _own(call, "Invalid value: personal") from None  # our choice
        if absent(personal.get("email")):
            raise _fail(call, "MISSING_EMAIL")
        try:
            email = decode_base64(personal["email"], "personal.email")
        except ValueError:
            email = ""
        if not is_address(email):
            raise _fail(call, "INVALID_EMAIL")
        template = personal.get("ID_template")
        if not absent(template):
            try:
                template_id = integer(decode_base64(template, "personal.ID_template"))
            except ValueError:
                template_id = None
            if template_id is None:  # any numeric template exists here: our choice
                raise _fail(call, "INVALID_TEMPLATE")
        profile = self._profile(call, "personal", "address")
        confirm_given = call.params.get("confirm")
        confirm = False if absent(confirm_given) else flag(confirm_given)  # default: ours
        if confirm is None:
            raise _own(call, "Invalid confirm")  # our choice; undocumented
        recipient = self._on_list(email, list_id)
        new = recipient is None
        if recipient is None:
            recipient = self._insert(email, list_id, not confirm, profile)
            recipient.unsubscribed_at = None  # new: waits for its first click, if any
            status = "INSERTED"
        else:
            recipient.profile.update(profile)
            recipient.changed_at = _now()
            # Without confirm the caller vouches for consent: an unsubscribed record comes
            # back (adduser replaces revalidate); with confirm it waits for the click.
            status = "UPDATED" if recipient.subscribed else "UPDATED_UNSUBSCRIBED"
            if not recipient.subscribed and not confirm:
                self._set_subscribed(recipient, True)
        if confirm:
            self._send_opt_in(recipient, new=new)
            sent = _text(call, "CONFIRMATION_SENT")
            if call.protocol == "xmlrpc":
                return reply("xmlrpc", sent)
            return reply("json", {"error": sent, "error_status": 0})
        code = _code(call, status, "status")
        # No captured body of this shape: what the wrappers read (W-MK), our choice.
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", {"data": recipient.id_email, "status": code})
        return reply("json", {"ID_email": str(recipient.id_email), "status": str(code)})

    def _edituser(self, call: Call) -> EmulatorResponse:
        key = call.params.get("ID_email")
        if absent(key):
            raise _fail(call, "MISSING_RECIPIENT")
        # The table lists the XML-era wrapper's ID_mailing_list strings first.
        list_id = self._list_of(
            call, "ID_user_list", _fail(call, "MISSING_LIST"), _fail(call, "INVALID_LIST")
        )
        on_list = [r for r in self._lookup(key, create=False) or () if r.mailing_list_id == list_id]
        if not on_list:
            raise _fail(call, "INVALID_RECIPIENT")
        profile = self._profile(call, "personal", "address")
        recipient = on_list[0]
        recipient.profile.update(profile)
        recipient.changed_at = _now()
        ok = _text(call, "UPDATED")
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", ok)  # the 80fb10e fixture: a bare OK
        return reply("json", {"error_status": 0, "error": ok, "ID_email": recipient.id_email})

    def _delete(self, call: Call) -> EmulatorResponse:
        _, matches = self._target(call)
        if not matches:
            # JSON and XML-RPC word it differently (DOC); a missing key too: our choice.
            raise _fail(call, "INVALID_RECIPIENT")
        for recipient in matches:
            self._remove(recipient)
            self._deleted.append(recipient.id_email)
        ids = [r.id_email for r in matches]
        if call.protocol == "xmlrpc":
            # One ID as <i4> (DOC); several as a comma string, as Spoje-NET accepts.
            return reply("xmlrpc", ids[0] if len(ids) == 1 else ",".join(map(str, ids)))
        return reply(
            "json",
            {
                "error": _text(call, "DELETED"),
                "error_status": 0,
                "emails": ",".join(map(str, ids)),
            },
        )

    def _move(self, call: Call) -> EmulatorResponse:
        # XML-RPC answers every failure with the integer 0 (DOC).
        not_moved = (
            _RefusalError(reply("xmlrpc", _code(call, "NOT_MOVED", None)))
            if call.protocol == "xmlrpc"
            else None
        )
        id_email = integer(call.params.get("ID_email"))
        source = self._recipients.get(id_email) if id_email is not None else None
        if source is None:
            raise not_moved or _fail(call, "INVALID_RECIPIENT")
        target = integer(call.params.get("ID_user_list"))
        if target is None or target not in self._lists:
            raise not_moved or _own(call, "Invalid ID_user_list")  # our choice; undocumented
        if target == source.mailing_list_id or self._on_list(source.email, target):
            # Already there: not documented (the failure sentence is cut); our choice.
            raise not_moved or _own(call, "Email already exists in the target list")
        moved = self._insert(source.email, target, source.subscribed, dict(source.profile))
        moved.pending = source.pending
        moved.unsubscribed_until = source.unsubscribed_until
        moved.unsubscribed_at = source.unsubscribed_at
        moved.unsubscribed_topics = source.unsubscribed_topics
        self._remove(source)
        self._moved[source.id_email] = moved.id_email
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", _code(call, "MOVED", None))
        # The doc's example, its mixed string and number types included.
        return reply(
            "json",
            {
                "ID_user_list_source": str(source.mailing_list_id),
                "email": source.email,
                "ID_email": str(moved.id_email),
                "move_response": moved.id_email,
                "ID_email_source": source.id_email,
                "error_status": "0",
                "ID_user_list": str(target),
            },
        )

    def _topics_call(self, call: Call) -> EmulatorResponse:
        # No error or answer is documented for email.topics: every string here is ours.
        email = call.params.get("email")
        if absent(email):
            raise _own(call, "Missing email")
        matches = self._lookup(email, create=self._auto_create)
        if not matches:
            raise _own(call, "Invalid ID_email or email")
        activate_all = call.params.get("activate_all")
        everything = False if absent(activate_all) else flag(activate_all)
        if everything is None:
            raise _own(call, "Invalid activate_all")
        given = call.params.get("ID_topics")
        ids = [integer(t) for t in given] if isinstance(given, list) else []
        chosen = {i for i in ids if i is not None and i in self._topics}
        if not absent(given) and (not isinstance(given, list) or len(chosen) != len(set(ids))):
            raise _own(call, "Invalid ID_topics")
        # TRUE: every topic; otherwise the topics named (none named: none at all).
        left = frozenset() if everything else frozenset(self._topics) - chosen
        for recipient in matches:
            recipient.unsubscribed_topics = left
            recipient.changed_at = _now()
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", "OK")
        return reply("json", {"error_status": 0, "error": "OK"})

    def _mailinglist_create(self, call: Call) -> EmulatorResponse:
        name = call.params.get("name")
        if absent(name) or not isinstance(name, str) or not name.strip():
            raise _fail(call, "MISSING_NAME")
        if any(ml.name == name for ml in self._lists.values()):
            raise _fail(call, "LIST_EXISTS")
        description = call.params.get("description")
        list_id = self.add_mailing_list(name, description if isinstance(description, str) else "")
        self._lists_created.append(list_id)
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", {"data": list_id})
        return reply("json", {"data": str(list_id)})

    def _mailinglist_delete(self, call: Call) -> EmulatorResponse:
        list_id = self._list_of(
            call, "ID_user_list", _fail(call, "MISSING_LIST"), _fail(call, "INVALID_LIST")
        )
        keep = call.params.get("keep_list")
        keep_list = False if absent(keep) else flag(keep)
        if keep_list is None:
            raise _own(call, "Invalid keep_list")  # our choice; undocumented
        for recipient in [r for r in self._recipients.values() if r.mailing_list_id == list_id]:
            self._remove(recipient)
        if not keep_list:
            del self._lists[list_id]
        return reply(call.protocol, {"data": _text(call, "DELETED", field="data")})

    def _mailinglist_getstatus(self, call: Call) -> EmulatorResponse:
        # No error string is documented here: mailinglist.delete's, as our choice.
        list_id = self._list_of(
            call,
            "ID_user_list",
            _own(call, "Missing ID_user_list"),
            _own(call, "Invalid ID_user_list"),
        )
        status = call.params.get("status")
        try:
            changed = parse_datetime(call.params.get("change_date"), (_TIME, "%Y-%m-%d"))
        except ValueError:
            raise _own(call, "Invalid change_date") from None
        cursor = call.params.get("ID_email")
        start = 0 if absent(cursor) else integer(cursor)
        limit_given = call.params.get("limit")
        limit = _MAX_LIST_PAGE if absent(limit_given) else integer(limit_given)
        if start is None or limit is None:
            raise _own(call, "Invalid ID_email or limit")
        records = [
            self._status_record(r, call.protocol)
            for r in self.recipients
            if r.mailing_list_id == list_id
            # The cursor "to start output from": inclusive, our reading.
            and r.id_email >= start
            and (absent(status) or self._status_of(r) == status)
            and (changed is None or r.changed_at >= changed)
        ]
        return reply(call.protocol, records[: min(limit, _MAX_LIST_PAGE)])

    def _mailinglist_unsubscribed(self, call: Call) -> EmulatorResponse:
        try:
            since = parse_datetime(call.params.get("range_from"), ("%Y-%m-%d",))
        except ValueError:
            raise _own(call, "Invalid range_from") from None  # our choice; undocumented
        gone = sorted(
            (r.unsubscribed_at or r.changed_at, r.id_email, r)
            for r in self._recipients.values()
            if _left(r)
        )
        return reply(
            call.protocol,
            [
                {"DATE": f"{when:{_TIME}}", "ID_UNSUBSCRIBE_GROUP": "", "EMAIL": r.email}
                for when, _, r in gone
                if since is None or when >= since
            ],
        )

    def _sendmail(self, call: Call) -> EmulatorResponse:
        list_id = self._list_of(
            call, "mailinglist_id", _fail(call, "MISSING_LIST"), _fail(call, "INVALID_LIST")
        )
        campaign_given = call.params.get("campaign_id")
        if absent(campaign_given):
            raise _fail(call, "MISSING_CAMPAIGN")
        campaign = self._campaigns.get(integer(campaign_given) or 0)
        if campaign is None:
            raise _fail(call, "INVALID_CAMPAIGN")
        try:
            main = struct(call.params.get("main"), "main")
            attachment = struct(call.params.get("attachment"), "attachment")
            content = struct(main.get("content"), "main.content")
            body = decode_base64(main.get("message_data"), "main.message_data")
            variables = {str(k): decode_base64(v, f"main.content.{k}") for k, v in content.items()}
            if attachment:
                decode_base64_bytes(attachment.get("data"), "attachment.data")  # a PDF, say
        except ValueError as exc:
            raise _own(call, f"Invalid value: {exc}") from None  # our choice; undocumented
        send_to = main.get("send_to")
        if absent(send_to):
            raise _fail(call, "MISSING_RECIPIENT")
        if not is_address(send_to):
            raise _own(call, "Invalid send_to")  # our choice; undocumented
        assert isinstance(send_to, str)  # is_address said so
        if campaign.sender is None:
            raise _fail(call, "MISSING_SENDER")
        if attachment and not campaign.attachments:
            raise _fail(call, "ATTACHMENT_NOT_ALLOWED")
        profile = self._profile(call, "recipient", "contact")
        recipient = self._on_list(send_to, list_id)
        if recipient is None:
            recipient = self._insert(send_to, list_id, True, profile)
            status = "INSERTED"
        else:
            recipient.profile.update(profile)
            recipient.changed_at = _now()
            status = "UPDATED" if recipient.subscribed else "UPDATED_UNSUBSCRIBED"
        if not campaign.id_send:
            campaign.id_send = self._next_id_send
            self._next_id_send += 1
        id_send_message = 0
        if recipient.subscribed:  # an unsubscribed recipient gets nothing
            id_send_message = _FIRST_ID_SEND_MESSAGE + len(self._messages)
            subject = main.get("subject")
            self._messages.append(
                SentMessage(
                    id_send_message=id_send_message,
                    id_send=campaign.id_send,
                    campaign_id=campaign.id,
                    id_email=recipient.id_email,
                    mailing_list_id=list_id,
                    send_to=send_to,
                    subject=subject if isinstance(subject, str) and subject else campaign.subject,
                    body=body,
                    content=variables,
                    attachments=(str(attachment.get("name", "")),) if attachment else (),
                    sent_at=_now(),
                )
            )
        code = _code(call, status, "status")
        answer = {
            "data": recipient.id_email,
            "data2": campaign.id_send,
            "data3": id_send_message,
            "status": code,
        }
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", answer)  # FX-2018: four i4 members
        # No trustworthy JSON body exists; the same members as strings, our choice.
        return reply("json", {k: str(v) for k, v in answer.items()})

    def _getstatus_history(self, call: Call) -> EmulatorResponse:
        # No error is documented here: the strings of the sibling email.* calls, ours.
        id_email = call.params.get("ID_email")
        matches: list[Recipient] | None
        if not absent(id_email):  # ID_email wins over email (DOC)
            found = self._recipients.get(integer(id_email) or 0)
            matches = [found] if found is not None else None
        elif not absent(call.params.get("email")):
            matches = self._lookup(call.params.get("email"), create=self._auto_create)
        else:
            raise _own(call, "Missing ID_email")
        if matches is None:
            raise _own(call, "Invalid ID_email or email")
        ids = {r.id_email for r in matches}
        as_id: Callable[[int], object] = str if call.protocol == "json" else int
        records = []
        for sent in self._messages:
            if sent.id_email not in ids:
                continue
            campaign = self._campaigns[sent.campaign_id]
            records.append(
                {
                    "MESSAGE_NAME": campaign.name,
                    "ID_MESSAGE": as_id(campaign.id),
                    "SUBJECT": sent.subject,
                    "PREVIEW": f"https://u.mailkit.eu/{sent.id_send_message}",
                    "READ_COUNT": as_id(0),
                    "CLICK_COUNT": as_id(0),
                    "ID_EMAIL": as_id(sent.id_email),
                    "ID_SEND": as_id(sent.id_send),
                    "ID_SEND_MESSAGE": as_id(sent.id_send_message),
                    "DATE_SEND": f"{sent.sent_at:{_TIME}}",
                    "EMAIL_FROM": campaign.sender or "",
                    "NAME_FROM": campaign.sender_name,
                    "ID_USER_LIST": as_id(sent.mailing_list_id),
                    "TYPE_MESSAGE": "email",
                    "RESPONSE_DATA": [],
                }
            )
        return reply(call.protocol, records)


def _networks(
    allowed_ips: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    check_instance(allowed_ips, Iterable, name="allowed_ips", what="a collection of addresses")
    networks = []
    for ip in allowed_ips:
        check_text(ip, name="allowed_ips", max_length=100)
        try:
            networks.append(ipaddress.ip_network(ip, strict=False))
        except ValueError as exc:
            raise InvalidArgumentError(f"allowed_ips: {exc}") from None
    return tuple(networks)


def _check_profile(profile: object) -> None:
    if profile is None:
        return
    if not isinstance(profile, Mapping):
        raise InvalidArgumentError(f"profile must be a mapping or None, not {describe(profile)}")
    unknown = [key for key in profile if key not in _PROFILE_KEY_SET]
    if unknown:
        names = sorted(describe(key) for key in unknown)
        raise InvalidArgumentError(f"profile: unknown profile keys: {names}")
    for key, value in profile.items():
        check_text(value, name=f"profile[{key!r}]")


def _check_header_text(text: object, name: str) -> None:
    if not isinstance(text, str) or not text.isascii() or not text.isprintable():
        raise InvalidArgumentError(
            f"{name}: header not sendable (ASCII text without control characters is)"
        )


def _check_key(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidArgumentError(
            f"{name} must be an address (str) or an ID_email (int), not {type(value).__name__}"
        )
    if isinstance(value, str):
        check_text(value, name=name, max_length=254)
    else:
        check_count(value, name=name, minimum=0)


def _left(recipient: Recipient) -> bool:
    """Unsubscribed: not subscribed, and not a new double opt-in waiting for its click."""
    new_opt_in = recipient.pending and recipient.unsubscribed_at is None
    return not recipient.subscribed and not new_opt_in


def _key(call: Call) -> object:
    """The call's recipient key as sent: ID_email first, then email; None if neither."""
    for name in ("ID_email", "email"):
        key = call.params.get(name)
        if key is not None and key != "":
            return key
    return None


def _fault_key(call: Call) -> object:
    """The recipient a call is about, for the fault log: adduser's and sendmail's included."""
    key = _key(call)
    if key is not None:
        return key
    try:
        if call.function == "mailkit.mailinglist.adduser":
            personal = struct(call.params.get("personal"), "personal")
            return decode_base64(personal.get("email"), "email") or None
        if call.function == "mailkit.sendmail":
            return struct(call.params.get("main"), "main").get("send_to")
    except ValueError:
        return None
    return None


_HANDLERS: Mapping[str, Callable[[MailkitEmulator, Call], EmulatorResponse]] = {
    "mailkit.email.wipe": MailkitEmulator._wipe,
    "mailkit.email.revalidate": MailkitEmulator._revalidate,
    "mailkit.email.unsubscribe": MailkitEmulator._unsubscribe,
    "mailkit.email.getstatus": MailkitEmulator._getstatus,
    "mailkit.email.getstatus.history": MailkitEmulator._getstatus_history,
    "mailkit.email.unsubscribe.getstatus": MailkitEmulator._unsubscribe_getstatus,
    "mailkit.email.delete": MailkitEmulator._delete,
    "mailkit.email.move": MailkitEmulator._move,
    "mailkit.email.topics": MailkitEmulator._topics_call,
    "mailkit.mailinglist.list": MailkitEmulator._mailinglist_list,
    "mailkit.mailinglist.create": MailkitEmulator._mailinglist_create,
    "mailkit.mailinglist.delete": MailkitEmulator._mailinglist_delete,
    "mailkit.mailinglist.adduser": MailkitEmulator._adduser,
    "mailkit.mailinglist.edituser": MailkitEmulator._edituser,
    "mailkit.mailinglist.getstatus": MailkitEmulator._mailinglist_getstatus,
    "mailkit.mailinglist.unsubscribed": MailkitEmulator._mailinglist_unsubscribed,
    "mailkit.sendmail": MailkitEmulator._sendmail,
}
