"""The public surface: what `import mailkit_async` offers, and nothing private leaking."""

from __future__ import annotations

import mailkit_async as mk
import mailkit_async.testing as mkt

CONTRACT = {  # names issue #2 promises users
    "MailkitClient",
    "WipeStatus",
    "RevalidateStatus",
    "WipeResult",
    "RevalidateResult",
    "MailkitError",
}


def test_all_is_sorted_and_complete() -> None:
    """__all__ lists exactly the public names, once each."""
    public = {name for name in vars(mk) if not name.startswith("_")} - {"testing"}
    assert set(mk.__all__) - {"__version__"} == public
    assert len(mk.__all__) == len(set(mk.__all__))  # ruff RUF022 keeps the order
    assert set(mk.__all__) >= CONTRACT


def test_public_classes_say_mailkit_async() -> None:
    """Tracebacks and reprs name `mailkit_async.X`, not the private module."""
    for name in mk.__all__:
        obj = getattr(mk, name)
        if isinstance(obj, type):
            assert obj.__module__ == "mailkit_async", name


def test_every_error_is_a_mailkit_error() -> None:
    """One hierarchy: every exported exception derives from MailkitError."""
    errors = [getattr(mk, n) for n in mk.__all__ if n.endswith("Error")]
    assert len(errors) >= 15
    for error in errors:
        assert issubclass(error, mk.MailkitError), error
    assert issubclass(mk.InvalidArgumentError, ValueError)
    assert issubclass(mk.RequestTimeoutError, TimeoutError)


def test_testing_exports() -> None:
    """The emulator is public and shipped in the package."""
    assert set(mkt.__all__) == {
        "Campaign",
        "EmulatorTransport",
        "FaultEvent",
        "Faults",
        "MailingList",
        "MailkitEmulator",
        "Recipient",
        "SentMessage",
        "serve",
    }


def test_codecs_satisfy_the_protocol() -> None:
    """Both built-in codecs are Codec objects."""
    assert isinstance(mk.JsonCodec(), mk.Codec)
    assert isinstance(mk.XmlRpcCodec(), mk.Codec)
