"""The command's entry point: parse, dispatch, and turn failures into exit statuses."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from ._args import parse_args
from ._call import call_command
from ._exit import CliError, ExitCode
from ._run import run_job

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (see `mailkit-async --help`)."""
    args = parse_args(argv)
    try:
        if args.command == "call":
            return asyncio.run(call_command(args, sys.stdout))
        return run_job(args, sys.stdout, sys.stderr)
    except CliError as exc:
        print(f"mailkit-async: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        # Ctrl-C before the job's own handler was in place (while loading the input, say).
        print("mailkit-async: interrupted", file=sys.stderr)
        return ExitCode.SIGINT
    except BrokenPipeError:
        # The reader of stdout went away (`| head`); Python would complain again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.ATTENTION
