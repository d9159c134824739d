"""API credentials, and the values that carry the md5, kept out of every repr and pickle.

Error trackers (Sentry, rich tracebacks, `traceback.TracebackException(capture_locals=True)`)
record the repr of every local of every frame an exception passed through. So the md5 is held
only in values whose repr hides it: `Credentials`, `SecretText` (the md5 itself, a str) and
`SecretBytes` (an encoded request body). Slicing or adding to them keeps the redaction; only an
explicit conversion (`b"".join`, `.decode()`, `memoryview(...).tobytes()`) makes a plain copy.
"""

from __future__ import annotations

import os
from typing import Any, Final, NoReturn, SupportsIndex, overload

from ._errors import ConfigurationError, InvalidArgumentError, MissingCredentialsError

__all__ = ["Credentials", "SecretBytes", "SecretText", "conceal"]

ENV_CLIENT_ID: Final = "MAILKIT_CLIENT_ID"
ENV_CLIENT_MD5: Final = "MAILKIT_CLIENT_MD5"
_MAX_CLIENT_ID: Final = 2**63 - 1


def _refuse_pickle(what: str) -> NoReturn:
    raise TypeError(f"{what} cannot be pickled: it holds a secret")


class SecretText(str):
    """A str (the md5) whose repr is `'[secure]'`; slices stay secret. `str()` is the value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'[secure]'"

    def __getitem__(self, key: SupportsIndex | slice) -> str:
        # rich's locals view shows `value[:max_string]` of long strings.
        return SecretText(str.__getitem__(self, key))

    def __reduce__(self) -> NoReturn:
        _refuse_pickle("the md5")

    def __copy__(self) -> SecretText:
        return self

    def __deepcopy__(self, memo: object) -> SecretText:
        return self


class SecretBytes(bytes):
    """Bytes holding the md5 (an encoded request body) that never print it.

    repr, str and format show only the length. Slices, `+` on either side, `*` and `bytes()`
    give SecretBytes again; `b"".join`, `.decode()` and memoryview copies are plain.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<SecretBytes: {len(self)} bytes, redacted>"

    # bytes' own str() is its repr, computed in C without looking up __repr__.
    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bytes__(self) -> bytes:
        return self

    @overload
    def __getitem__(self, key: SupportsIndex) -> int: ...
    @overload
    def __getitem__(self, key: slice) -> bytes: ...
    def __getitem__(self, key: SupportsIndex | slice) -> int | bytes:
        piece = bytes.__getitem__(self, key)
        return SecretBytes(piece) if isinstance(piece, bytes) else piece

    def __add__(self, other: Any) -> bytes:
        return SecretBytes(b"".join((self, other)))

    def __radd__(self, other: Any) -> bytes:
        return SecretBytes(b"".join((other, self)))

    def __mul__(self, count: SupportsIndex) -> bytes:
        return SecretBytes(bytes.__mul__(self, count))

    __rmul__ = __mul__

    def __reduce__(self) -> NoReturn:
        _refuse_pickle("a request body")

    def __copy__(self) -> SecretBytes:
        return self

    def __deepcopy__(self, memo: object) -> SecretBytes:
        return self


def conceal(body: object, codec: object) -> SecretBytes:
    """A codec's encoded call as SecretBytes (the built-in codecs already return one)."""
    if type(body) is SecretBytes:
        return body
    if isinstance(body, bytes | bytearray | memoryview):
        return SecretBytes(body)
    kind = type(body).__name__
    del body  # this frame is in the traceback; the value may hold the md5
    name = getattr(codec, "name", type(codec).__name__)
    raise ConfigurationError(f"codec {name!r} encoded a call as {kind}, not bytes")


class Credentials:
    """A client ID and MD5 code. The MD5 is reachable only through `md5`, never printed.

    Deliberately not an attrs class: `attrs.asdict` and cattrs' unstructure would copy the
    secret out even with `repr=False`.
    """

    __slots__ = ("_client_id", "_md5")

    def __init__(self, client_id: str, client_md5: str) -> None:
        # The md5 is wrapped first, and this frame forgets the caller's plain value before
        # anything can raise: a traceback records this frame's locals.
        md5 = _wrap(client_md5)
        del client_md5
        self._client_id = _check_client_id(client_id)
        self._md5 = _check_md5(md5)

    @classmethod
    def resolve(cls, client_id: str | int | None, client_md5: str | None) -> Credentials:
        """Use the given values, falling back to MAILKIT_CLIENT_ID / MAILKIT_CLIENT_MD5."""
        if client_md5 is None:
            # An empty variable counts as unset; an empty argument is refused as empty.
            md5 = _wrap(os.environ.get(ENV_CLIENT_MD5) or None)
        else:
            md5 = _wrap(client_md5)
        del client_md5
        cid: object = client_id
        if isinstance(client_id, int) and not isinstance(client_id, bool):
            if not 0 < client_id <= _MAX_CLIENT_ID:
                raise InvalidArgumentError("client_id must be a positive 64-bit integer or a str")
            cid = str(client_id)
        if cid is None:
            cid = os.environ.get(ENV_CLIENT_ID) or None
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
        return cls(cid, md5)  # type: ignore[arg-type]  # checked in __init__

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def md5(self) -> str:
        """The md5, as a `SecretText`: a str whose repr is `'[secure]'`."""
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
        _refuse_pickle("Credentials")


class _NotText:
    """Stands in for an md5 of the wrong type, so no frame holds (or shows) the value."""

    __slots__ = ("type_name",)

    def __init__(self, value: object) -> None:
        self.type_name = type(value).__name__

    def __repr__(self) -> str:
        return f"<client_md5 of type {self.type_name}, redacted>"


def _wrap(value: object) -> SecretText | _NotText | None:
    """The md5 as given, in a form whose repr hides it; never raises."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if type(value) is SecretText else SecretText(value)
    return _NotText(value)


def _check_client_id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise InvalidArgumentError(f"client_id must be a str, not {type(value).__name__}")
    problem = _text_problem(value)
    if problem:
        raise InvalidArgumentError(f"client_id {problem}")
    return value.strip()


def _check_md5(value: SecretText | _NotText | None) -> SecretText:
    # Never echo the value: it is the secret itself.
    if not isinstance(value, SecretText):
        name = "NoneType" if value is None else value.type_name
        raise InvalidArgumentError(f"client_md5 must be a str, not {name}")
    problem = _text_problem(value)
    if problem:
        raise InvalidArgumentError(f"client_md5 {problem}")
    return value if value == value.strip() else SecretText(value.strip())


def _text_problem(value: str) -> str | None:
    """What makes `value` unusable as a credential, or None. Returns; never raises."""
    stripped = SecretText(value.strip()) if isinstance(value, SecretText) else value.strip()
    if not stripped:
        return "is empty"
    # Both go into a JSON document or XML text: control characters would break the framing
    # (or inject headers elsewhere), a lone surrogate cannot be encoded at all.
    for char in stripped:
        point = ord(char)
        if point < 0x20 or point == 0x7F:
            return "contains control characters"
        if 0xD800 <= point <= 0xDFFF or point in (0xFFFE, 0xFFFF):
            return "contains characters UTF-8 or XML cannot carry"
    return None
