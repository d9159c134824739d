"""The md5 never shows: not in a repr, str, exception, log record, attrs export or pickle."""

from __future__ import annotations

import logging
import pickle

import httpx
import pytest

import mailkit_async as mk
from mailkit_async._credentials import Credentials

SECRET = "5ec12e7f00d5ec12e7f00d5ec12e7f00"


def test_repr_and_str_hide_the_md5() -> None:
    """Credentials print the client ID and [secure]."""
    creds = Credentials("12345", SECRET)
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}"):
        assert SECRET not in text
        assert "[secure]" in text
    assert creds.md5 == SECRET


def test_credentials_refuse_to_pickle() -> None:
    """Pickling would write the secret to disk or a queue."""
    with pytest.raises(TypeError, match="secret"):
        pickle.dumps(Credentials("12345", SECRET))


def test_client_repr_hides_the_md5() -> None:
    """The client's repr shows protocol, URL and client ID only."""
    client = mk.MailkitClient("12345", SECRET)
    assert SECRET not in repr(client)
    assert "12345" in repr(client)


def test_environment_supplies_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAILKIT_CLIENT_ID / MAILKIT_CLIENT_MD5 are used when no argument is given."""
    monkeypatch.setenv("MAILKIT_CLIENT_ID", "777")
    monkeypatch.setenv("MAILKIT_CLIENT_MD5", SECRET)
    client = mk.MailkitClient()
    assert "client_id='777'" in repr(client)


@pytest.mark.parametrize(
    ("client_id", "md5", "missing"),
    [(None, None, "client_id.*client_md5"), ("1", None, "client_md5"), (None, "x", "client_id")],
)
def test_missing_credentials_fail_at_construction(
    monkeypatch: pytest.MonkeyPatch, client_id: str | None, md5: str | None, missing: str
) -> None:
    """With nothing given or set, construction fails and says how to give them."""
    monkeypatch.delenv("MAILKIT_CLIENT_ID", raising=False)
    monkeypatch.delenv("MAILKIT_CLIENT_MD5", raising=False)
    with pytest.raises(mk.MissingCredentialsError, match=missing) as info:
        mk.MailkitClient(client_id, md5)
    assert "MAILKIT_CLIENT_" in str(info.value)
    assert isinstance(info.value, mk.ConfigurationError)


@pytest.mark.parametrize("md5", ["", "   ", f"{SECRET}\r\nX-Injected: 1", 12345])
def test_bad_md5_is_refused_without_echoing_it(md5: object) -> None:
    """A malformed md5 is refused, and the message does not repeat it."""
    with pytest.raises(mk.InvalidArgumentError) as info:
        mk.MailkitClient("1", md5)  # type: ignore[arg-type]
    assert SECRET not in str(info.value)


async def test_no_exception_or_log_record_carries_the_md5(caplog: pytest.LogCaptureFixture) -> None:
    """Every failure path, with DEBUG logging of httpx and httpcore on, keeps the md5 out."""
    caplog.set_level(logging.DEBUG)
    answers = iter(
        [
            httpx.Response(200, json={"error_status": 1, "error": "Unauthorized"}),
            httpx.Response(500, text="oops"),
            httpx.Response(429, headers={"Retry-After": "5"}),
            httpx.Response(200, content=b"not json"),
            httpx.Response(200, json={"error_status": 0, "error": 7}),
            httpx.Response(200, json={"error_status": 1, "error": "Missing ID_email"}),
        ]
    )

    def answer(request: httpx.Request) -> httpx.Response:
        assert SECRET.encode() in request.content  # it is sent, as the API requires
        return next(answers)

    errors: list[BaseException] = []
    async with mk.MailkitClient(
        "1", SECRET, transport=httpx.MockTransport(answer), retry=mk.RetryPolicy(max_attempts=1)
    ) as client:
        for _ in range(5):
            with pytest.raises(mk.MailkitError) as info:
                await client.wipe("jane@example.com")
            errors.append(info.value)
        with pytest.raises(mk.ApiError) as api:
            await client.call("mailkit.email.wipe", {"email": "jane@example.com"})
        errors.append(api.value)
    for error in errors:
        chain: BaseException | None = error
        while chain is not None:
            assert SECRET not in repr(chain)
            assert SECRET not in str(chain)
            assert SECRET not in repr(vars(chain))
            chain = chain.__cause__ or chain.__context__
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.args)


@pytest.mark.parametrize(
    "md5",
    [f"{SECRET}\x00", f"\ud800{SECRET}", f"{SECRET}\ufffe", f"{SECRET}\x7f", b"5ec12e7f"],
    ids=["NUL", "lone surrogate", "U+FFFE", "DEL", "bytes"],
)
def test_unsendable_md5_is_refused_without_echoing_it(md5: object) -> None:
    """Characters no wire format carries (or the wrong type) are refused up front, silently."""
    with pytest.raises(mk.InvalidArgumentError, match="client_md5") as info:
        mk.MailkitClient("1", md5)  # type: ignore[arg-type]
    assert SECRET not in str(info.value)
    assert SECRET[:8] not in repr(info.value.args)


@pytest.mark.parametrize(
    "client_id",
    [0, -5, 2**63, 10**5000, True, 1.5],
    ids=["0", "negative", "2**63", "5001 digits", "bool", "float"],
)
def test_client_id_must_be_a_positive_64_bit_int_or_a_str(client_id: object) -> None:
    """An int client ID is written as text: it must be one Mailkit could have issued."""
    with pytest.raises(mk.InvalidArgumentError, match="client_id"):
        mk.MailkitClient(client_id, SECRET)  # type: ignore[arg-type]


def test_the_md5_is_a_str_whose_repr_is_redacted() -> None:
    """`Credentials.md5` is the value for the wire, but prints as [secure], sliced too."""
    md5 = Credentials("12345", f"  {SECRET} ").md5
    assert md5 == SECRET  # stripped, still equal to the plain str
    assert isinstance(md5, str)
    for shown in (repr(md5), repr([md5]), repr({"md5": md5}), repr(md5[:20]), repr(md5[5])):
        assert SECRET[:5] not in shown
    assert str(md5) == SECRET
    with pytest.raises(TypeError, match="secret"):
        pickle.dumps(md5)


def test_an_empty_environment_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAILKIT_CLIENT_MD5= (empty) is missing, not an empty md5; an empty argument is refused."""
    monkeypatch.setenv("MAILKIT_CLIENT_MD5", "")
    with pytest.raises(mk.MissingCredentialsError, match="client_md5"):
        mk.MailkitClient("1")
    with pytest.raises(mk.InvalidArgumentError, match="empty"):
        mk.MailkitClient("1", "")
