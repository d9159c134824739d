"""The command's entry point: parse, dispatch, and turn failures into exit statuses.

Whatever goes wrong ends in one line on stderr and a documented exit status, never a
traceback: the journal's consistency does not depend on how the process ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
from collections.abc import Sequence

from ._args import parse_args
from ._call import call_command
from ._exit import CliError, ExitCode
from ._journal import describe
from ._run import run_job

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (see `mailkit-async --help`)."""
    _tolerant_output()
    try:
        args = parse_args(argv)
        if args.command == "call":
            return asyncio.run(call_command(args, sys.stdout))
        return run_job(args, sys.stdout, sys.stderr)
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except KeyboardInterrupt:
        # Ctrl-C before the job's own handler was in place (while loading the input, say).
        return _fail("interrupted", ExitCode.SIGINT)
    except BrokenPipeError:
        # The reader of stdout went away (`| head`); Python would complain again at exit.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.ATTENTION
    except sqlite3.Error as exc:
        return _fail(f"the journal failed: {describe(exc)}; rerun the same command to resume")
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}; rerun the same command to resume")
    except MemoryError:
        return _fail("out of memory; rerun the same command to resume")
    except Exception as exc:  # a bug: still one line, and the journal is consistent
        return _fail(
            f"internal error ({type(exc).__name__}: {exc}); please report it. The journal is "
            "consistent: rerun the same command to resume"
        )


def _fail(message: str, code: int = ExitCode.USAGE) -> int:
    with contextlib.suppress(OSError, ValueError):
        print(f"mailkit-async: {' '.join(message.split())}", file=sys.stderr)
    return code


def _tolerant_output() -> None:
    # A name or an answer may hold what the terminal's encoding cannot show (or an
    # undecodable file name's surrogates): show it escaped rather than fail on it.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="backslashreplace")
