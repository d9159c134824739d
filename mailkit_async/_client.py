"""`MailkitClient`: the public async client."""

from __future__ import annotations

import enum
from types import TracebackType
from typing import Any, Final, Literal

import httpx

from ._classify import (
    ExtraMessages,
    build_tables,
    classify_revalidate,
    classify_wipe,
    raise_for_api_error,
)
from ._codec import Codec, Params
from ._credentials import Credentials
from ._dispatch import Dispatcher
from ._errors import ConfigurationError, InvalidArgumentError
from ._functions import spec_for
from ._http import HttpxSender
from ._json_codec import JsonCodec
from ._results import RevalidateResult, WipeResult
from ._validate import check_call, check_id, check_language, check_recipient, check_text
from ._xmlrpc_codec import XmlRpcCodec

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "MailkitClient"]

DEFAULT_BASE_URL: Final = "https://api.mailkit.eu"
#: Mailkit documents no timeouts; a read can be slow on large list calls, a connect should not.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_CONCURRENCY: Final = 50
#: Far above any single-recipient answer; list calls of 10,000 rows stay well under it.
DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024

_WIPE: Final = "mailkit.email.wipe"
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
    "xmlrpc" or a `Codec` object. Pass `http_client` to use your own `httpx.AsyncClient`
    (proxies, TLS, event hooks; it is not closed for you), or `transport` to mount an httpx
    transport (such as `mailkit_async.testing.EmulatorTransport`) in the client built here.
    """

    def __init__(
        self,
        client_id: str | int | None = None,
        client_md5: str | None = None,
        *,
        protocol: Literal["json", "xmlrpc"] | Codec = "json",
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | httpx.Timeout | _Unset = _UNSET,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        extra_messages: ExtraMessages | None = None,
    ) -> None:
        self._credentials = Credentials.resolve(client_id, client_md5)
        self._codec = _make_codec(protocol)
        positive: tuple[tuple[str, object], ...] = (
            ("max_concurrency", max_concurrency),
            ("max_response_bytes", max_response_bytes),
        )
        for name, value in positive:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgumentError(f"{name} must be a positive int, got {value!r}")
        url: object = base_url  # checked at run time: callers may pass anything
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise InvalidArgumentError(f"base_url must be an http(s) URL, got {base_url!r}")
        self._wipe_table, self._revalidate_table = build_tables(extra_messages)

        if http_client is not None:
            if transport is not None or timeout is not _UNSET:
                raise ConfigurationError(
                    "timeout and transport configure the httpx client built here; with "
                    "http_client=, set them on that client instead"
                )
            owns_client = False
        else:
            limits = httpx.Limits(
                max_connections=max_concurrency,
                # httpcore 1.0 closes idle connections beyond this even under steady load
                # (encode/httpcore#1035); over HTTPS each is a new TLS handshake.
                max_keepalive_connections=max_concurrency,
            )
            http_client = httpx.AsyncClient(
                timeout=DEFAULT_TIMEOUT if timeout is _UNSET else timeout,
                limits=limits,
                transport=transport,
                follow_redirects=False,
            )
            owns_client = True
        self._base_url = base_url
        self._sender = HttpxSender(
            http_client, owns_client=owns_client, max_body=max_response_bytes
        )
        self._dispatcher = Dispatcher(
            codec=self._codec,
            credentials=self._credentials,
            sender=self._sender,
            base_url=base_url,
            max_concurrency=max_concurrency,
        )
        self._state = _State.OPEN

    def __repr__(self) -> str:
        return (
            f"<MailkitClient protocol={self._codec.name!r} url={self._dispatcher.url!r} "
            f"client_id={self._credentials.client_id!r} state={self._state.value}>"
        )

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

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it. Safe to call twice."""
        if self._state is _State.OPEN:
            self._state = _State.CLOSED
            await self._sender.aclose()

    def _check_open(self) -> None:
        if self._state is _State.CLOSED:
            raise ConfigurationError("this MailkitClient is closed; create a new one")

    async def call(self, function: str, params: Params | None = None) -> Any:
        """Call any API function and return its decoded answer.

        `params` are named (a mapping), or for XML-RPC functions without a known order, a list
        in the documented positional order after client_id and client_md5. A documented
        error string or a non-zero `error_status` raises `ApiError`.
        """
        self._check_open()
        params = {} if params is None else params
        check_call(function, params)
        spec = spec_for(function)

        def interpret(value: object) -> object:
            raise_for_api_error(value, spec, function)
            return value

        return await self._dispatcher.dispatch(function, params, interpret)

    async def wipe(self, recipient: str | int) -> WipeResult:
        """Queue a recipient for the daily GDPR wipe. An int is an ID_email, a str an address."""
        self._check_open()
        key, value = check_recipient(recipient)
        table = self._wipe_table
        return await self._dispatcher.dispatch(
            _WIPE, {key: value}, lambda reply: classify_wipe(reply, table, function=_WIPE)
        )

    async def revalidate(
        self,
        recipient: str | int,
        *,
        agreement: bool,
        channel: str | None = None,
        language: str | None = None,
        id_message: int | None = None,
        id_template: int | None = None,
    ) -> RevalidateResult:
        """Re-subscribe an unsubscribed recipient.

        `agreement=True`: the recipient consented (say how in `channel`); no email is sent.
        `agreement=False`: Mailkit emails an opt-in link, in `language` (cs, en, de, ru, pl,
        sk, hu). `id_template` exists only in the JSON API.
        """
        self._check_open()
        key, value = check_recipient(recipient)
        if not isinstance(agreement, bool):
            raise InvalidArgumentError(f"agreement must be a bool, not {type(agreement).__name__}")
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
        return await self._dispatcher.dispatch(
            _REVALIDATE,
            params,
            lambda reply: classify_revalidate(
                reply, table, function=_REVALIDATE, agreement=agreement, requested_email=requested
            ),
        )


def _make_codec(protocol: object) -> Codec:
    if isinstance(protocol, str):
        codec_type = _CODECS.get(protocol)
        if codec_type is None:
            raise InvalidArgumentError(
                f"protocol must be 'json', 'xmlrpc' or a Codec, not {protocol!r}"
            )
        return codec_type()
    if isinstance(protocol, Codec):
        return protocol
    raise InvalidArgumentError(
        f"protocol must be 'json', 'xmlrpc' or a Codec object, not {type(protocol).__name__}"
    )
