"""API credentials, kept out of every repr, str, pickle and attrs/cattrs export."""

from __future__ import annotations

import os
from typing import Final, NoReturn

from ._errors import InvalidArgumentError, MissingCredentialsError

__all__ = ["Credentials"]

ENV_CLIENT_ID: Final = "MAILKIT_CLIENT_ID"
ENV_CLIENT_MD5: Final = "MAILKIT_CLIENT_MD5"


class Credentials:
    """A client ID and MD5 code. The MD5 is reachable only through `md5`, never printed.

    Deliberately not an attrs class: `attrs.asdict` and cattrs' unstructure would copy the
    secret out even with `repr=False`.
    """

    __slots__ = ("_client_id", "_md5")

    def __init__(self, client_id: str, client_md5: str) -> None:
        self._client_id = _check("client_id", client_id)
        self._md5 = _check("client_md5", client_md5)

    @classmethod
    def resolve(cls, client_id: str | int | None, client_md5: str | None) -> Credentials:
        """Use the given values, falling back to MAILKIT_CLIENT_ID / MAILKIT_CLIENT_MD5."""
        cid = str(client_id) if isinstance(client_id, int) else client_id
        if cid is None:
            cid = os.environ.get(ENV_CLIENT_ID) or None
        md5 = client_md5 if client_md5 is not None else (os.environ.get(ENV_CLIENT_MD5) or None)
        if cid is None or md5 is None:
            missing = []
            if cid is None:
                missing.append(f"client_id (or set ${ENV_CLIENT_ID})")
            if md5 is None:
                missing.append(f"client_md5 (or set ${ENV_CLIENT_MD5})")
            raise MissingCredentialsError(
                "Mailkit credentials are missing: pass " + " and ".join(missing) + "; both are "
                "shown in the Mailkit account under Profile / Integration"
            )
        return cls(cid, md5)

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def md5(self) -> str:
        return self._md5

    def __repr__(self) -> str:
        return f"Credentials(client_id={self._client_id!r}, client_md5='[secure]')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self._client_id, self._md5) == (other._client_id, other._md5)

    def __hash__(self) -> int:
        return hash((self._client_id, self._md5))

    def __reduce__(self) -> NoReturn:
        raise TypeError("Credentials cannot be pickled: they hold a secret")


def _check(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be a str, not {type(value).__name__}")
    stripped = value.strip()
    # Never echo the value: for client_md5 it is the secret itself.
    if not stripped:
        raise InvalidArgumentError(f"{name} is empty")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in stripped):
        raise InvalidArgumentError(f"{name} contains control characters")
    return stripped
