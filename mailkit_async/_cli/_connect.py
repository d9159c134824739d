"""Building the client a command runs with: credentials, endpoint, retries, or the emulator."""

from __future__ import annotations

import argparse
import os
from typing import Final

from .._client import DEFAULT_BASE_URL, MailkitClient
from .._credentials import ENV_CLIENT_ID, ENV_CLIENT_MD5
from .._errors import InvalidArgumentError
from .._retry import RetryPolicy
from ._exit import CliError

__all__ = ["EMULATOR", "endpoint", "make_client"]

EMULATOR: Final = "emulator"
# The in-process emulator's account: not a secret, it guards nothing.
_EMULATOR_ID: Final = "demo"
_EMULATOR_MD5: Final = "00000000000000000000000000000000"
_MAX_MD5_FILE: Final = 4096  # characters read from --client-md5-file at most

_HOW: Final = (
    f"Mailkit credentials are missing: set ${ENV_CLIENT_ID} and ${ENV_CLIENT_MD5}, or pass "
    "--client-id ID --client-md5-file PATH (a file holding the md5; never the md5 itself on "
    "the command line). Both are in the Mailkit account under Profile / Integration. "
    "To try the command without an account, add --emulator."
)


def endpoint(args: argparse.Namespace) -> str:
    """Where requests go, as the journal records it: a URL, or "emulator"."""
    if args.emulator:
        return EMULATOR
    return str(args.base_url or DEFAULT_BASE_URL).rstrip("/")


def _credentials(args: argparse.Namespace) -> tuple[str, str]:
    client_id = args.client_id or os.environ.get(ENV_CLIENT_ID) or None
    if args.client_md5_file:
        try:
            with open(args.client_md5_file, encoding="utf-8") as file:
                # An md5 is 32 characters: a bigger file is not one (and /dev/zero never ends).
                text = file.read(_MAX_MD5_FILE + 1)
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            message = f"cannot read --client-md5-file {args.client_md5_file}: {reason}"
            raise CliError(message) from None
        if len(text) > _MAX_MD5_FILE:
            raise CliError(f"--client-md5-file {args.client_md5_file} is too big to hold an md5")
        md5 = text.strip() or None
        if md5 is None:
            raise CliError(f"--client-md5-file {args.client_md5_file} is empty")
    else:
        md5 = os.environ.get(ENV_CLIENT_MD5) or None
    if client_id is None or md5 is None:
        raise CliError(_HOW)
    return client_id, md5


def make_client(args: argparse.Namespace, *, concurrency: int = 1) -> MailkitClient:
    """A client for `args`; raises CliError for a configuration that cannot work."""
    retry = None
    if args.max_retries is not None:
        retry = RetryPolicy(max_attempts=args.max_retries + 1)
    try:
        if args.emulator:
            # Imported here: the emulator is test tooling, not needed for real jobs.
            from ..testing import EmulatorTransport, MailkitEmulator

            emulator = MailkitEmulator(_EMULATOR_ID, _EMULATOR_MD5, auto_create=True)
            return MailkitClient(
                _EMULATOR_ID,
                _EMULATOR_MD5,
                protocol=args.protocol,
                transport=EmulatorTransport(emulator),
                max_concurrency=concurrency,
                retry=retry,
            )
        client_id, md5 = _credentials(args)
        return MailkitClient(
            client_id,
            md5,
            protocol=args.protocol,
            base_url=endpoint(args),
            max_concurrency=concurrency,
            retry=retry,
        )
    except InvalidArgumentError as exc:
        # The library's messages never contain the md5.
        raise CliError(f"cannot build the client: {exc}") from None
