"""One run of a job: what was asked, the kind of job, where its journal is, what it found."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TextIO

from ._kinds import JobKind
from ._report import Summary

__all__ = ["Job"]


@dataclass
class Job:
    """The facts a run's phases share."""

    args: argparse.Namespace
    kind: JobKind
    journal: str  # the journal's path
    summary: Summary
    err: TextIO  # progress and the list of problem lines
    output: str | None = None  # the kind's own output file (export's --output)

    @property
    def unsafe(self) -> bool:
        """A request that may have reached Mailkit must never be sent again."""
        return self.kind.unsafe(self.args)
