"""`MailkitClient`: the public async client."""

from __future__ import annotations

import enum
import ssl
import urllib.parse
import urllib.request
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Final, Literal, TypeVar

import httpx

from ._batch import Batch, BatchSummary, Outcome, check_batch_options, fan_out
from ._classify import (
    ExtraMessages,
    build_tables,
    classify_revalidate,
    classify_wipe,
    raise_for_api_error,
)
from ._codec import Codec, Params
from ._credentials import Credentials
from ._dispatch import CallTrace, Dispatcher, RetryEvent, new_trace
from ._errors import ConfigurationError, InvalidArgumentError
from ._functions import FUNCTIONS, RetryClass, spec_for
from ._h1_sender import H1Sender
from ._http import Sender
from ._httpx_sender import HttpxSender, checked_transport
from ._json_codec import JsonCodec
from ._results import RevalidateResult, WipeResult
from ._retry import RetryPolicy
from ._validate import (
    ANY_CODEC,
    check_call,
    check_choice,
    check_count,
    check_flag,
    check_id,
    check_instance,
    check_language,
    check_recipient,
    check_seconds,
    check_text,
    checked_arguments,
    describe,
)
from ._xmlrpc_codec import XmlRpcCodec

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "MailkitClient"]

T = TypeVar("T")

DEFAULT_BASE_URL: Final = "https://api.mailkit.eu"
#: Mailkit documents no timeouts; a read can be slow on large list calls, a connect should not.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_CONCURRENCY: Final = 50
#: Far above any single-recipient answer; list calls of 10,000 rows stay well under it.
DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024

_WIPE: Final = "mailkit.email.wipe"
_WIPE_CLASS: Final = FUNCTIONS[_WIPE].retry_class
_REVALIDATE: Final = "mailkit.email.revalidate"
_CODECS: Final[dict[str, type[JsonCodec] | type[XmlRpcCodec]]] = {
    "json": JsonCodec,
    "xmlrpc": XmlRpcCodec,
}


class _State(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class _Unset(enum.Enum):
    UNSET = "UNSET"


_UNSET: Final = _Unset.UNSET


class MailkitClient:
    """An async client for the Mailkit API, safe to share across the tasks of one event loop.

    ```python
    async with MailkitClient(protocol="json") as client:
        result = await client.wipe("jane@example.com")
        if result.status.succeeded: ...
    ```

    Credentials default to `$MAILKIT_CLIENT_ID` / `$MAILKIT_CLIENT_MD5`. `protocol` is "json",
    "xmlrpc" or a `Codec` object.

    HTTP goes through the built-in engine, a lean HTTP/1.1 keep-alive client (about ten times
    less CPU per call than a stock `httpx.AsyncClient`), unless a proxy is configured in the
    environment. `engine="httpx"` builds an `httpx.AsyncClient` instead; `http_client` uses
    your own (proxies, event hooks; it is not closed for you), and `transport` mounts an
    httpx transport (such as `mailkit_async.testing.EmulatorTransport`). `ssl_context`
    replaces the default trust store (certifi, or `SSL_CERT_FILE`) in either engine.
    """

    @checked_arguments
    def __init__(
        self,
        client_id: str | int | None = None,
        client_md5: str | None = None,
        *,
        protocol: Literal["json", "xmlrpc"] | Codec = "json",
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx.Timeout | _Unset | None = _UNSET,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        engine: Literal["auto", "builtin", "httpx"] = "auto",
        ssl_context: ssl.SSLContext | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        extra_messages: ExtraMessages | None = None,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        try:
            self._credentials = Credentials.resolve(client_id, client_md5)
        finally:
            # Only the Credentials hold it from here: a traceback records this frame's locals.
            del client_md5
        self._codec = _make_codec(protocol)
        # Built-in codecs check the parameters as they encode them; a custom one gets the
        # checks no wire format could do without, here.
        builtin = type(self._codec).encode_call in (JsonCodec.encode_call, XmlRpcCodec.encode_call)
        self._param_rules = None if builtin else ANY_CODEC
        check_count(max_concurrency, name="max_concurrency")
        check_count(max_response_bytes, name="max_response_bytes")
        _check_base_url(base_url)
        if not isinstance(timeout, _Unset):
            _check_timeout(timeout)
        optional = type(None)
        check_instance(
            http_client, (httpx.AsyncClient, optional), name="http_client", what="an httpx client"
        )
        check_instance(
            transport, (httpx.AsyncBaseTransport, optional), name="transport", what="a transport"
        )
        _check_extra_messages(extra_messages)
        _check_callback(on_retry, "on_retry")
        self._wipe_table, self._revalidate_table = build_tables(extra_messages)
        self._retry = _check_policy(retry) if retry is not None else RetryPolicy()
        self._on_retry = on_retry
        self._max_concurrency = max_concurrency

        self._base_url = base_url
        self._sender = _make_sender(
            base_url,
            engine=engine,
            http_client=http_client,
            transport=transport,
            timeout=DEFAULT_TIMEOUT if isinstance(timeout, _Unset) else timeout,
            timeout_given=not isinstance(timeout, _Unset),
            ssl_context=ssl_context,
            max_concurrency=max_concurrency,
            max_response_bytes=max_response_bytes,
        )
        self._dispatcher = Dispatcher(
            codec=self._codec,
            credentials=self._credentials,
            sender=self._sender,
            base_url=base_url,
        )
        self._state = _State.OPEN

    def __repr__(self) -> str:
        return (
            f"<MailkitClient protocol={self._codec.name!r} engine={self.engine!r} "
            f"url={self._dispatcher.url!r} "
            f"client_id={self._credentials.client_id!r} state={self._state.value}>"
        )

    @property
    def max_concurrency(self) -> int:
        """The most requests in flight at once (the HTTP pool size when the client built it)."""
        return self._max_concurrency

    @property
    def engine(self) -> str:
        """The HTTP engine in use: "builtin" (the default) or "httpx"."""
        return "builtin" if isinstance(self._sender, H1Sender) else "httpx"

    @property
    def protocol(self) -> str:
        """The codec's name: "json", "xmlrpc" or a custom codec's."""
        return self._codec.name

    async def __aenter__(self) -> MailkitClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @checked_arguments
    async def aclose(self) -> None:
        """Close the HTTP client if this client created it. Safe to call twice."""
        if self._state is _State.OPEN:
            self._state = _State.CLOSED
            await self._sender.aclose()

    def _check_open(self) -> None:
        if self._state is _State.CLOSED:
            raise ConfigurationError("this MailkitClient is closed; create a new one")

    @checked_arguments
    async def call(
        self,
        function: str,
        params: Params | None = None,
        *,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Any:
        """Call any API function and return its decoded answer.

        `params` are named (a mapping), or for XML-RPC functions without a known order, a list
        in the documented positional order after client_id and client_md5. A documented
        error string or a non-zero `error_status` raises `ApiError`.

        Failures that prove the request never reached Mailkit are retried for every function;
        ones where it may have (a dropped connection) only for functions known to be safe to
        repeat. `idempotent=True/False` overrides what the library knows about `function`
        (unknown functions count as unsafe).
        """
        self._check_open()
        return await self._call_one(function, params, idempotent, retry, trace, None)

    def _call_one(
        self,
        function: str,
        params: Params | None,
        idempotent: bool | None,
        retry: RetryPolicy | None,
        trace: CallTrace | None,
        pace: Callable[[], Awaitable[None]] | None,
    ) -> Awaitable[Any]:
        params = {} if params is None else params
        check_call(function, params, rules=self._param_rules)
        if idempotent is not None:
            check_flag(idempotent, name="idempotent")
        spec = spec_for(function)
        if idempotent is not None:
            retry_class = RetryClass.IDEMPOTENT if idempotent else RetryClass.UNSAFE
        else:
            retry_class = spec.retry_class if spec is not None else RetryClass.UNSAFE

        def interpret(value: object) -> object:
            raise_for_api_error(value, spec, function)
            return value

        return self._dispatch(function, params, interpret, retry_class, retry, trace, pace)

    def _dispatch(
        self,
        function: str,
        params: Params,
        interpret: Callable[[object], T],
        retry_class: RetryClass,
        retry: RetryPolicy | None,
        trace: CallTrace | None,
        pace: Callable[[], Awaitable[None]] | None = None,
    ) -> Awaitable[T]:
        if trace is None:
            trace = new_trace(self._on_retry)
        else:
            if not isinstance(trace, CallTrace):
                raise InvalidArgumentError(f"trace must be a CallTrace, not {type(trace).__name__}")
            if trace.on_retry is None:
                trace.on_retry = self._on_retry
        return self._dispatcher.dispatch(
            function,
            params,
            interpret,
            retry_class=retry_class,
            policy=self._retry if retry is None else _check_policy(retry),
            trace=trace,
            pace=pace,
        )

    @checked_arguments
    async def wipe(
        self,
        recipient: str | int,
        *,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> WipeResult:
        """Queue a recipient for the daily GDPR wipe. An int is an ID_email, a str an address."""
        self._check_open()
        return await self._wipe_one(recipient, retry, trace, None)

    def _wipe_one(
        self,
        recipient: str | int,
        retry: RetryPolicy | None,
        trace: CallTrace | None,
        pace: Callable[[], Awaitable[None]] | None,
    ) -> Awaitable[WipeResult]:
        key, value = check_recipient(recipient)
        table = self._wipe_table
        # A repeated wipe is answered "Email has already been inserted": safe to resend.
        return self._dispatch(
            _WIPE,
            {key: value},
            lambda reply: classify_wipe(reply, table, function=_WIPE),
            _WIPE_CLASS,
            retry,
            trace,
            pace,
        )

    @checked_arguments
    async def revalidate(
        self,
        recipient: str | int,
        *,
        agreement: bool,
        channel: str | None = None,
        language: str | None = None,
        id_message: int | None = None,
        id_template: int | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> RevalidateResult:
        """Re-subscribe an unsubscribed recipient.

        `agreement=True`: the recipient consented (say how in `channel`); no email is sent.
        `agreement=False`: Mailkit emails an opt-in link, in `language` (cs, en, de, ru, pl,
        sk, hu). `id_template` exists only in the JSON API. Without agreement a repeat would
        send a second email, so a call that may have reached Mailkit ends as
        `OutcomeUnknownError` instead of being retried.
        """
        self._check_open()
        return await self._revalidate_one(
            recipient,
            agreement=agreement,
            channel=channel,
            language=language,
            id_message=id_message,
            id_template=id_template,
            retry=retry,
            trace=trace,
            pace=None,
        )

    def _revalidate_one(
        self,
        recipient: str | int,
        *,
        agreement: bool,
        channel: str | None,
        language: str | None,
        id_message: int | None,
        id_template: int | None,
        retry: RetryPolicy | None,
        trace: CallTrace | None,
        pace: Callable[[], Awaitable[None]] | None,
    ) -> Awaitable[RevalidateResult]:
        key, value = check_recipient(recipient)
        check_flag(agreement, name="agreement")
        params: dict[str, object] = {key: value, "agreement": agreement}
        if channel is not None:
            params["channel"] = check_text(channel, name="channel", max_length=255)
        if language is not None:
            params["language"] = check_language(language)
        if id_message is not None:
            params["ID_message"] = check_id(id_message, name="id_message")
        if id_template is not None:
            params["ID_template"] = check_id(id_template, name="id_template")
        table = self._revalidate_table
        requested = value if key == "email" else None
        return self._dispatch(
            _REVALIDATE,
            params,
            lambda reply: classify_revalidate(
                reply, table, function=_REVALIDATE, agreement=agreement, requested_email=requested
            ),
            RetryClass.IDEMPOTENT if agreement else RetryClass.UNSAFE,
            retry,
            trace,
            pace,
        )

    @checked_arguments
    def wipe_many(
        self,
        recipients: Iterable[str | int] | AsyncIterable[str | int],
        *,
        concurrency: int | None = None,
        rate: float | None = None,
        adaptive: bool = False,
        ordered: bool = False,
        retry: RetryPolicy | None = None,
        on_outcome: Callable[[Outcome[str | int, WipeResult]], None] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> Batch[str | int, WipeResult]:
        """Wipe many recipients; `async for outcome in client.wipe_many(addresses): ...`.

        The input is read lazily (a file, a generator, a database cursor), with at most
        `concurrency` requests in flight (default: the client's `max_concurrency`). Each
        input gives exactly one Outcome (`item`, `result`, `error`), in completion order, or
        input order with `ordered=True`. `rate` caps requests per second; `adaptive=True`
        halves the in-flight limit when Mailkit answers 429/503 and climbs back after.
        """
        if retry is not None:
            _check_policy(retry)
        return self._batch(
            recipients,
            lambda item, trace, pace: self._wipe_one(item, retry, trace, pace),
            lambda result: result.status.value,
            concurrency,
            rate,
            adaptive,
            ordered,
            on_outcome,
            on_retry,
        )

    @checked_arguments
    def revalidate_many(
        self,
        recipients: Iterable[str | int] | AsyncIterable[str | int],
        *,
        agreement: bool,
        channel: str | None = None,
        language: str | None = None,
        id_message: int | None = None,
        concurrency: int | None = None,
        rate: float | None = None,
        adaptive: bool = False,
        ordered: bool = False,
        retry: RetryPolicy | None = None,
        on_outcome: Callable[[Outcome[str | int, RevalidateResult]], None] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> Batch[str | int, RevalidateResult]:
        """Revalidate many recipients, as `wipe_many` does for wipes.

        Without agreement, an item that may have reached Mailkit is never re-sent: its
        outcome's error is `OutcomeUnknownError`.
        """
        # Checked here, once: per item they would only become as many failed outcomes.
        check_flag(agreement, name="agreement")
        if channel is not None:
            check_text(channel, name="channel", max_length=255)
        if language is not None:
            check_language(language)
        if id_message is not None:
            check_id(id_message, name="id_message")
        if retry is not None:
            _check_policy(retry)
        return self._batch(
            recipients,
            lambda item, trace, pace: self._revalidate_one(
                item,
                agreement=agreement,
                channel=channel,
                language=language,
                id_message=id_message,
                id_template=None,
                retry=retry,
                trace=trace,
                pace=pace,
            ),
            lambda result: result.status.value,
            concurrency,
            rate,
            adaptive,
            ordered,
            on_outcome,
            on_retry,
        )

    @checked_arguments
    def call_many(
        self,
        calls: Iterable[tuple[str, Params]] | AsyncIterable[tuple[str, Params]],
        *,
        concurrency: int | None = None,
        rate: float | None = None,
        adaptive: bool = False,
        ordered: bool = False,
        retry: RetryPolicy | None = None,
        on_outcome: Callable[[Outcome[tuple[str, Params], Any]], None] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> Batch[tuple[str, Params], Any]:
        """Fan out any `(function, params)` pairs through `call()`, as `wipe_many` does."""

        async def one(
            pair: tuple[str, Params], trace: CallTrace, pace: Callable[[], Awaitable[None]] | None
        ) -> Any:
            given: object = pair  # checked at run time: the input is the caller's data
            if not isinstance(given, tuple) or len(given) != 2:
                raise InvalidArgumentError("call_many takes (function, params) pairs")
            return await self._call_one(pair[0], pair[1], None, retry, trace, pace)

        if retry is not None:
            _check_policy(retry)
        return self._batch(
            calls, one, None, concurrency, rate, adaptive, ordered, on_outcome, on_retry, "calls"
        )

    def _batch(
        self,
        items: Any,
        work: Callable[[Any, CallTrace, Callable[[], Awaitable[None]] | None], Awaitable[Any]],
        status_of: Callable[[Any], str] | None,
        concurrency: int | None,
        rate: float | None,
        adaptive: bool,
        ordered: bool,
        on_outcome: Callable[[Any], None] | None,
        on_retry: Callable[[RetryEvent], None] | None,
        items_name: str = "recipients",
    ) -> Batch[Any, Any]:
        self._check_open()
        concurrency = self._max_concurrency if concurrency is None else concurrency
        check_batch_options(
            items, concurrency, rate, self._max_concurrency, items_name=items_name
        )
        check_flag(adaptive, name="adaptive")
        check_flag(ordered, name="ordered")
        _check_callback(on_outcome, "on_outcome")
        _check_callback(on_retry, "on_retry")
        summary = BatchSummary()
        outcomes = fan_out(
            items,
            work,
            concurrency=concurrency,
            rate=rate,
            adaptive=adaptive,
            ordered=ordered,
            status_of=status_of,
            on_outcome=on_outcome,
            on_retry=on_retry if on_retry is not None else self._on_retry,
            summary=summary,
        )
        return Batch(outcomes, summary)


def _check_policy(policy: object) -> RetryPolicy:
    if not isinstance(policy, RetryPolicy):
        raise InvalidArgumentError(f"retry must be a RetryPolicy, not {type(policy).__name__}")
    return policy


def _check_callback(callback: object, name: str) -> None:
    if callback is not None and not callable(callback):
        raise InvalidArgumentError(
            f"{name} must be callable or None, not {type(callback).__name__}"
        )


def _check_base_url(base_url: object) -> None:
    if not isinstance(base_url, str):
        raise InvalidArgumentError(
            f"base_url must be an http(s) URL (str), not {type(base_url).__name__}"
        )
    if not base_url.isprintable() or " " in base_url or not base_url.isascii():
        raise InvalidArgumentError(
            "base_url holds spaces, control characters or non-ASCII characters; "
            "percent-encode them"
        )
    try:
        parts = urllib.parse.urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise InvalidArgumentError(f"base_url is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgumentError(
            f"base_url must be an http(s) URL with a host, got {describe(base_url)}"
        )


def _check_timeout(timeout: object) -> None:
    """A number of seconds, None (no timeouts) or an httpx.Timeout, each part finite and > 0."""
    if timeout is None:
        return
    if isinstance(timeout, httpx.Timeout):
        for part in ("connect", "read", "write", "pool"):
            check_seconds(getattr(timeout, part), name=f"timeout.{part}", allow_none=True)
        return
    check_seconds(timeout, name="timeout")


def _check_extra_messages(extra: object) -> None:
    if extra is None:
        return
    if not isinstance(extra, Mapping):
        raise InvalidArgumentError(
            f"extra_messages must be a mapping of function name to messages, not "
            f"{type(extra).__name__}"
        )
    for function, messages in extra.items():
        if not isinstance(function, str) or not isinstance(messages, Mapping):
            raise InvalidArgumentError(
                "extra_messages maps a function name (str) to a mapping of message to status"
            )


def _make_codec(protocol: object) -> Codec:
    if isinstance(protocol, str):
        codec_type = _CODECS.get(protocol)
        if codec_type is None:
            raise InvalidArgumentError(
                f"protocol must be 'json', 'xmlrpc' or a Codec, not {describe(protocol)}"
            )
        return codec_type()
    if isinstance(protocol, Codec):
        return protocol
    raise InvalidArgumentError(
        f"protocol must be 'json', 'xmlrpc' or a Codec object, not {type(protocol).__name__}"
    )


def _make_sender(
    base_url: str,
    *,
    engine: object,
    http_client: httpx.AsyncClient | None,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float | httpx.Timeout | None,
    timeout_given: bool,
    ssl_context: ssl.SSLContext | None,
    max_concurrency: int,
    max_response_bytes: int,
) -> Sender:
    check_choice(engine, name="engine", choices=("auto", "builtin", "httpx"))
    if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
        raise InvalidArgumentError(
            f"ssl_context must be an ssl.SSLContext, not {type(ssl_context).__name__}"
        )
    if http_client is not None:
        if transport is not None or timeout_given or ssl_context is not None:
            raise ConfigurationError(
                "timeout, transport and ssl_context configure the HTTP client built here; "
                "with http_client=, set them on that client instead"
            )
        if engine == "builtin":
            raise ConfigurationError("http_client= is an httpx client: use engine='httpx'")
        return HttpxSender(
            http_client,
            owns_client=False,
            max_body=max_response_bytes,
            max_concurrency=max_concurrency,
        )
    if transport is not None and engine == "builtin":
        raise ConfigurationError("transport= mounts an httpx transport: use engine='httpx'")
    if engine == "auto":
        engine = "httpx" if transport is not None or _proxy_configured(base_url) else "builtin"
    limits = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    if engine == "builtin":
        return H1Sender(
            max_connections=max_concurrency,
            timeout=limits,
            max_body=max_response_bytes,
            ssl_context=ssl_context,
        )
    pool = httpx.Limits(
        max_connections=max_concurrency,
        # httpcore 1.0 closes idle connections beyond this even under steady load
        # (encode/httpcore#1035); over HTTPS each is a new TLS handshake.
        max_keepalive_connections=max_concurrency,
    )
    verify = ssl_context if ssl_context is not None else True
    client = httpx.AsyncClient(
        timeout=limits,
        limits=pool,
        transport=transport if transport is not None else checked_transport(verify, pool),
        verify=verify,  # for the proxies httpx mounts from the environment
        follow_redirects=False,
    )
    return HttpxSender(
        client, owns_client=True, max_body=max_response_bytes, max_concurrency=max_concurrency
    )


def _proxy_configured(base_url: str) -> bool:
    """Whether the environment routes `base_url` through a proxy (only httpx speaks proxy)."""
    proxies = urllib.request.getproxies_environment()
    scheme = base_url.split(":", 1)[0].lower()
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    host = httpx.URL(base_url).host
    return not urllib.request.proxy_bypass(host)
