"""Request values read the way the emulator's handlers need them, whatever a client sends.

Every reader takes any decoded value (JSON or XML-RPC: None, bool, int, str, list, dict) and
answers None (or raises `ValueError` with the wire name) instead of failing on odd input.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Mapping

__all__ = [
    "ADDRESS_FIELDS",
    "CUSTOM_FIELDS",
    "PERSONAL_FIELDS",
    "PROFILE_KEYS",
    "absent",
    "count",
    "decode_base64",
    "decode_base64_bytes",
    "flag",
    "integer",
    "is_address",
    "is_phone",
    "parse_datetime",
    "profile_of",
    "struct",
]

_ADDRESS = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f.]+")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")

# The request members (adduser, edituser, sendmail) that feed getstatus fields.
PERSONAL_FIELDS: Mapping[str, str] = {
    "vocative": "VOCATIVE",
    "prefix": "PREFIX",
    "first_name": "FIRST_NAME",
    "last_name": "LAST_NAME",
    "reply_to": "REPLY_TO",
    "company": "COMPANY",
}
ADDRESS_FIELDS: Mapping[str, str] = {
    "nick_name": "NICK_NAME",
    "country": "COUNTRY",
    "street": "STREET",
    "state": "STATE",
    "zip": "ZIP",
    "city": "CITY",
    "mobile": "MOBILE",
    "phone": "PHONE",
    "fax": "FAX",
    "gender": "GENDER",
}
CUSTOM_FIELDS: Mapping[str, str] = {f"custom{n}": f"CUSTOM_{n}" for n in range(1, 26)}

# getstatus record keys a test may fill in; the others are derived from the Recipient.
PROFILE_KEYS = (
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


def is_address(value: object) -> bool:
    return isinstance(value, str) and _ADDRESS.fullmatch(value) is not None


def is_phone(value: object) -> bool:
    """An SMS recipient: "+", a country code and the number, no spaces (the unsubscribe page)."""
    return isinstance(value, str) and _PHONE.fullmatch(value) is not None


def absent(value: object) -> bool:
    """Not given: missing, null, or the empty value a PHP client sends for nothing."""
    return value is None or value == "" or value == {} or value == []


def flag(value: object) -> bool | None:
    """A Mailkit boolean: "TRUE"/"FALSE" in any case, or a real boolean; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"TRUE": True, "FALSE": False}.get(value.upper())
    return None


def integer(value: object) -> int | None:
    """A non-negative integer, given as a number or as digits; None otherwise."""
    # The length cap keeps int() clear of its 4300-digit limit.
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def struct(value: object, name: str) -> dict[str, object]:
    """A struct parameter: {} when absent; ValueError(name) when it is not a struct."""
    if absent(value):
        return {}
    if not isinstance(value, dict):
        raise ValueError(name)
    return value


def decode_base64(value: object, name: str) -> str:
    """The text of a base64 value (an absent one is ""); ValueError(name) when it is not."""
    try:
        return decode_base64_bytes(value, name).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(name) from None


def decode_base64_bytes(value: object, name: str) -> bytes:
    """The bytes of a base64 value (an attachment: any bytes); ValueError(name) when it is
    not base64."""
    if absent(value):
        return b""
    if not isinstance(value, str):
        raise ValueError(name)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(name) from None


def profile_of(
    sections: Mapping[str, tuple[object, Mapping[str, str]]],
) -> dict[str, str]:
    """getstatus fields from request structs of base64 values: {section: (struct, fields)}.

    Members not in `fields` are left out; ValueError("section.member") names a bad value.
    """
    profile: dict[str, str] = {}
    for section, (value, fields) in sections.items():
        members = struct(value, section)
        for member, key in fields.items():
            if member in members:
                profile[key] = decode_base64(members[member], f"{section}.{member}")
    return profile


def parse_datetime(value: object, formats: tuple[str, ...]) -> datetime.datetime | None:
    """A UTC time in one of `formats`; None when absent; ValueError when it is none of them."""
    if absent(value):
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    for pattern in formats:
        try:
            return datetime.datetime.strptime(value, pattern).replace(tzinfo=datetime.UTC)
        except ValueError:
            continue
    raise ValueError(value)


def count(counter: dict[int, int], id_email: int) -> None:
    counter[id_email] = counter.get(id_email, 0) + 1
