"""`mailkit-async call FUNCTION --param key=value ...`: one API call, its answer as JSON."""

from __future__ import annotations

import argparse
import base64
import datetime
import json
from collections.abc import Sequence
from typing import Any, TextIO

from .._errors import ConfigurationError, InvalidArgumentError, MailkitError
from ._connect import make_client
from ._exit import CliError, ExitCode

__all__ = ["call_command", "parse_params"]


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` gives a string; `key:=value` a JSON value (number, boolean, list ...)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key or key == ":":
            raise CliError(f"--param {pair!r}: expected KEY=VALUE or KEY:=JSON")
        if key.endswith(":"):
            key = key[:-1]
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                raise CliError(f"--param {key}:=...: not a JSON value") from None
        else:
            params[key] = value
    return params


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
