"""`python -m mailkit_async`: wipe or revalidate the recipients listed in a file.

One address or ID_email a line; blank lines and lines starting with # are skipped. With
`--emulator` the job runs against the built-in emulator, so it needs no account.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TextIO

from ._batch import Batch
from ._client import MailkitClient
from ._errors import InvalidArgumentError, MailkitError
from ._results import RevalidateResult, WipeResult
from ._validate import check_recipient

EMULATOR_ID = "demo"
EMULATOR_MD5 = "00000000000000000000000000000000"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailkit-async", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("wipe", "queue recipients for the GDPR wipe"),
        ("revalidate", "re-subscribe unsubscribed recipients"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("input", help="file with one address or ID_email a line, or -")
        command.add_argument("--protocol", choices=["json", "xmlrpc"], default="json")
        command.add_argument("--concurrency", type=int, default=10, metavar="N")
        command.add_argument("--base-url", default=None, help="API base URL")
        command.add_argument(
            "--emulator", action="store_true", help="run against the built-in emulator"
        )
        if name == "revalidate":
            command.add_argument(
                "--agreement", action=argparse.BooleanOptionalAction, required=True
            )
            command.add_argument("--channel")
            command.add_argument("--language")
    return parser


def _recipients(lines: Iterator[str]) -> Iterator[tuple[int, str, str | int | None]]:
    """(line number, text, recipient or None when the line is not one)."""
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        recipient: str | int = int(text) if text.isascii() and text.isdigit() else text
        try:
            check_recipient(recipient)
        except InvalidArgumentError:
            yield number, text, None
        else:
            yield number, text, recipient


async def _run(args: argparse.Namespace, source: TextIO, out: TextIO) -> int:
    options: dict[str, object] = {"protocol": args.protocol, "max_concurrency": args.concurrency}
    credentials: tuple[str | None, str | None] = (None, None)
    if args.emulator:
        from .testing import EmulatorTransport, MailkitEmulator

        emulator = MailkitEmulator(EMULATOR_ID, EMULATOR_MD5, auto_create=True)
        options["transport"] = EmulatorTransport(emulator)
        credentials = (EMULATOR_ID, EMULATOR_MD5)
    if args.base_url:
        options["base_url"] = args.base_url

    counts: Counter[str] = Counter()
    reader_gone = False

    def emit(line: str) -> None:
        nonlocal reader_gone
        try:
            print(line, file=out)
        except BrokenPipeError:
            # The reader went away (`| head`): stop taking lines, as Unix tools do.
            reader_gone = True

    def valid_lines() -> Iterator[str | int]:
        # Lines that are not a recipient are reported here and never reach the batch.
        for number, text, recipient in _recipients(source):
            if recipient is None:
                counts["invalid input"] += 1
                emit(f"{text}\tinvalid_input\tline {number} is not an address or ID")
            else:
                yield recipient

    async with MailkitClient(*credentials, **options) as client:  # type: ignore[arg-type]
        batch: Batch[str | int, WipeResult] | Batch[str | int, RevalidateResult]
        if args.command == "wipe":
            batch = client.wipe_many(valid_lines(), concurrency=args.concurrency)
        else:
            batch = client.revalidate_many(
                valid_lines(),
                agreement=args.agreement,
                channel=args.channel,
                language=args.language,
                concurrency=args.concurrency,
            )
        async with batch:
            async for outcome in batch:
                if outcome.error is not None:
                    counts["error"] += 1
                    error = outcome.error
                    emit(f"{outcome.item}\terror\t{type(error).__name__}: {error}")
                elif outcome.result is not None:
                    counts[outcome.result.status.value] += 1
                    emit(f"{outcome.item}\t{outcome.result.status.value}\t{outcome.result.message}")
                if reader_gone:
                    break

    if reader_gone:
        # Python would report the broken pipe again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    summary = ", ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
    print(f"done: {sum(counts.values())} lines ({summary or 'nothing to do'})", file=sys.stderr)
    failed = counts["error"] + counts["invalid input"] + counts["unknown"]
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mailkit-async` command."""
    args = _parser().parse_args(argv)
    if args.concurrency < 1:
        _parser().error("--concurrency must be at least 1")
    try:
        if args.input == "-":
            return asyncio.run(_run(args, sys.stdin, sys.stdout))
        with open(args.input, encoding="utf-8") as source:
            return asyncio.run(_run(args, source, sys.stdout))
    except MailkitError as exc:  # configuration problems, e.g. missing credentials
        print(f"mailkit-async: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mailkit-async: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
