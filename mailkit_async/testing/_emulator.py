"""The emulator core: account state and the documented behaviour of each function.

`MailkitEmulator.handle` is synchronous and never awaits, so every call is atomic on the
event loop that drives it, whichever way it is mounted.
"""

from __future__ import annotations

import datetime
import ipaddress
import random
import re
from collections.abc import Callable, Iterable, Mapping

import attrs

from .._credentials import SecretText
from .._errors import InvalidArgumentError
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
from ._wire import PROTOCOLS, BadRequestError, Call, EmulatorResponse, decode, failure, plain, reply

__all__ = ["MailkitEmulator", "Recipient"]

_FIRST_ID_EMAIL = 12345678
_INVALID = "Invalid ID_email or email"
_LANGUAGES = frozenset({"cs", "en", "de", "ru", "pl", "sk", "hu"})
_ADDRESS = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+")

# getstatus record keys a test may fill in; the others are derived from the Recipient.
_PROFILE_KEYS = (
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
)
_CUSTOM_KEYS = tuple(f"CUSTOM_{n}" for n in range(1, 26))
_PROFILE_KEY_SET = frozenset({*_PROFILE_KEYS, *_CUSTOM_KEYS})

# drop_before hangs up before anything happens: there is no answer to lose.
_NOTHING_DONE = EmulatorResponse(0, (), b"", action="drop")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _is_address(value: str) -> bool:
    return _ADDRESS.fullmatch(value) is not None


@attrs.define
class Recipient:
    """One recipient on one mailing list: the emulator's live record, editable by tests.

    `profile` holds getstatus fields by their wire names (`FIRST_NAME`, `CUSTOM_3`, ...).
    `unsubscribed_until` is the end of a temporary unsubscribe, None when permanent.
    Times are UTC.
    """

    id_email: int = attrs.field(on_setattr=attrs.setters.frozen)
    email: str = attrs.field(on_setattr=attrs.setters.frozen)
    mailing_list_id: int = attrs.field(on_setattr=attrs.setters.frozen)
    subscribed: bool = True
    unsubscribed_until: datetime.date | None = None
    profile: dict[str, str] = attrs.Factory(dict)
    created_at: datetime.datetime = attrs.Factory(_now)
    changed_at: datetime.datetime = attrs.Factory(_now)


@attrs.define
class _MailingList:
    id: int
    name: str
    description: str
    enabled: bool


@attrs.define
class _Injection:
    function: str
    response: EmulatorResponse
    remaining: int


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
        self._lists = {1: _MailingList(1, "Default", "", enabled=True)}
        self._wipe_queue: set[int] = set()
        self._wipe_requests: dict[int, int] = {}
        self._confirmations: dict[int, int] = {}
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
        list_id = max(self._lists) + 1
        self._lists[list_id] = _MailingList(list_id, name, description, enabled)
        return list_id

    @checked_arguments
    def add_recipient(
        self,
        email: str,
        *,
        subscribed: bool = True,
        mailing_list_id: int = 1,
        profile: Mapping[str, str] | None = None,
    ) -> Recipient:
        """Add a recipient to a mailing list; IDs count up from 12345678."""
        if not _is_address(check_text(email, name="email", max_length=254)):
            raise InvalidArgumentError(f"email: not an email address: {describe(email)}")
        check_flag(subscribed, name="subscribed")
        if check_count(mailing_list_id, name="mailing_list_id") not in self._lists:
            raise InvalidArgumentError(f"mailing_list_id: no mailing list {mailing_list_id}")
        if any(r.mailing_list_id == mailing_list_id for r in self._matching(email)):
            raise InvalidArgumentError(
                f"email: {email!r} is already on mailing list {mailing_list_id}"
            )
        _check_profile(profile)
        recipient = Recipient(
            self._next_id, email, mailing_list_id, subscribed, profile=dict(profile or {})
        )
        self._next_id += 1
        self._recipients[recipient.id_email] = recipient
        self._ids_by_address.setdefault(email.lower(), []).append(recipient.id_email)
        return recipient

    @checked_arguments
    def recipient(self, email_or_id: str | int) -> Recipient | None:
        """Find a recipient by ID_email or by address (case-insensitive; lowest ID first)."""
        _check_key(email_or_id, "email_or_id")
        found = self._lookup(email_or_id, create=False)
        return found[0] if found else None

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
        """Opt-in confirmation emails sent per ID_email (revalidate with agreement FALSE)."""
        return dict(self._confirmations)

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
            recipient = self._recipients.pop(id_email)
            ids = self._ids_by_address[recipient.email.lower()]
            ids.remove(id_email)
            if not ids:
                del self._ids_by_address[recipient.email.lower()]
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
            return failure(protocol, f"Disallowed IP {client_ip}")
        if not self._authorized(call):
            return failure(protocol, "Unauthorized")
        # With no plan this one check is all faults cost.
        if self._faults is not None and self._faults._covers(call.function):
            return self._handle_with_faults(self._faults, call)
        return _HANDLERS.get(call.function, MailkitEmulator._unknown_function)(self, call)

    def _act(self, call: Call) -> EmulatorResponse:
        return _HANDLERS.get(call.function, MailkitEmulator._unknown_function)(self, call)

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
        key = _key(call)
        id_email = _integer(key)
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

    def _lookup(self, key: object, *, create: bool) -> list[Recipient] | None:
        """Every recipient `key` names: an ID, or an address naming all its records.

        None when `key` is neither an ID nor a well-formed address.
        """
        id_email = _integer(key)
        if id_email is not None:
            found = self._recipients.get(id_email)
            return [found] if found else []
        if not isinstance(key, str) or not _is_address(key):
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
        recipient.changed_at = _now()
        if subscribed:
            recipient.unsubscribed_until = None

    # -- the functions ----------------------------------------------------------------------

    def _unknown_function(self, call: Call) -> EmulatorResponse:
        # Undocumented too; an error in the API's own shape keeps clients on one path.
        return failure(call.protocol, "Unknown function")

    def _wipe(self, call: Call) -> EmulatorResponse:
        key, matches = self._target(call)
        if key is None:
            return failure(call.protocol, "Missing ID_email")
        if not matches:
            return failure(call.protocol, _INVALID)
        for recipient in matches:
            _count(self._wipe_requests, recipient.id_email)
        fresh = [r for r in matches if r.id_email not in self._wipe_queue]
        if not fresh:
            return failure(call.protocol, "Email has already been inserted")
        self._wipe_queue.update(r.id_email for r in fresh)
        first = fresh[0]
        if call.protocol == "json":
            return reply(
                "json",
                {
                    "ID_email": first.id_email,
                    "email": first.email,
                    "error_status": 0,
                    "error": "OK",
                },
            )
        # The member order of the doc page, which differs from the JSON example's.
        return reply(
            "xmlrpc",
            {
                "email": first.email,
                "error_status": 0,
                "ID_email": first.id_email,
                "error": "OK",
            },
        )

    def _revalidate(self, call: Call) -> EmulatorResponse:
        key, matches = self._target(call)
        if not matches:
            # A missing key gets the same answer: the reference lists no other string.
            return failure(call.protocol, _INVALID)
        language = call.params.get("language")
        if language and not (isinstance(language, str) and language.lower() in _LANGUAGES):
            return failure(call.protocol, "Invalid language")  # our choice; undocumented
        agreement = _flag(call.params.get("agreement"))
        if agreement is None:
            return failure(call.protocol, "Invalid agreement")  # our choice; undocumented
        unsubscribed = [r for r in matches if not r.subscribed]
        if not unsubscribed:
            first = matches[0]
            if call.protocol == "xmlrpc":
                return reply("xmlrpc", f"{key} is not unsubscribed")
            # error_status 0 although nothing happened: the documented quirk.
            return reply(
                "json",
                {
                    "error_status": 0,
                    "ID_email": str(first.id_email),
                    "error": "Email is not unsubscribed",
                    "email": first.email,
                },
            )
        for recipient in unsubscribed:
            if agreement:
                self._set_subscribed(recipient, True)
            else:
                _count(self._confirmations, recipient.id_email)
        first = unsubscribed[0]
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", first.email)
        return reply(
            "json",
            {
                "email": first.email,
                "error_status": 0,
                "ID_email": str(first.id_email),
                "error": "Email has been revalidated" if agreement else "Sent subscribe email",
            },
        )

    def _unsubscribe(self, call: Call) -> EmulatorResponse:
        _, matches = self._target(call)
        if not matches:
            return failure(call.protocol, _INVALID)
        until = None
        if _flag(call.params.get("timeout")):
            days = _integer(call.params.get("timeout_days"))
            if days is None or not 14 <= days <= 90:
                return failure(call.protocol, "Invalid timeout_days")  # our choice; undocumented
            until = _now().date() + datetime.timedelta(days=days)
        for recipient in matches:
            self._set_subscribed(recipient, False)
            recipient.unsubscribed_until = until
        first = matches[0]
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", first.id_email)
        return reply("json", {"error_status": "0", "ID_email": str(first.id_email), "status": "1"})

    def _getstatus(self, call: Call) -> EmulatorResponse:
        key, matches = self._target(call)
        if key is None:
            return failure(call.protocol, "Missing ID email")
        if matches is None:
            return failure(call.protocol, "Invalid ID_email")
        if not matches:
            # XML's empty string is on record; the JSON form is a guess (only made-up fixtures).
            return failure(call.protocol, "")
        return reply(call.protocol, [self._status_record(r) for r in matches])

    def _status_record(self, recipient: Recipient) -> dict[str, str]:
        def fields(keys: tuple[str, ...]) -> dict[str, str]:
            return {k: recipient.profile.get(k, "") for k in keys}

        return {
            "ID_EMAIL": str(recipient.id_email),
            "EMAIL": recipient.email,
            "ID_MAILING_LIST": str(recipient.mailing_list_id),
            **fields(_PROFILE_KEYS),
            "DATE": f"{recipient.created_at:%Y-%m-%d %H:%M:%S}",
            "CHANGE_DATE": f"{recipient.changed_at:%Y-%m-%d %H:%M:%S}",
            "STATUS": "enabled" if recipient.subscribed else "unsubscribe",
            **fields(_CUSTOM_KEYS),
        }

    def _mailinglist_list(self, call: Call) -> EmulatorResponse:
        # IDs as strings in both protocols, as in the 2018 JSON fixture; the XML fixture's
        # i4 would do too, and a client should accept either.
        return reply(
            call.protocol,
            [
                {
                    "ID_USER_LIST": str(ml.id),
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
            return failure(call.protocol, _INVALID)  # our choice; the doc lists no errors
        first = matches[0]
        unsubscribed = "FALSE" if first.subscribed else "TRUE"
        if call.protocol == "xmlrpc":
            return reply("xmlrpc", unsubscribed)
        until = first.unsubscribed_until
        return reply(
            "json",
            {
                "email": first.email,
                "error_status": "0",
                "topics": None,
                "ID_email": str(first.id_email),
                "unsubscribe": unsubscribed,
                "timeout": {"date": until.isoformat() if until else "0000-00-00"},
            },
        )


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


def _key(call: Call) -> object:
    """The call's recipient key as sent: ID_email first, then email; None if neither."""
    for name in ("ID_email", "email"):
        key = call.params.get(name)
        if key is not None and key != "":
            return key
    return None


def _flag(value: object) -> bool | None:
    """A Mailkit boolean: "TRUE"/"FALSE" in any case, or a real boolean; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"TRUE": True, "FALSE": False}.get(value.upper())
    return None


def _integer(value: object) -> int | None:
    # The length cap keeps int() clear of its 4300-digit limit.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(counter: dict[int, int], id_email: int) -> None:
    counter[id_email] = counter.get(id_email, 0) + 1


_HANDLERS: Mapping[str, Callable[[MailkitEmulator, Call], EmulatorResponse]] = {
    "mailkit.email.wipe": MailkitEmulator._wipe,
    "mailkit.email.revalidate": MailkitEmulator._revalidate,
    "mailkit.email.unsubscribe": MailkitEmulator._unsubscribe,
    "mailkit.email.getstatus": MailkitEmulator._getstatus,
    "mailkit.email.unsubscribe.getstatus": MailkitEmulator._unsubscribe_getstatus,
    "mailkit.mailinglist.list": MailkitEmulator._mailinglist_list,
}
