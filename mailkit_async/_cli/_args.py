"""The command line: `mailkit-async wipe|revalidate INPUT [options]` and `mailkit-async call`."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any, NoReturn

from .._errors import InvalidArgumentError
from .._validate import check_language, check_text
from ._exit import EXIT_CODES_HELP, ExitCode

__all__ = ["parse_args"]

DEFAULT_CONCURRENCY = 10
DEFAULT_GRACE = 5.0

_DESCRIPTION = """\
Queue recipients for Mailkit's GDPR wipe, or revalidate them, from a CSV export or a list of
addresses, in a job that can be stopped and resumed at any moment: each line's state is kept
in a journal (SQLite), so rerunning the same command picks up where the last run ended."""

_CREDENTIALS_HELP = """\
credentials:
  $MAILKIT_CLIENT_ID and $MAILKIT_CLIENT_MD5, or --client-id with --client-md5-file (a file
  holding the md5). The md5 is never accepted on the command line, where shell history and
  ps would show it. --emulator needs none.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


class _RefuseSecret(argparse.Action):
    """`--client-md5 VALUE`: refused, without echoing the value anywhere."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> NoReturn:
        parser.exit(
            ExitCode.USAGE,
            f"{parser.prog}: error: the md5 is not accepted on the command line (shell history "
            "and ps would show it); set MAILKIT_CLIENT_MD5 or use --client-md5-file PATH\n",
        )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected requests per second > 0, got {text!r}")
    return value


def _language(text: str) -> str:
    try:
        return check_language(text)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _channel(text: str) -> str:
    try:
        return check_text(text, name="channel", max_length=255)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_connection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("--protocol", choices=["json", "xmlrpc"], default="json")
    group.add_argument("--base-url", metavar="URL", help="API base URL (default: Mailkit's)")
    group.add_argument(
        "--emulator",
        action="store_true",
        help="run against the built-in emulator, in-process: no account, nothing leaves",
    )
    group.add_argument("--client-id", metavar="ID", help="default: $MAILKIT_CLIENT_ID")
    group.add_argument(
        "--client-md5-file",
        metavar="PATH",
        help="a file holding the md5 (default: $MAILKIT_CLIENT_MD5)",
    )
    group.add_argument("--client-md5", action=_RefuseSecret, help=argparse.SUPPRESS)
    group.add_argument(
        "--max-retries",
        type=_non_negative_int,
        metavar="N",
        help="retries per request after the first attempt (default 3)",
    )


def _add_job(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="a CSV with a column email or ID_email, a text file with one address or "
        "ID_email a line, or - for standard input",
    )
    job = parser.add_argument_group("job")
    job.add_argument(
        "--journal",
        metavar="PATH",
        help="the job's SQLite journal (default: INPUT.journal.sqlite; required with -)",
    )
    job.add_argument(
        "--report",
        metavar="PATH",
        help="write one row per recipient to PATH: .csv, or .jsonl for JSON Lines",
    )
    job.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    job.add_argument("--rate", type=_rate, metavar="R", help="at most R requests per second")
    job.add_argument(
        "--grace",
        type=_seconds,
        default=DEFAULT_GRACE,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, how long in-flight requests may finish "
        f"(default {DEFAULT_GRACE:g}); a second signal stops at once",
    )
    job.add_argument(
        "--dry-run",
        action="store_true",
        help="check the input, credentials and journal, say what would be sent, send nothing",
    )
    job.add_argument("--quiet", action="store_true", help="no progress on stderr")
    job.add_argument(
        "--json", action="store_true", help="print the summary as JSON on stdout instead"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailkit-async",
        description=_DESCRIPTION,
        epilog=EXIT_CODES_HELP + "\n" + _CREDENTIALS_HELP,
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common: dict[str, Any] = {
        "formatter_class": _Formatter,
        "allow_abbrev": False,
        "epilog": EXIT_CODES_HELP + "\n" + _CREDENTIALS_HELP,
    }
    wipe = commands.add_parser(
        "wipe",
        help="queue recipients for the daily GDPR wipe (safe to repeat)",
        description="Queue each recipient for Mailkit's daily GDPR wipe (mailkit.email.wipe). "
        "A repeat is harmless: Mailkit answers 'Email has already been inserted'.",
        **common,
    )
    _add_job(wipe)
    _add_connection(wipe)

    revalidate = commands.add_parser(
        "revalidate",
        help="re-subscribe unsubscribed recipients",
        description="Re-subscribe unsubscribed recipients (mailkit.email.revalidate). Without "
        "agreement Mailkit emails each an opt-in link, so a request that may have reached "
        "Mailkit is never sent again: it is reported as outcome_unknown.",
        **common,
    )
    _add_job(revalidate)
    options = revalidate.add_argument_group("revalidate")
    options.add_argument(
        "--agreement",
        action=argparse.BooleanOptionalAction,
        required=True,
        help="--agreement: the recipients consented (say how with --channel); "
        "--no-agreement: Mailkit emails them a confirmation link",
    )
    options.add_argument("--channel", type=_channel, help="how consent was given")
    options.add_argument(
        "--language", type=_language, help="language of the confirmation email (cs, en, ...)"
    )
    _add_connection(revalidate)

    call = commands.add_parser(
        "call",
        help="call any API function once and print the answer as JSON",
        description="Call one API function and print its decoded answer as JSON.",
        **common,
    )
    call.add_argument("function", metavar="FUNCTION", help="e.g. mailkit.mailinglist.list")
    call.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter (a string); KEY:=JSON for a number, list or boolean; repeatable",
    )
    _add_connection(call)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the arguments; usage errors exit with status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.emulator and (args.base_url or args.client_id or args.client_md5_file):
        parser.exit(
            ExitCode.USAGE,
            "mailkit-async: error: --emulator runs in-process; it takes no --base-url or "
            "credentials\n",
        )
    if args.command != "call" and args.input == "-" and not args.journal:
        parser.exit(
            ExitCode.USAGE,
            "mailkit-async: error: with standard input (-), say where to keep the job's "
            "state with --journal PATH\n",
        )
    return args
