"""Argument checks that run before any request is sent."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from ._errors import InvalidArgumentError

__all__ = [
    "LANGUAGES",
    "check_call",
    "check_id",
    "check_language",
    "check_recipient",
    "check_text",
    "is_address",
]

#: Languages of the opt-in confirmation email (DOC revalidate).
LANGUAGES: Final = frozenset({"cs", "en", "de", "ru", "pl", "sk", "hu"})

# Deliberately plain: one @, no whitespace or controls, a dotted domain. RFC 5322's quoted
# local parts are not worth a parser here; Mailkit stores ordinary addresses.
_ADDRESS: Final = re.compile(
    r"[^\s@\"(),:;<>\[\\\]\x00-\x1f\x7f]{1,64}@"
    r"(?=.{1,253}$)(?:[^\s@\"(),:;<>\[\\\]\x00-\x1f\x7f.]+\.)+[^\s@\"(),:;<>\[\\\]\x00-\x1f\x7f.]{2,}"
)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_FUNCTION: Final = re.compile(r"mailkit(?:\.[a-z0-9_]+)+")
_MAX_ID: Final = 2**63 - 1


def is_address(text: str) -> bool:
    """True when `text` has the shape of an email address."""
    return len(text) <= 254 and _ADDRESS.fullmatch(text) is not None


def check_recipient(recipient: object, *, name: str = "recipient") -> tuple[str, str]:
    """An int is an ID_email, a str an address: returns the JSON parameter and its value."""
    if isinstance(recipient, bool):
        raise InvalidArgumentError(
            f"{name} must be an address (str) or an ID_email (int), not bool"
        )
    if isinstance(recipient, int):
        # Sent as a decimal string, as the pages' examples do ("ID_email": "12345678").
        return "ID_email", str(check_id(recipient, name=name))
    if not isinstance(recipient, str):
        raise InvalidArgumentError(
            f"{name} must be an address (str) or an ID_email (int), not {type(recipient).__name__}"
        )
    address = recipient.strip()
    if not address:
        raise InvalidArgumentError(f"{name} is empty")
    if _CONTROL.search(address):
        raise InvalidArgumentError(f"{name} contains control characters (CR, LF, NUL, ...)")
    if not is_address(address):
        hint = "; pass an int for an ID_email" if address.isdigit() else ""
        raise InvalidArgumentError(f"{name} is not an email address{hint}")
    return "email", address


def check_id(value: object, *, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 < value <= _MAX_ID:
        raise InvalidArgumentError(f"{name} must be a positive 64-bit integer")
    return value


def check_text(value: object, *, name: str, max_length: int = 1000) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be a str, not {type(value).__name__}")
    if _CONTROL.search(value):
        raise InvalidArgumentError(f"{name} contains control characters (CR, LF, NUL, ...)")
    if len(value) > max_length:
        raise InvalidArgumentError(f"{name} is longer than {max_length} characters")
    return value


def check_language(value: object) -> str:
    text = check_text(value, name="language", max_length=8).strip().lower()
    if text not in LANGUAGES:
        hint = " (Czech is 'cs')" if text == "cz" else ""
        raise InvalidArgumentError(
            f"unknown language {value!r}; expected one of {', '.join(sorted(LANGUAGES))}{hint}"
        )
    return text


def check_call(function: object, params: object) -> None:
    """Checks for the generic `call()`: a well-formed function name and a params container."""
    if not isinstance(function, str) or not _FUNCTION.fullmatch(function):
        raise InvalidArgumentError(
            f"function must be a Mailkit function name such as 'mailkit.mailinglist.list', "
            f"not {function!r}"
        )
    if isinstance(params, Mapping):
        bad = [key for key in params if not isinstance(key, str)]
        if bad:
            raise InvalidArgumentError(f"{function}: parameter names must be str")
    elif not isinstance(params, Sequence) or isinstance(params, str | bytes | bytearray):
        raise InvalidArgumentError(
            f"{function}: params must be a mapping (named) or a list (XML-RPC positional), "
            f"not {type(params).__name__}"
        )
