"""Exit statuses of the `mailkit-async` command, and the error that carries one."""

from __future__ import annotations

import enum

__all__ = ["CliError", "ExitCode"]


class ExitCode(enum.IntEnum):
    """What the process's exit status means (also listed in `--help` and the README)."""

    OK = 0  # every recipient has a final answer and none needs attention
    ATTENTION = 1  # some items ended in error, unknown outcome or status, or invalid input
    USAGE = 2  # bad arguments or credentials, a journal refused or failing, credentials refused
    SIGINT = 130  # stopped by Ctrl-C (128 + SIGINT)
    SIGTERM = 143  # stopped by SIGTERM (128 + SIGTERM)


EXIT_CODES_HELP = """\
exit status:
  0    every recipient has a final answer and none needs attention
  1    some items need attention: an error, an unknown outcome or status, invalid input
       lines, or items left pending (rerun the same command to resume)
  2    usage or configuration error (arguments, credentials, journal), a journal or report
       that cannot be used (in use by another run, damaged, disk full, read-only), or
       Mailkit refused the credentials; nothing more was sent (the line says what to do)
  130  stopped by SIGINT (Ctrl-C); rerun the same command to resume
  143  stopped by SIGTERM; rerun the same command to resume
"""


class CliError(Exception):
    """A problem to report in one line (no traceback), ending the command with `code`."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code
