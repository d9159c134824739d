"""Progress on stderr: a redrawn bar on a terminal, a plain line now and then otherwise."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from typing import Final, TextIO

__all__ = ["Progress", "bar_line", "plain_line"]

_BAR_EVERY: Final = 0.2  # seconds between redraws of the bar
_LINE_EVERY: Final = 10.0  # seconds between plain lines (a log file need not fill up)
_BAR_WIDTH: Final = 24


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02}:{rest % 60:02}" if hours else f"{rest // 60}:{rest % 60:02}"


def _statuses(counts: Counter[str]) -> str:
    return " · ".join(f"{status} {count:,}" for status, count in counts.most_common() if count)


def bar_line(
    label: str,
    done: int,
    total: int,
    rate: float,
    eta: float | None,
    counts: Counter[str],
    *,
    width: int,
    unicode: bool = True,
) -> str:
    """One bar: `label [#####-----] done/total pct rate ETA statuses`, cut to `width`."""
    fraction = done / total if total else 1.0
    filled = int(fraction * _BAR_WIDTH)
    full, empty = ("█", "░") if unicode else ("#", "-")
    bar = full * filled + empty * (_BAR_WIDTH - filled)
    text = (
        f"{label} {bar} {done:,}/{total:,} {fraction:4.0%} {rate:,.0f}/s "
        f"ETA {_eta(eta)}  {_statuses(counts)}"
    )
    return text[: max(width - 1, 20)]


def plain_line(
    label: str, done: int, total: int, rate: float, eta: float | None, counts: Counter[str]
) -> str:
    """The same facts as a log line."""
    fraction = done / total if total else 1.0
    statuses = _statuses(counts) or "nothing yet"
    return (
        f"{label}: {done:,}/{total:,} done ({fraction:.0%}), {rate:,.0f}/s, ETA {_eta(eta)}; "
        f"{statuses}"
    )


class Progress:
    """Shows `counts` (kept up to date by the caller) until `stop()`.

    `total` counts every recipient of the job; `done` those with a final state, including
    ones finished by earlier runs, which the rate and ETA leave out.
    """

    def __init__(self, stream: TextIO, label: str, total: int, *, enabled: bool = True) -> None:
        self._stream = stream
        self._label = label
        self._total = total
        self.done = 0
        self.counts: Counter[str] = Counter()
        self._start_done = 0
        self._started = time.monotonic()
        self._enabled = enabled
        self._tty = enabled and stream.isatty()
        encoding = (getattr(stream, "encoding", None) or "ascii").lower()
        self._unicode = encoding.replace("-", "") in ("utf8", "utf16", "utf32")
        self._task: asyncio.Task[None] | None = None

    def start(self, done: int, counts: Counter[str]) -> None:
        self.done = self._start_done = done
        self.counts = counts
        self._started = time.monotonic()
        if self._enabled:
            if self._tty:
                self._draw()  # a log gets its first line after an interval, not a 0% one
            self._task = asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(_BAR_EVERY if self._tty else _LINE_EVERY)
            self._draw()

    def _figures(self) -> tuple[float, float | None]:
        elapsed = time.monotonic() - self._started
        sent = self.done - self._start_done
        rate = sent / elapsed if elapsed > 0 else 0.0
        remaining = self._total - self.done
        eta = remaining / rate if rate > 0 else (0.0 if not remaining else None)
        return rate, eta

    def _draw(self) -> None:
        rate, eta = self._figures()
        try:
            if self._tty:
                try:
                    width = os.get_terminal_size(self._stream.fileno()).columns or 100
                except OSError:
                    width = 100
                line = bar_line(
                    self._label,
                    self.done,
                    self._total,
                    rate,
                    eta,
                    self.counts,
                    width=width,
                    unicode=self._unicode,
                )
                self._stream.write(f"\r{line}\x1b[K")
            else:
                line = plain_line(self._label, self.done, self._total, rate, eta, self.counts)
                self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError):
            self._enabled = self._tty = False  # stderr went away: the job goes on silently

    def note(self, text: str) -> None:
        """A message that must not be drawn over by the bar."""
        if self._tty:
            self._stream.write("\r\x1b[K")
        self._stream.write(text + "\n")
        if self._tty and self._task is not None:
            self._draw()
        self._stream.flush()

    async def stop(self) -> None:
        """Draw the final state and end the bar's line."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._enabled:
            self._draw()
            if self._tty:
                self._stream.write("\n")
                self._stream.flush()
