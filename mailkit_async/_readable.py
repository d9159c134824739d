"""Asking the kernel whether a socket has something to read: both engines' reuse check.

A pooled connection whose peer closed it, or that holds bytes nobody asked for, is
readable; the event loop may not have run the callbacks that would say so yet.
"""

from __future__ import annotations

import select
from collections.abc import Callable

__all__ = ["never_readable", "readability_check"]


def never_readable() -> bool:
    """The check of a connection that has no socket yet (or none to poll)."""
    return False


def readability_check(sock: object) -> Callable[[], bool]:
    """A zero-timeout poll of `sock` for reading, prepared once per connection."""
    fileno = getattr(sock, "fileno", None)
    if fileno is None:
        return never_readable
    fd = fileno()
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)  # POLLHUP and POLLERR are always reported
        return lambda: bool(poller.poll(0))
    return lambda: bool(select.select((fd,), (), (), 0)[0])  # pragma: no cover (Windows)
