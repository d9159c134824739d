"""How long an idle keep-alive connection may be reused, for both HTTP engines.

A request written just as the server closes an idle connection is lost on the way, and for
an unsafe function that is an unknown outcome, not something to send again. So a connection
is retired before its server would close it: a margin before the server's `Keep-Alive:
timeout=N`, or before the idle time after which its server was seen closing one (most
servers send no header: uvicorn and hypercorn close after 5 s, aiohttp after 75 s), and
never after `DEFAULT_KEEPALIVE_EXPIRY`.
"""

from __future__ import annotations

import math
import re
from collections import deque
from typing import Final

__all__ = ["DEFAULT_KEEPALIVE_EXPIRY", "IdleLimit", "keep_for", "parse_keep_alive"]

#: How long an idle connection is trusted with nothing better known: less than the 5 s that
#: uvicorn, hypercorn, Apache and Node keep one by default.
DEFAULT_KEEPALIVE_EXPIRY: Final = 4.0
_MARGIN: Final = 1.0
#: Closes an origin remembers; the shortest of them is what its server is taken to keep.
_REMEMBERED: Final = 4
_TIMEOUT: Final = re.compile(r"(?:^|,)\s*timeout\s*=\s*([0-9]{1,6})\s*(?:,|$)")


def keep_for(timeout: float) -> float:
    """How long to reuse an idle connection that its server keeps `timeout` seconds.

    Less a margin (a quarter, at most a second), so that a request sent at the end of it
    still reaches the server, and is read, before the server's own timer closes it.
    """
    return timeout - min(_MARGIN, timeout / 4)


def parse_keep_alive(value: str | None) -> float | None:
    """The `timeout` of a Keep-Alive header (`timeout=5, max=100`), if it has one."""
    if value is None:
        return None
    found = _TIMEOUT.search(value.lower())
    return None if found is None else float(found[1])


class IdleLimit:
    """What one origin's server was seen doing with idle connections: `keep_for` seconds."""

    __slots__ = ("_seen", "keep_for")

    def __init__(self) -> None:
        self.keep_for = math.inf
        self._seen: deque[float] = deque(maxlen=_REMEMBERED)

    def closed_after(self, age: float) -> None:
        """The server closed a connection after it was idle `age` seconds (seen as it came).

        The shortest of the last few closes wins. A close is seen late when the event loop
        is busy (by 300 ms under load), so the latest alone would learn too long a time and
        reuse connections the server has closed; a close cut short once (a server
        restarting) only retires connections early, and is forgotten after a few more.
        """
        self._seen.append(age)
        self.keep_for = keep_for(min(self._seen))

    def closed_within(self, age: float) -> None:
        """A connection idle `age` seconds was found closed, at some time before that."""
        self.keep_for = min(self.keep_for, keep_for(age))
