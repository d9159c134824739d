"""The command line: `mailkit-async wipe|revalidate|unsubscribe|export|adduser INPUT [options]`
and `mailkit-async call`."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NoReturn

from .._errors import InvalidArgumentError
from .._validate import check_id, check_language, check_text
from ._exit import EXIT_CODES_HELP, ExitCode
from ._kinds import KINDS

__all__ = ["parse_args"]

DEFAULT_CONCURRENCY = 10
DEFAULT_GRACE = 5.0
MAX_CONCURRENCY: Final = 1000
MAX_RETRIES: Final = 100
MAX_GRACE: Final = 3600.0
MIN_RATE: Final = 0.001  # one request in 1000 s; below, a job would never seem to move
MAX_RATE: Final = 1_000_000.0
_SHOWN: Final = 40  # longest argument quoted back in an error

_DESCRIPTION = """\
Run a data-subject request over a CSV export or a list of addresses: erase (wipe), stop
mailing (unsubscribe), export what Mailkit holds (export), or ask for consent again (adduser).
Each is a job that can be stopped and resumed at any moment: each line's state is kept in a
journal (SQLite), so rerunning the same command picks up where the last run ended."""

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


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (what is wrong, and where help is), exit status 2."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {text} (see {self.prog} --help)\n")


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")


def _number(
    kind: type[int] | type[float], *, low: float, high: float, what: str
) -> Callable[[str], Any]:
    """An argparse type: a `kind` from `low` to `high`."""
    bounds = f"from {low:,.10g} to {high:,.10g}"

    def parse(text: str) -> int | float:
        value: float | None
        try:
            # ASCII only: int() and float() also take other scripts' digits.
            value = kind(text) if text.isascii() else None
        except (ValueError, OverflowError):
            value = None
        if value is None or not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} {bounds}, got {_shown(text)}")
        return value

    return parse


_concurrency = _number(int, low=1, high=MAX_CONCURRENCY, what="a whole number")
_retries = _number(int, low=0, high=MAX_RETRIES, what="a whole number")
_seconds = _number(float, low=0, high=MAX_GRACE, what="a number of seconds")
_rate = _number(float, low=MIN_RATE, high=MAX_RATE, what="requests per second")


def _sendable(text: str, name: str) -> str:
    # Undecodable bytes on the command line arrive as lone surrogates: not text to send.
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise argparse.ArgumentTypeError(f"{name} is not valid UTF-8 text")
    return text


def _url(text: str) -> str:
    bad = f"expected an http:// or https:// URL, got {_shown(text)}"
    if any(not ch.isprintable() or ch.isspace() for ch in text):
        raise argparse.ArgumentTypeError(bad)
    try:
        parts = urllib.parse.urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        raise argparse.ArgumentTypeError(bad) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(bad)
    return text


def _list_id(text: str) -> int:
    # ASCII digits only (int() also takes other scripts' digits, signs and underscores).
    if text.isascii() and text.isdigit() and len(text) <= 19:
        with contextlib.suppress(InvalidArgumentError):
            return check_id(int(text), name="the list ID")
    raise argparse.ArgumentTypeError(
        f"expected a mailing list ID (a positive number), got {_shown(text)}"
    )


def _client_id(text: str) -> str:
    return _sendable(text, "the client ID")


def _language(text: str) -> str:
    try:
        return check_language(_sendable(text, "the language"))
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _channel(text: str) -> str:
    try:
        return check_text(_sendable(text, "the channel"), name="channel", max_length=255)
    except InvalidArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_connection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument("--protocol", choices=["json", "xmlrpc"], default="json")
    group.add_argument(
        "--base-url", type=_url, metavar="URL", help="API base URL (default: Mailkit's)"
    )
    group.add_argument(
        "--emulator",
        action="store_true",
        help="run against the built-in emulator, in-process: no account, nothing leaves",
    )
    group.add_argument(
        "--client-id", type=_client_id, metavar="ID", help="default: $MAILKIT_CLIENT_ID"
    )
    group.add_argument(
        "--client-md5-file",
        metavar="PATH",
        help="a file holding the md5 (default: $MAILKIT_CLIENT_MD5)",
    )
    group.add_argument("--client-md5", action=_RefuseSecret, help=argparse.SUPPRESS)
    group.add_argument(
        "--max-retries",
        type=_retries,
        metavar="N",
        help=f"retries per request after the first attempt (default 3, at most {MAX_RETRIES})",
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
        type=_concurrency,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests in flight at once (default {DEFAULT_CONCURRENCY}, at most "
        f"{MAX_CONCURRENCY:,})",
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
    parser = _Parser(
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

    for name, add in _GDPR_JOBS.items():
        if name in KINDS:  # a job whose typed method the library has
            add(commands, common)

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


def _add_unsubscribe(commands: Any, common: dict[str, Any]) -> None:
    parser = commands.add_parser(
        "unsubscribe",
        help="stop mailing recipients (objection; safe to repeat without --send-optout)",
        description="Unsubscribe each recipient from every campaign (mailkit.email.unsubscribe). "
        "By default no email is sent and a repeat is harmless. With --send-optout Mailkit "
        "emails each an opt-out confirmation, so a request that may have reached Mailkit is "
        "never sent again: it is reported as outcome_unknown.",
        **common,
    )
    _add_job(parser)
    options = parser.add_argument_group("unsubscribe")
    options.add_argument(
        "--send-optout",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Mailkit emails each recipient an opt-out confirmation (default: no email)",
    )
    _add_connection(parser)


def _add_export(commands: Any, common: dict[str, Any]) -> None:
    parser = commands.add_parser(
        "export",
        help="write what Mailkit holds on each recipient as JSON Lines (access; read only)",
        description="Write each recipient's records (mailkit.email.getstatus: one per mailing "
        "list) as one JSON Line per recipient to --output, and with --history the campaigns "
        "sent to them (mailkit.email.getstatus.history: the last year). A recipient Mailkit "
        "does not know is a line with status not_found. The file is made from the journal, "
        "whole, at the end of every run: one line per recipient of the whole job.",
        **common,
    )
    _add_job(parser)
    options = parser.add_argument_group("export")
    options.add_argument(
        "--output",
        required=True,
        metavar="PATH.jsonl",
        help="the JSON Lines file to write (created mode 0600; replaced whole)",
    )
    options.add_argument(
        "--history",
        action="store_true",
        help="also each recipient's campaign history (deliveries, opens, clicks)",
    )
    _add_connection(parser)


def _add_adduser(commands: Any, common: dict[str, Any]) -> None:
    parser = commands.add_parser(
        "adduser",
        help="add recipients to a mailing list, asking for consent by email (re-consent)",
        description="Add or update each address on the mailing list --list "
        "(mailkit.mailinglist.adduser), the successor of revalidate. By default Mailkit emails "
        "each a double opt-in link, so a request that may have reached Mailkit is never sent "
        "again: it is reported as outcome_unknown. --no-double-opt-in says the recipients "
        "consented already: no email, and a repeat is harmless. ID_email lines are invalid "
        "input here: adduser takes an address.",
        **common,
    )
    _add_job(parser)
    options = parser.add_argument_group("adduser")
    options.add_argument(
        "--list", dest="list_id", type=_list_id, required=True, metavar="ID",
        help="the mailing list's ID (mailkit-async call mailkit.mailinglist.list shows them)",
    )  # fmt: skip
    options.add_argument(
        "--double-opt-in",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="--double-opt-in (the default): Mailkit emails each a confirmation link; "
        "--no-double-opt-in: they consented already, no email",
    )
    _add_connection(parser)


_GDPR_JOBS: Final[Mapping[str, Callable[[Any, dict[str, Any]], None]]] = {
    "unsubscribe": _add_unsubscribe,
    "export": _add_export,
    "adduser": _add_adduser,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse and check the arguments; usage errors exit with status 2."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    for arg in argv:
        # argparse (before 3.12) drops a value of "--" and leaves the option at its
        # default: --base-url=-- would send to Mailkit's own URL. Refuse it instead.
        if arg.startswith("--") and arg.endswith("=--"):
            parser.error(f"argument {arg[:-3]}: expected a value, not --")
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
