"""Choosing and building the HTTP engine a client sends through."""

from __future__ import annotations

import ssl
import urllib.request

import httpx

from ._errors import ConfigurationError, InvalidArgumentError
from ._h1_sender import H1Sender
from ._http import Sender
from ._httpx_sender import HttpxSender, checked_transport
from ._validate import check_choice

__all__ = ["make_sender"]


def make_sender(
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
    """The engine `engine` names ("auto": the built-in one, unless only httpx can do it)."""
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
