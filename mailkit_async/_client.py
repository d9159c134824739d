"""`MailkitClient`: the public async client."""

from __future__ import annotations

import enum
import functools
import ssl
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, Final, Literal, TypeVar

import httpx

from ._batch import Batch, BatchSummary, Outcome, check_batch_options, fan_out
from ._classify import (
    ExtraMessages,
    build_tables,
    classify_revalidate,
    classify_wipe,
    read_answer,
)
from ._codec import Codec, Params
from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    check_base_url,
    check_callback,
    check_extra_messages,
    check_timeout,
    make_codec,
)
from ._credentials import Credentials
from ._dispatch import CallTrace, Dispatcher, RetryEvent, check_policy
from ._engine import make_sender
from ._errors import ConfigurationError, InvalidArgumentError
from ._functions import FUNCTIONS, RetryClass, spec_for
from ._json_codec import JsonCodec
from ._list_calls import ListCalls
from ._operation import Operation
from ._recipient_calls import RecipientCalls
from ._results import RevalidateResult, WipeResult
from ._retry import RetryPolicy
from ._validate import (
    ANY_CODEC,
    check_call,
    check_count,
    check_flag,
    check_id,
    check_instance,
    check_language,
    check_recipient,
    check_text,
    checked_arguments,
)
from ._xmlrpc_codec import XmlRpcCodec

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "MailkitClient"]

I = TypeVar("I")  # noqa: E741 - the conventional name for an input item
R = TypeVar("R")

_WIPE: Final = "mailkit.email.wipe"
_WIPE_CLASS: Final = FUNCTIONS[_WIPE].retry_class
_REVALIDATE: Final = "mailkit.email.revalidate"


class _Unset(enum.Enum):
    UNSET = "UNSET"


_UNSET: Final = _Unset.UNSET


class MailkitClient(RecipientCalls, ListCalls):
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

    Every call method checks its arguments at once (a bad one raises InvalidArgumentError
    before anything is sent) and returns the call's awaitable: `await client.wipe(...)`.
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
            credentials = Credentials.resolve(client_id, client_md5)
        finally:
            # Only the Credentials hold it from here: a traceback records this frame's locals.
            del client_md5
        codec = make_codec(protocol)
        # Built-in codecs check the parameters as they encode them; a custom one gets the
        # checks no wire format could do without, here.
        builtin = type(codec).encode_call in (JsonCodec.encode_call, XmlRpcCodec.encode_call)
        self._param_rules = None if builtin else ANY_CODEC
        check_count(max_concurrency, name="max_concurrency")
        check_count(max_response_bytes, name="max_response_bytes")
        check_base_url(base_url)
        if not isinstance(timeout, _Unset):
            check_timeout(timeout)
        optional = type(None)
        check_instance(
            http_client, (httpx.AsyncClient, optional), name="http_client", what="an httpx client"
        )
        check_instance(
            transport, (httpx.AsyncBaseTransport, optional), name="transport", what="a transport"
        )
        check_extra_messages(extra_messages)
        check_callback(on_retry, "on_retry")
        wipe_table, revalidate_table = build_tables(extra_messages)
        self._read_wipe = functools.partial(classify_wipe, table=wipe_table, function=_WIPE)
        self._revalidate_table = revalidate_table
        self._on_retry = on_retry
        self._max_concurrency = max_concurrency
        self._codec = codec
        self._credentials = credentials
        self._sender = make_sender(
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
            codec=codec,
            credentials=credentials,
            sender=self._sender,
            base_url=base_url,
            policy=RetryPolicy() if retry is None else check_policy(retry),
            on_retry=on_retry,
        )

    def __repr__(self) -> str:
        state = "closed" if self._dispatcher.closed else "open"
        return (
            f"<MailkitClient protocol={self._codec.name!r} engine={self.engine!r} "
            f"url={self._dispatcher.url!r} "
            f"client_id={self._credentials.client_id!r} state={state}>"
        )

    @property
    def max_concurrency(self) -> int:
        """The most requests in flight at once (the HTTP pool size when the client built it)."""
        return self._max_concurrency

    @property
    def engine(self) -> str:
        """The HTTP engine in use: "builtin" (the default) or "httpx"."""
        return self._sender.name

    @property
    def protocol(self) -> str:
        """The codec's name: "json", "xmlrpc" or a custom codec's."""
        return self._codec.name

    async def __aenter__(self) -> MailkitClient:
        if self._dispatcher.closed:
            raise ConfigurationError("this MailkitClient is closed; create a new one")
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
        if not self._dispatcher.closed:
            self._dispatcher.closed = True
            await self._sender.aclose()

    # -- calls -------------------------------------------------------------------------------

    @checked_arguments
    def call(
        self,
        function: str,
        params: Params | None = None,
        *,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, Any]:
        """Call any API function and return its decoded answer.

        `params` are named (a mapping), or for XML-RPC functions without a known order, a list
        in the documented positional order after client_id and client_md5. A documented
        error string or a non-zero `error_status` raises `ApiError`.

        Failures that prove the request never reached Mailkit are retried for every function;
        ones where it may have (a dropped connection) only for functions known to be safe to
        repeat. `idempotent=True/False` overrides what the library knows about `function`
        (unknown functions count as unsafe).
        """
        params = {} if params is None else params
        check_call(function, params, rules=self._param_rules)
        spec = spec_for(function)
        if idempotent is not None:
            retry_class = RetryClass.SAFE if check_flag(idempotent, name="idempotent") else (
                RetryClass.UNSAFE
            )
        else:
            retry_class = spec.retry_class if spec is not None else RetryClass.UNSAFE
        read = functools.partial(read_answer, spec=spec, function=function)
        return self._dispatcher.run(Operation(function, params, retry_class, read), retry, trace)

    @checked_arguments
    def wipe(
        self,
        recipient: str | int,
        *,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, WipeResult]:
        """Queue a recipient for the daily GDPR wipe. An int is an ID_email, a str an address.

        A repeated wipe is answered "Email has already been inserted" (`ALREADY_QUEUED`), so a
        wipe whose answer was lost is safely sent again.
        """
        key, value = check_recipient(recipient)
        operation = Operation(_WIPE, {key: value}, _WIPE_CLASS, self._read_wipe)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def revalidate(
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
    ) -> Coroutine[Any, Any, RevalidateResult]:
        """Re-subscribe an unsubscribed recipient.

        `agreement=True`: the recipient consented (say how in `channel`); no email is sent.
        `agreement=False`: Mailkit emails an opt-in link, in `language` (cs, en, de, ru, pl,
        sk, hu). `id_template` exists only in the JSON API. Without agreement a repeat would
        send a second email, so a call that may have reached Mailkit ends as
        `OutcomeUnknownError` instead of being retried.
        """
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
        read = functools.partial(
            classify_revalidate,
            table=self._revalidate_table,
            function=_REVALIDATE,
            agreement=agreement,
            requested_email=value if key == "email" else None,
        )
        retry_class = RetryClass.SAFE if agreement else RetryClass.UNSAFE
        return self._dispatcher.run(Operation(_REVALIDATE, params, retry_class, read), retry, trace)

    # -- many calls ----------------------------------------------------------------------------

    @checked_arguments
    def map(
        self,
        work: Callable[[I], Awaitable[R]],
        items: Iterable[I] | AsyncIterable[I],
        *,
        concurrency: int | None = None,
        rate: float | None = None,
        adaptive: bool = False,
        ordered: bool = False,
        on_outcome: Callable[[Outcome[I, R]], None] | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> Batch[I, R]:
        """Run `work(item)` for every item, with at most `concurrency` calls in flight.

        ```python
        batch = client.map(lambda a: client.unsubscribe(a, send_optout=False), addresses)
        async for outcome in batch: ...   # outcome.item, outcome.result, outcome.error
        ```

        `work` is any of the client's call methods, or a function making such calls. The
        input is read lazily (a file, a generator, a database cursor): memory follows the
        concurrency (default: the client's `max_concurrency`), not the input. Each input
        gives exactly one Outcome, in completion order, or input order with `ordered=True`;
        a MailkitError from one item is its outcome and never ends the batch. `rate` caps
        attempts per second; `adaptive=True` halves the in-flight limit when Mailkit answers
        429/503 and climbs back after. The calls `work` makes report their attempts and
        retries to the batch unless they are given a `trace` of their own.
        """
        if not callable(work):
            raise InvalidArgumentError(f"work must be callable, not {type(work).__name__}")
        return self._batch(
            work,
            items,
            "items",
            concurrency=concurrency,
            rate=rate,
            adaptive=adaptive,
            ordered=ordered,
            on_outcome=on_outcome,
            on_retry=on_retry,
        )

    def _batch(
        self,
        work: Callable[[I], Awaitable[R]],
        items: Iterable[I] | AsyncIterable[I],
        items_name: str,
        *,
        concurrency: int | None,
        rate: float | None,
        adaptive: bool,
        ordered: bool,
        on_outcome: Callable[[Outcome[I, R]], None] | None,
        on_retry: Callable[[RetryEvent], None] | None,
    ) -> Batch[I, R]:
        if self._dispatcher.closed:
            raise ConfigurationError("this MailkitClient is closed; create a new one")
        concurrency = self._max_concurrency if concurrency is None else concurrency
        check_batch_options(
            items, concurrency, rate, self._max_concurrency, items_name=items_name
        )
        check_flag(adaptive, name="adaptive")
        check_flag(ordered, name="ordered")
        check_callback(on_outcome, "on_outcome")
        check_callback(on_retry, "on_retry")
        summary = BatchSummary()
        outcomes = fan_out(
            items,
            work,
            concurrency=concurrency,
            rate=rate,
            adaptive=adaptive,
            ordered=ordered,
            on_outcome=on_outcome,
            on_retry=on_retry if on_retry is not None else self._on_retry,
            summary=summary,
        )
        return Batch(outcomes, summary)

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
        """Wipe many recipients: `map(wipe, recipients)`, with a `retry` policy for each."""
        if retry is not None:
            check_policy(retry)
        return self._batch(
            functools.partial(self.wipe, retry=retry),
            recipients,
            "recipients",
            concurrency=concurrency,
            rate=rate,
            adaptive=adaptive,
            ordered=ordered,
            on_outcome=on_outcome,
            on_retry=on_retry,
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
        """Revalidate many recipients: `map(revalidate, recipients)` with these options.

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
            check_policy(retry)
        return self._batch(
            functools.partial(
                self.revalidate,
                agreement=agreement,
                channel=channel,
                language=language,
                id_message=id_message,
                retry=retry,
            ),
            recipients,
            "recipients",
            concurrency=concurrency,
            rate=rate,
            adaptive=adaptive,
            ordered=ordered,
            on_outcome=on_outcome,
            on_retry=on_retry,
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
        """Fan out any `(function, params)` pairs through `call()`, as `map` does."""

        def one(pair: tuple[str, Params]) -> Coroutine[Any, Any, Any]:
            given: object = pair  # checked at run time: the input is the caller's data
            if not isinstance(given, tuple) or len(given) != 2:
                raise InvalidArgumentError("call_many takes (function, params) pairs")
            return self.call(pair[0], pair[1], retry=retry)

        if retry is not None:
            check_policy(retry)
        return self._batch(
            one,
            calls,
            "calls",
            concurrency=concurrency,
            rate=rate,
            adaptive=adaptive,
            ordered=ordered,
            on_outcome=on_outcome,
            on_retry=on_retry,
        )
