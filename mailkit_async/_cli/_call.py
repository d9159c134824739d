"""`mailkit-async call FUNCTION --param key=value ...`: one API call, its answer as JSON."""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import math
from collections.abc import Sequence
from typing import Any, Final, NoReturn, TextIO

from .._errors import ConfigurationError, InvalidArgumentError, MailkitError
from ._connect import make_client
from ._exit import CliError, ExitCode

__all__ = ["MAX_DEPTH", "call_command", "parse_params"]

MAX_DEPTH: Final = 32  # lists and objects within one another in a --param value
_MAX_INT: Final = 2**63 - 1  # the API's integers are 64-bit at most
_SURROGATES: Final = range(0xD800, 0xE000)


class _BadValueError(Exception):
    """A JSON value that parses but is nothing an API parameter can be."""


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` gives a string; `key:=value` a JSON value (number, boolean, list ...).

    Raises CliError for anything that cannot be sent: a malformed pair, a repeated key,
    JSON that does not parse, nests deeper than MAX_DEPTH, holds a number beyond 64 bits or
    one that is not finite, a repeated object key, or text with a NUL or a lone surrogate.
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key or key == ":":
            raise CliError(f"--param {_cut(pair)}: expected KEY=VALUE or KEY:=JSON")
        as_json = key.endswith(":")
        if as_json:
            key = key[:-1]
        _check_text(key, f"--param {_cut(key)}: the key")
        if key in params:
            raise CliError(f"--param {_cut(key)} is given twice")
        if as_json:
            params[key] = _json(key, value)
        else:
            _check_text(value, f"--param {_cut(key)}=...")
            params[key] = value
    return params


def _json(key: str, text: str) -> Any:
    where = f"--param {_cut(key)}:=..."
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise CliError(f"{where}: nested deeper than {MAX_DEPTH} lists or objects")
    try:
        value = json.loads(
            text,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except _BadValueError as exc:
        raise CliError(f"{where}: {exc}") from None
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise CliError(f"{where}: not a JSON value") from None
    _check_strings(value, where)
    return value


def _depth(text: str) -> int:
    """How deep lists and objects nest in JSON `text` (counted before parsing it)."""
    deepest = depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _integer(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > 19 or abs(value := int(text)) > _MAX_INT:
        raise _BadValueError(f"{_cut(text)} is beyond the 64-bit integers the API takes")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadValueError(f"{_cut(text)} is too large to be a number")
    return value


def _constant(text: str) -> NoReturn:
    raise _BadValueError(f"{text} is not a number the API takes")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _BadValueError("an object names a key twice")
    return value


def _check_strings(value: Any, where: str) -> None:
    if isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_strings(item, where)


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise CliError(f"{where}: contains a NUL character")
    if any(ord(char) in _SURROGATES for char in text):
        raise CliError(f"{where}: not valid Unicode text (a lone surrogate)")


def _cut(text: str) -> str:
    """Text of the user's, shown in a one-line message: short, controls escaped."""
    text = text if len(text) <= 40 else text[:39] + "…"
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _jsonable(value: object) -> object:
    # What XML-RPC decodes beyond JSON's types.
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


async def call_command(args: argparse.Namespace, out: TextIO) -> int:
    """Send the call and print its decoded answer; returns the exit status."""
    params = parse_params(args.param)
    async with make_client(args) as client:
        try:
            answer = await client.call(args.function, params)
        except (ConfigurationError, InvalidArgumentError) as exc:
            raise CliError(str(exc)) from None
        except MailkitError as exc:
            raise CliError(f"{type(exc).__name__}: {exc}", ExitCode.ATTENTION) from None
    out.write(json.dumps(answer, indent=2, ensure_ascii=False, default=_jsonable) + "\n")
    return ExitCode.OK
