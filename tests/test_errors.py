"""Errors name the call they failed in (added where the call is known, not by the HTTP
layer), read the same as before in str(), and pickle and unpickle whole."""

from __future__ import annotations

import pickle

import pytest

import mailkit_async as mk
from mailkit_async.testing import EmulatorTransport, MailkitEmulator

from ._loopback import closed_port
from .conftest import CLIENT_ID, CLIENT_MD5

EXAMPLES: list[mk.MailkitError] = [
    mk.ConnectError("refused"),
    mk.RequestTimeoutError("read timed out", request_sent=True),
    mk.ConnectionDroppedError("dropped"),
    mk.OutcomeUnknownError("may have acted"),
    mk.HTTPStatusError("HTTP 502 Bad Gateway", status_code=502),
    mk.RateLimitedError("HTTP 429", status_code=429, retry_after=3.0),
    mk.MalformedResponseError("not JSON"),
    mk.ForbiddenXMLError("a DTD"),
    mk.ResponseTooLargeError("too large"),
    mk.XmlRpcFaultError("Server", "boom"),
    mk.AuthenticationError("Unauthorized"),
    mk.ApiError("Mailing list exist", error_status=1),
    mk.InvalidArgumentError("bad"),
    mk.UnknownFunctionOrderError("mailkit.campaigns.messages"),
]


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_error_pickles_whole(error: mk.MailkitError) -> None:
    """Unpickled: the same class, message, function and attributes (for process pools)."""
    error.function = error.function or "mailkit.email.wipe"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)
    assert copy.request_sent == error.request_sent if isinstance(error, mk.TransportError) else True


def test_str_names_the_function_once_it_is_known() -> None:
    error = mk.ConnectionDroppedError("dropped")
    assert str(error) == "dropped"
    error.function = "mailkit.email.wipe"
    assert str(error) == "mailkit.email.wipe: dropped"
    fault = mk.UnknownFunctionOrderError("mailkit.campaigns.messages")
    assert str(fault).startswith("mailkit.campaigns.messages: its XML-RPC parameter order")


@pytest.mark.parametrize("engine", ["builtin", "httpx"])
async def test_transport_errors_name_the_call_they_failed_in(engine: str) -> None:
    """The engines raise without knowing the call; the dispatcher names it."""
    async with mk.MailkitClient(
        CLIENT_ID,
        CLIENT_MD5,
        base_url=f"http://127.0.0.1:{closed_port()}",
        engine=engine,  # type: ignore[arg-type]
        retry=mk.RetryPolicy(max_attempts=1),
    ) as client:
        with pytest.raises(mk.ConnectError) as caught:
            await client.call("mailkit.mailinglist.list")
    assert caught.value.function == "mailkit.mailinglist.list"
    assert str(caught.value).startswith("mailkit.mailinglist.list: ")


async def test_answers_are_decided_in_one_reading_global_errors_first() -> None:
    """Unauthorized raises AuthenticationError from a typed method and from call() alike."""
    emulator = MailkitEmulator(CLIENT_ID, CLIENT_MD5)
    async with mk.MailkitClient(
        CLIENT_ID, "f" * 32, transport=EmulatorTransport(emulator)
    ) as client:
        for attempt in (client.wipe("jane@example.com"), client.call("mailkit.mailinglist.list")):
            with pytest.raises(mk.AuthenticationError) as caught:
                await attempt
            assert caught.value.message == "Unauthorized"
