"""Every public callable refuses a bad argument with InvalidArgumentError, before sending.

`SURFACE` is a table of every public function, method and constructor of `mailkit_async`
and `mailkit_async.testing`, with its parameters and valid values for them. A test checks it
against what the modules export and against `inspect.signature`, so a public method added
(or a parameter added to one) without a row here fails.

The bad values are derived from each parameter's annotation, so a new row is covered by
construction: a value of a type the annotation does not admit, text holding NUL or a lone
surrogate, ints beyond 64 bits (and beyond what `str()` writes; where a float is wanted,
beyond any float), NaN and infinities, an unknown keyword, and, for call parameters, nesting
beyond the documented 32 levels, cycles and unsendable leaves anywhere inside. Each must
raise InvalidArgumentError whose message names the parameter, with no request counted at the
transport and none seen by the emulator, on both protocols (for the client's rows).
"""

from __future__ import annotations

import asyncio
import collections.abc
import datetime
import enum
import inspect
import math
import ssl
import sys
import types
import typing
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mailkit_async as mk
import mailkit_async.testing as mkt
from mailkit_async._credentials import Credentials
from mailkit_async._validate import MAX_NESTING

CLIENT_ID = "12345"
CLIENT_MD5 = "0123456789abcdef0123456789abcdef"
JANE = "jane@example.com"
PROTOCOLS = ("json", "xmlrpc")

# -- what is deliberately not in the table ---------------------------------------------------

#: Exported names that are not callables taking arguments a user chooses, and why.
EXEMPT = {
    "DEFAULT_BASE_URL": "a constant",
    "DEFAULT_TIMEOUT": "a constant",
    "__version__": "a constant",
    "Params": "a type alias",
    "Codec": "an interface (typing.Protocol): JsonCodec and XmlRpcCodec are its rows",
    "Outcome": "a record the library hands out",
    "RetryEvent": "a record the library hands out",
    "WipeResult": "a record the library hands out",
    "RevalidateResult": "a record the library hands out",
    "BatchSummary": "a record the library hands out",
    "FaultEvent": "a record the emulator hands out",
    "Recipient": "a record the emulator hands out",
    "MailingList": "a record the emulator hands out",
    "Campaign": "a record the emulator hands out",
    "SentMessage": "a record the emulator hands out",
    "WipeStatus": "an enum",
    "RevalidateStatus": "an enum",
    "RetryClass": "an enum",
    # -- the list family's results (engineer L) --
    "AddUserResult": "a record the library hands out",
    "EditUserResult": "a record the library hands out",
    "CreateMailingListResult": "a record the library hands out",
    "DeleteMailingListResult": "a record the library hands out",
    "SendMailResult": "a record the library hands out",
    "MailingListInfo": "a record the library hands out",
    "ListRecipient": "a record the library hands out",
    "UnsubscribedRecipient": "a record the library hands out",
    "AddUserStatus": "an enum",
    "EditUserStatus": "an enum",
    "CreateMailingListStatus": "an enum",
    "DeleteMailingListStatus": "an enum",
    "SendMailStatus": "an enum",
    "MailingListStatus": "an enum",
    "ListRecipientStatus": "an enum",
    # -- the recipient family's results (typed recipient calls) --
    "UnsubscribeResult": "a record the library hands out",
    "UnsubscribeStatusResult": "a record the library hands out",
    "RecipientStatus": "a record the library hands out",
    "RecipientRecord": "a record the library hands out",
    "HistoryResult": "a record the library hands out",
    "HistoryEntry": "a record the library hands out",
    "HistoryResponse": "a record the library hands out",
    "DeleteResult": "a record the library hands out",
    "MoveResult": "a record the library hands out",
    "TopicsResult": "a record the library hands out",
    "UnsubscribeStatus": "an enum",
    "SubscriptionStatus": "an enum",
    "LookupStatus": "an enum",
    "RecipientState": "an enum",
    "HistoryStatus": "an enum",
    "DeleteStatus": "an enum",
    "MoveStatus": "an enum",
    "TopicsStatus": "an enum",
}


def public_callables() -> dict[str, Callable[..., Any]]:
    """Every public function, constructor, method and property setter, by qualified name."""
    found: dict[str, Callable[..., Any]] = {}
    for module in (mk, mkt):
        for name in module.__all__:
            obj = getattr(module, name)
            if name in EXEMPT or (isinstance(obj, type) and issubclass(obj, BaseException)):
                continue
            if not isinstance(obj, type):
                found[name] = obj
                continue
            found[f"{name}.__init__"] = obj.__init__
            for attr in dir(obj):
                if attr.startswith("_"):
                    continue
                raw = inspect.getattr_static(obj, attr)
                if isinstance(raw, property):
                    if raw.fset is not None:
                        found[f"{name}.{attr}"] = raw.fset
                    continue
                member = getattr(obj, attr)
                if callable(member) and (getattr(member, "__module__", None) or "").startswith(
                    "mailkit_async"
                ):
                    found[f"{name}.{attr}"] = member
    return found


# -- the table ---------------------------------------------------------------------------------


@dataclass
class Env:
    """What one example runs against: an emulator behind a counting transport."""

    protocol: str
    emulator: mkt.MailkitEmulator
    counting: Counting
    client: mk.MailkitClient
    credentials: Credentials = field(default_factory=lambda: Credentials(CLIENT_ID, CLIENT_MD5))

    def sent(self) -> int:
        return self.counting.requests + len(self.emulator.calls)


class Counting(httpx.AsyncBaseTransport):
    """Counts every request that reaches the transport, decodable or not."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)


async def _no_outcomes() -> AsyncIterator[mk.Outcome[object, object]]:
    return
    yield  # an async generator that yields nothing


@dataclass(frozen=True)
class Row:
    """One public callable: its parameters (as `inspect.signature` lists them, without
    self), valid values for those a call needs, how to call it, and what a parameter must
    not be refused for, with the reason."""

    params: tuple[str, ...]
    valid: Callable[[Env], dict[str, object]]
    call: Callable[[Env, dict[str, object]], object]
    nested: frozenset[str] = frozenset()  # call parameters: walked to any depth
    allowed: dict[str, tuple[object, ...]] = field(default_factory=dict)
    keywords: bool = True  # False for a property setter: an assignment takes no keywords


def _client(method: str) -> Callable[[Env, dict[str, object]], object]:
    return lambda env, kwargs: getattr(env.client, method)(**kwargs)


def _emulator(method: str) -> Callable[[Env, dict[str, object]], object]:
    return lambda env, kwargs: getattr(env.emulator, method)(**kwargs)


def _pending(env: Env) -> dict[str, object]:
    """A recipient waiting for its opt-in click (what `confirm` needs)."""
    waiting = "waiting@example.com"
    if env.emulator.recipient(waiting) is None:
        env.emulator.add_recipient(waiting, subscribed=False).pending = True
    return {"email_or_id": waiting}


def _jane_id(env: Env) -> int:
    """Jane's ID_email (0 in the placeholder env, which only lists the names)."""
    jane = env.emulator.recipient(JANE)
    return 1 if jane is None else jane.id_email


def _campaign(env: Env) -> int:
    """A campaign for send_mail, made on first use."""
    return next(iter(env.emulator.campaigns), None) or env.emulator.add_campaign("Spring")


def _xml_reply(value: str) -> bytes:
    return (
        "<?xml version='1.0'?><methodResponse><params><param><value><string>"
        f"{value}</string></value></param></params></methodResponse>"
    ).encode()


_CLIENT_OPTIONS = (
    "client_id", "client_md5", "protocol", "base_url", "timeout", "http_client", "transport",
    "engine", "ssl_context", "max_concurrency", "max_response_bytes", "extra_messages",
    "retry", "on_retry",
)  # fmt: skip
_BATCH_OPTIONS = (
    "concurrency", "rate", "adaptive", "ordered", "retry", "on_outcome", "on_retry",
)  # fmt: skip
_REVALIDATE = (
    "recipient", "agreement", "channel", "language", "id_message", "id_template", "retry",
    "trace",
)  # fmt: skip
# The list family (engineer L): the recipient's fields as add_user, edit_user, send_mail take them.
_PERSON = ("first_name", "last_name", "vocative", "prefix", "company", "reply_to")
_ADDRESS = (
    "nick_name", "gender", "phone", "mobile", "fax", "street", "city", "state", "zip_code",
    "country", "custom",
)  # fmt: skip
_ADD_USER = (
    "list_id", "email", "double_opt_in", *_PERSON, *_ADDRESS, "id_template", "email_from",
    "name_from", "return_url", "ip_src", "form_url", "retry", "trace",
)  # fmt: skip
_SEND_MAIL = (
    "list_id", "campaign_id", "send_to", "subject", "message_data", "content", *_PERSON,
    *_ADDRESS, "attachment_name", "attachment_data", "attachment_url", "retry", "trace",
)  # fmt: skip
_POLICY = (
    "max_attempts", "initial_backoff", "max_backoff", "jitter", "max_retry_after", "deadline",
)  # fmt: skip
_FAULTS = (
    "seed", "http_429", "http_503", "http_502", "drop_before", "drop_after", "truncate",
    "slow", "slow_seconds", "retry_after", "functions",
)  # fmt: skip

SURFACE: dict[str, Row] = {
    # -- the client ------------------------------------------------------------------------
    "MailkitClient.__init__": Row(
        _CLIENT_OPTIONS,
        lambda env: {
            "client_id": CLIENT_ID,
            "client_md5": CLIENT_MD5,
            "protocol": env.protocol,
            "transport": env.counting,
        },
        lambda env, kwargs: mk.MailkitClient(**kwargs),  # type: ignore[arg-type]
    ),
    "MailkitClient.call": Row(
        ("function", "params", "idempotent", "retry", "trace"),
        lambda env: {"function": "mailkit.mailinglist.list", "params": {}},
        _client("call"),
        nested=frozenset({"params"}),
    ),
    "MailkitClient.wipe": Row(
        ("recipient", "retry", "trace"), lambda env: {"recipient": JANE}, _client("wipe")
    ),
    "MailkitClient.revalidate": Row(
        _REVALIDATE,
        lambda env: {"recipient": JANE, "agreement": True},
        _client("revalidate"),
    ),
    "MailkitClient.map": Row(
        ("work", "items", *(o for o in _BATCH_OPTIONS if o != "retry")),
        lambda env: {"work": lambda item: env.client.wipe(item), "items": [JANE]},
        _client("map"),
    ),
    "MailkitClient.wipe_many": Row(
        ("recipients", *_BATCH_OPTIONS), lambda env: {"recipients": [JANE]}, _client("wipe_many")
    ),
    "MailkitClient.revalidate_many": Row(
        ("recipients", "agreement", "channel", "language", "id_message", *_BATCH_OPTIONS),
        lambda env: {"recipients": [JANE], "agreement": True},
        _client("revalidate_many"),
    ),
    "MailkitClient.call_many": Row(
        ("calls", *_BATCH_OPTIONS),
        lambda env: {"calls": [("mailkit.mailinglist.list", {})]},
        _client("call_many"),
    ),
    "MailkitClient.aclose": Row((), lambda env: {}, _client("aclose")),
    # -- the list family (engineer L) --------------------------------------------------------
    "MailkitClient.add_user": Row(
        _ADD_USER,
        lambda env: {"list_id": 1, "email": JANE, "ip_src": None, "form_url": None},
        _client("add_user"),
    ),
    "MailkitClient.edit_user": Row(
        ("list_id", "id_email", *_PERSON, *_ADDRESS, "retry", "trace"),
        lambda env: {"list_id": 1, "id_email": _jane_id(env), "city": "Brno"},
        _client("edit_user"),
    ),
    "MailkitClient.list_mailing_lists": Row(
        ("retry", "trace"), lambda env: {}, _client("list_mailing_lists")
    ),
    "MailkitClient.create_mailing_list": Row(
        ("name", "description", "retry", "trace"),
        lambda env: {"name": "Fresh"},
        _client("create_mailing_list"),
    ),
    "MailkitClient.delete_mailing_list": Row(
        ("list_id", "keep_list", "retry", "trace"),
        lambda env: {"list_id": 1},
        _client("delete_mailing_list"),
    ),
    "MailkitClient.list_recipients": Row(
        ("list_id", "status", "changed_since", "from_id_email", "limit", "retry", "trace"),
        lambda env: {"list_id": 1},
        _client("list_recipients"),
    ),
    "MailkitClient.list_unsubscribed": Row(
        ("since", "retry", "trace"), lambda env: {}, _client("list_unsubscribed")
    ),
    "MailkitClient.send_mail": Row(
        _SEND_MAIL,
        lambda env: {"list_id": 1, "campaign_id": _campaign(env), "send_to": JANE},
        _client("send_mail"),
    ),
    # -- the typed recipient calls ---------------------------------------------------------
    "MailkitClient.unsubscribe": Row(
        ("recipient", "send_optout", "id_send_message", "timeout_days", "retry", "trace"),
        lambda env: {"recipient": JANE},
        _client("unsubscribe"),
    ),
    "MailkitClient.get_unsubscribe_status": Row(
        ("recipient", "retry", "trace"),
        lambda env: {"recipient": JANE},
        _client("get_unsubscribe_status"),
    ),
    "MailkitClient.get_status": Row(
        ("recipient", "id_send_message", "retry", "trace"),
        lambda env: {"recipient": JANE},
        _client("get_status"),
    ),
    "MailkitClient.get_status_history": Row(
        ("recipient", "retry", "trace"),
        lambda env: {"recipient": JANE},
        _client("get_status_history"),
    ),
    "MailkitClient.delete_recipient": Row(
        ("recipient", "retry", "trace"),
        lambda env: {"recipient": JANE},
        _client("delete_recipient"),
    ),
    "MailkitClient.move_recipient": Row(
        ("id_email", "id_user_list", "retry", "trace"),
        lambda env: {"id_email": 12345678, "id_user_list": 1},
        _client("move_recipient"),
    ),
    "MailkitClient.set_topics": Row(
        ("email", "id_topics", "activate_all", "retry", "trace"),
        lambda env: {"email": JANE, "id_topics": []},
        _client("set_topics"),
    ),
    # -- values a client is configured with -----------------------------------------------
    "RetryPolicy.__init__": Row(
        _POLICY,
        lambda env: {},
        lambda env, kwargs: mk.RetryPolicy(**kwargs),  # type: ignore[arg-type]
        allowed={"deadline": (math.inf,)},  # documented: no deadline
    ),
    "CallTrace.__init__": Row(
        ("attempts", "on_retry"),
        lambda env: {},
        lambda env, kwargs: mk.CallTrace(**kwargs),  # type: ignore[arg-type]
    ),
    "Batch.__init__": Row(
        ("outcomes", "summary"),
        lambda env: {"outcomes": _no_outcomes(), "summary": mk.BatchSummary()},
        lambda env, kwargs: mk.Batch(**kwargs),  # type: ignore[arg-type]
    ),
    "Batch.aclose": Row(
        (),
        lambda env: {},
        lambda env, kwargs: mk.Batch(_no_outcomes(), mk.BatchSummary()).aclose(**kwargs),
    ),
    # -- codecs ------------------------------------------------------------------------------
    "JsonCodec.__init__": Row((), lambda env: {}, lambda env, kwargs: mk.JsonCodec(**kwargs)),
    "JsonCodec.encode_call": Row(
        ("function", "params", "credentials"),
        lambda env: {
            "function": "mailkit.email.wipe",
            "params": {"email": JANE},
            "credentials": env.credentials,
        },
        lambda env, kwargs: mk.JsonCodec().encode_call(**kwargs),  # type: ignore[arg-type]
        nested=frozenset({"params"}),
    ),
    "JsonCodec.decode_reply": Row(
        ("body", "function"),
        lambda env: {"body": b'{"error_status":0}', "function": "mailkit.email.wipe"},
        lambda env, kwargs: mk.JsonCodec().decode_reply(**kwargs),  # type: ignore[arg-type]
    ),
    "XmlRpcCodec.__init__": Row(
        ("send_nil",), lambda env: {}, lambda env, kwargs: mk.XmlRpcCodec(**kwargs)
    ),
    "XmlRpcCodec.encode_call": Row(
        ("function", "params", "credentials"),
        lambda env: {
            "function": "mailkit.email.wipe",
            "params": {"email": JANE},
            "credentials": env.credentials,
        },
        lambda env, kwargs: mk.XmlRpcCodec().encode_call(**kwargs),  # type: ignore[arg-type]
        nested=frozenset({"params"}),
    ),
    "XmlRpcCodec.decode_reply": Row(
        ("body", "function"),
        lambda env: {"body": _xml_reply("OK"), "function": "mailkit.email.wipe"},
        lambda env, kwargs: mk.XmlRpcCodec().decode_reply(**kwargs),  # type: ignore[arg-type]
    ),
    # -- the emulator --------------------------------------------------------------------------
    "MailkitEmulator.__init__": Row(
        ("client_id", "client_md5", "allowed_ips", "auto_create"),
        lambda env: {"client_id": CLIENT_ID, "client_md5": CLIENT_MD5},
        lambda env, kwargs: mkt.MailkitEmulator(**kwargs),  # type: ignore[arg-type]
    ),
    "MailkitEmulator.add_mailing_list": Row(
        ("name", "description", "enabled"),
        lambda env: {"name": "News"},
        _emulator("add_mailing_list"),
    ),
    "MailkitEmulator.add_recipient": Row(
        ("email", "subscribed", "mailing_list_id", "profile"),
        lambda env: {"email": "new@example.com"},
        _emulator("add_recipient"),
    ),
    "MailkitEmulator.add_campaign": Row(
        ("name", "subject", "sender", "attachments"),
        lambda env: {"name": "Spring"},
        _emulator("add_campaign"),
    ),
    "MailkitEmulator.add_topic": Row(
        ("name",), lambda env: {"name": "News"}, _emulator("add_topic")
    ),
    "MailkitEmulator.subscribers": Row(
        ("mailing_list_id",), lambda env: {"mailing_list_id": 1}, _emulator("subscribers")
    ),
    "MailkitEmulator.confirm": Row(("email_or_id",), _pending, _emulator("confirm")),
    "MailkitEmulator.recipient": Row(
        ("email_or_id",), lambda env: {"email_or_id": JANE}, _emulator("recipient")
    ),
    "MailkitEmulator.clear_calls": Row((), lambda env: {}, _emulator("clear_calls")),
    "MailkitEmulator.process_wipe_queue": Row((), lambda env: {}, _emulator("process_wipe_queue")),
    "MailkitEmulator.inject": Row(
        ("function", "body", "status", "content_type", "headers", "times"),
        lambda env: {"function": "*", "body": b"OK"},
        _emulator("inject"),
    ),
    "MailkitEmulator.transport": Row(("client_ip",), lambda env: {}, _emulator("transport")),
    "MailkitEmulator.handle": Row(
        ("path", "body", "client_ip", "method"),
        lambda env: {"path": "/json.fcgi", "body": b"{}"},
        _emulator("handle"),
    ),
    "MailkitEmulator.faults": Row(
        ("faults",),
        lambda env: {"faults": None},
        lambda env, kwargs: setattr(env.emulator, "faults", kwargs["faults"]),
        keywords=False,
    ),
    "Faults.__init__": Row(
        _FAULTS, lambda env: {}, lambda env, kwargs: mkt.Faults(**kwargs)  # type: ignore[arg-type]
    ),
    "EmulatorTransport.__init__": Row(
        ("emulator", "client_ip"),
        lambda env: {"emulator": env.emulator},
        lambda env, kwargs: mkt.EmulatorTransport(**kwargs),  # type: ignore[arg-type]
    ),
    "EmulatorTransport.handle_async_request": Row(
        ("request",),
        lambda env: {"request": httpx.Request("POST", "http://127.0.0.1/x", content=b"{}")},
        lambda env, kwargs: mkt.EmulatorTransport(env.emulator).handle_async_request(
            **kwargs  # type: ignore[arg-type]
        ),
    ),
    "serve": Row(
        ("emulator", "host", "port"),
        lambda env: {"emulator": env.emulator},
        lambda env, kwargs: mkt.serve(**kwargs),  # type: ignore[arg-type]
    ),
}


# -- the table is the surface ---------------------------------------------------------------


def test_every_public_callable_has_a_row() -> None:
    """A public callable added without a row (or a row for one that is gone) fails here."""
    assert set(public_callables()) == set(SURFACE)


@pytest.mark.parametrize("name", sorted(SURFACE))
def test_each_row_lists_the_signature(name: str) -> None:
    """A parameter added to (or removed from) a public callable must be added to its row."""
    target = public_callables()[name]
    parameters = list(inspect.signature(target).parameters.values())
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    assert tuple(p.name for p in parameters) == SURFACE[name].params
    required = {p.name for p in parameters if p.default is inspect.Parameter.empty}
    assert required <= set(SURFACE[name].valid(_placeholder_env("json")))


# -- conformance to an annotation -----------------------------------------------------------


def _namespace() -> dict[str, Any]:
    names: dict[str, Any] = {**vars(typing), **vars(collections.abc)}
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("mailkit_async") and module is not None:
            names.update(vars(module))
    names.update({"httpx": httpx, "ssl": ssl, "datetime": datetime})
    return names


def hints(name: str) -> dict[str, Any]:
    target = inspect.unwrap(public_callables()[name])
    annotations = dict(getattr(target, "__annotations__", {}))
    annotations.pop("return", None)
    namespace = _namespace()
    resolved = {}
    for param, annotation in annotations.items():
        resolved[param] = eval(annotation, namespace) if isinstance(annotation, str) else annotation
    return resolved


def conforms(value: object, annotation: Any) -> bool:
    """Whether `value` is of a type `annotation` admits (the top level only)."""
    if annotation is Any or annotation is object or isinstance(annotation, typing.TypeVar):
        return True
    if annotation is None or annotation is type(None):
        return value is None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return any(type(value) is type(arg) and value == arg for arg in typing.get_args(annotation))
    if origin is not None:
        if origin is collections.abc.Callable:
            return callable(value)
        return isinstance(value, origin)
    if annotation is bool:
        return type(value) is bool
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    raise AssertionError(f"no conformance rule for {annotation!r}")


#: Values of every kind; each parameter is tried with those its annotation does not admit.
SAMPLES: tuple[object, ...] = (
    object(),
    "text",
    3,
    2.5,
    b"bytes",
    [1],
    {"k": "v"},
    True,
    None,
    datetime.datetime(2024, 1, 1),
)
BAD_TEXT = st.sampled_from(["\x00", "\ud800", "\udfff", "\udbff\udc00\udbff"])
HUGE_INTS = (
    st.integers(min_value=2**64, max_value=2**200)
    | st.integers(min_value=-(2**200), max_value=-(2**64))
    | st.sampled_from([10**5000, -(10**5000), 2**64])
)
#: Where a float is wanted an int is a number of seconds: too long only past any float.
FLOATLESS_INTS = st.integers(min_value=2**1024, max_value=2**1100) | st.sampled_from(
    [10**5000, -(10**5000), -(2**1024)]
)
NON_FINITE = (math.nan, math.inf, -math.inf)


def _deep(levels: int) -> object:
    value: object = "leaf"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def _cycle() -> object:
    loop: list[object] = []
    loop.append(loop)
    return {"k": loop}


def _embedded(bad: object, path: list[int]) -> object:
    value = bad
    for position in path:
        value = [0] * (position % 3) + [value] if position % 2 else {f"k{position}": value}
    return value


NESTED_BAD = st.one_of(
    st.integers(MAX_NESTING, 3000).map(_deep),
    st.builds(_cycle),
    st.builds(
        _embedded,
        st.sampled_from([math.nan, math.inf, "a\x00b", "\ud800", 10**5000, object(), {1: 2}]),
        st.lists(st.integers(0, 9), max_size=6),
    ),
)


def bad_classes(name: str) -> list[tuple[str, str]]:
    """(parameter, class of bad value) pairs that apply to a row; "" for the keyword class."""
    row = SURFACE[name]
    annotations = hints(name)
    classes: list[tuple[str, str]] = [("", "unknown keyword")] if row.keywords else []
    for param in row.params:
        annotation = annotations[param]
        if any(not conforms(sample, annotation) for sample in SAMPLES):
            classes.append((param, "wrong type"))
        if conforms("text", annotation) and not conforms(object(), annotation):
            classes.append((param, "NUL or lone surrogate"))
        if conforms(2.5, annotation) and not conforms(object(), annotation):
            classes.append((param, "int beyond any float"))
        elif conforms(3, annotation) and not conforms(object(), annotation):
            classes.append((param, "int beyond 64 bits"))
        if conforms(2.5, annotation) and not conforms(object(), annotation):
            classes.append((param, "NaN or infinity"))
        if param in row.nested:
            classes.append((param, "nested too deep, cyclic or unsendable inside"))
    return classes


def bad_value(name: str, param: str, kind: str, valid: dict[str, object]) -> st.SearchStrategy[Any]:
    row = SURFACE[name]
    annotation = hints(name)[param] if param else None
    allowed = row.allowed.get(param, ())
    if kind == "unknown keyword":
        return st.from_regex(r"[a-z][a-z_]{2,15}", fullmatch=True).filter(
            lambda key: key not in row.params
        )
    if kind == "wrong type":
        return st.sampled_from([s for s in SAMPLES if not conforms(s, annotation)])
    if kind == "NUL or lone surrogate":
        base = valid.get(param)
        text = base if isinstance(base, str) else "x"
        return st.builds(
            lambda at, bad: text[:at] + bad + text[at:], st.integers(0, len(text)), BAD_TEXT
        )
    if kind == "int beyond 64 bits":
        return HUGE_INTS
    if kind == "int beyond any float":
        return FLOATLESS_INTS
    if kind == "NaN or infinity":
        return st.sampled_from([v for v in NON_FINITE if v not in allowed])
    return NESTED_BAD


CASES = [
    pytest.param(name, param, kind, protocol, id=f"{protocol}-{name}-{param or 'kw'}-{kind}")
    for name in sorted(SURFACE)
    # Only the client takes a protocol; each codec has rows of its own.
    for protocol in (PROTOCOLS if name.startswith("MailkitClient") else ("json",))
    for param, kind in bad_classes(name)
]


# -- running one example ------------------------------------------------------------------------


async def _settle(result: object) -> None:
    """Finish what a call returned: await it, enter a context manager, close a client."""
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, mk.MailkitClient | mk.Batch):
        await result.aclose()
    elif hasattr(result, "__aenter__") and hasattr(result, "__aexit__"):
        async with result:  # serve()
            pass


async def _attempt(
    name: str, protocol: str, param: str, kind: str, value: object
) -> tuple[BaseException | None, int]:
    emulator = mkt.MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    emulator.add_recipient(JANE)
    counting = Counting(mkt.EmulatorTransport(emulator))
    client = mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, protocol=protocol, transport=counting  # type: ignore[arg-type]
    )
    env = Env(protocol, emulator, counting, client)
    kwargs = SURFACE[name].valid(env)
    if kind == "unknown keyword":
        kwargs[str(value)] = 1
    elif kind.startswith("nested"):
        # Named for JSON; positional (a list) for XML-RPC, whose order is then not needed.
        json = name.startswith("JsonCodec") or (name.startswith("Mailkit") and protocol == "json")
        kwargs[param] = {"p": value} if json else [value]
    else:
        kwargs[param] = value
    error: BaseException | None = None
    try:
        await _settle(SURFACE[name].call(env, kwargs))
    except BaseException as exc:
        error = exc
    finally:
        await client.aclose()
    return error, env.sent()


FAST = settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize(("name", "param", "kind", "protocol"), CASES)
def test_bad_arguments_are_refused_before_anything_is_sent(
    name: str, param: str, kind: str, protocol: str
) -> None:
    """The property, per callable, parameter and class of bad value, on both protocols."""
    valid_kwargs = SURFACE[name].valid(_placeholder_env(protocol))

    @FAST
    @given(bad_value(name, param, kind, valid_kwargs))
    def check(value: object) -> None:
        error, sent = asyncio.run(_attempt(name, protocol, param, kind, value))
        assert isinstance(error, mk.InvalidArgumentError), f"{kind}: {error!r}"
        named = str(value) if kind == "unknown keyword" else param
        assert named in str(error), str(error)
        assert sent == 0

    check()


def _placeholder_env(protocol: str) -> Env:
    emulator = mkt.MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    counting = Counting(mkt.EmulatorTransport(emulator))
    return Env(protocol, emulator, counting, None)  # type: ignore[arg-type]


# -- the valid values are valid ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SURFACE))
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_valid_arguments_go_through(name: str, protocol: str) -> None:
    """The table's valid values are accepted (else every refusal above would prove nothing)."""
    emulator = mkt.MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    emulator.add_recipient(JANE)
    counting = Counting(mkt.EmulatorTransport(emulator))
    async with mk.MailkitClient(
        CLIENT_ID, CLIENT_MD5, protocol=protocol, transport=counting  # type: ignore[arg-type]
    ) as client:
        env = Env(protocol, emulator, counting, client)
        await _settle(SURFACE[name].call(env, SURFACE[name].valid(env)))


# -- batches: a bad item is that item's outcome, and is never sent ------------------------------

BAD_RECIPIENTS = st.one_of(
    st.sampled_from([object(), 2.5, None, True, b"x@example.com", ["x"]]),
    HUGE_INTS,
    st.builds(lambda at, bad: JANE[:at] + bad + JANE[at:], st.integers(0, len(JANE)), BAD_TEXT),
)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@settings(max_examples=25, deadline=None, database=None)
@given(bad=st.lists(BAD_RECIPIENTS, min_size=1, max_size=4), nested=NESTED_BAD)
def test_bad_batch_items_become_outcomes_without_a_request(
    protocol: str, bad: list[object], nested: object
) -> None:
    """Items are read lazily, so each is checked as it is read: its Outcome holds the
    InvalidArgumentError, with 0 attempts, and nothing reaches the transport."""

    async def scenario() -> None:
        emulator = mkt.MailkitEmulator(CLIENT_ID, CLIENT_MD5)
        counting = Counting(mkt.EmulatorTransport(emulator))
        async with mk.MailkitClient(
            CLIENT_ID, CLIENT_MD5, protocol=protocol, transport=counting  # type: ignore[arg-type]
        ) as client:
            wiped = [o async for o in client.wipe_many(bad)]
            revalidated = [o async for o in client.revalidate_many(bad, agreement=False)]
            calls = [("mailkit.x.y", {"p": nested} if protocol == "json" else [nested])]
            called = [o async for o in client.call_many(calls)]
        for outcome in [*wiped, *revalidated, *called]:
            assert isinstance(outcome.error, mk.InvalidArgumentError), outcome
            assert outcome.attempts == 0
        assert len(wiped) == len(revalidated) == len(bad)
        assert counting.requests == 0
        assert emulator.calls == []

    asyncio.run(scenario())


# -- the measured misuses of issue 12 ---------------------------------------------------------


async def test_the_misuses_measured_on_main_are_typed() -> None:
    """5,000-deep parameters raised RecursionError, trace="x" and retry="x" AttributeError."""
    emulator = mkt.MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    counting = Counting(mkt.EmulatorTransport(emulator))
    for protocol in PROTOCOLS:
        async with mk.MailkitClient(
            CLIENT_ID, CLIENT_MD5, protocol=protocol, transport=counting  # type: ignore[arg-type]
        ) as client:
            deep = _deep(5000)
            with pytest.raises(mk.InvalidArgumentError, match="deeper than 32"):
                await client.call("mailkit.x.y", {"p": deep} if protocol == "json" else [deep])
            with pytest.raises(mk.InvalidArgumentError, match="trace"):
                await client.wipe(JANE, trace="x")  # type: ignore[arg-type]
            with pytest.raises(mk.InvalidArgumentError, match="retry"):
                await client.wipe(JANE, retry="x")  # type: ignore[arg-type]
            with pytest.raises(mk.InvalidArgumentError, match="retry"):
                client.wipe_many([JANE], retry="x")  # type: ignore[arg-type]
            with pytest.raises(mk.InvalidArgumentError, match="colour"):
                await client.wipe(JANE, colour="blue")  # type: ignore[call-arg]
    assert counting.requests == 0


def test_invalid_argument_is_both_builtin_errors() -> None:
    """Code catching ValueError or TypeError (Python's own error for an unknown keyword)
    still catches the library's refusals."""
    assert issubclass(mk.InvalidArgumentError, ValueError)
    assert issubclass(mk.InvalidArgumentError, TypeError)
    assert issubclass(mk.InvalidArgumentError, mk.MailkitError)


def test_public_coroutines_stay_coroutine_functions() -> None:
    """The argument check keeps `inspect.iscoroutinefunction` true for async methods."""
    for name, target in public_callables().items():
        raw = inspect.unwrap(target)
        assert inspect.iscoroutinefunction(target) == inspect.iscoroutinefunction(raw), name
        assert inspect.signature(target) == inspect.signature(raw), name


def test_exempt_names_are_what_they_say() -> None:
    """The exemptions stay honest: records are attrs/NamedTuple data, enums are enums."""
    for name, reason in EXEMPT.items():
        obj = getattr(mk, name, None) or getattr(mkt, name)
        if reason == "an enum":
            assert issubclass(obj, enum.Enum), name
        if reason.startswith("a record"):
            methods = [k for k, v in vars(obj).items() if inspect.isfunction(v) and k[0] != "_"]
            assert methods == [], f"{name} gained public methods: give them rows"
