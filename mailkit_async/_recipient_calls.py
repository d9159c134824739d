"""`RecipientCalls`: the typed methods of one recipient's lifecycle.

Unsubscribe and its status, getstatus and its history, delete, move, topics. A mixin of
`MailkitClient`: each method checks its arguments, builds one `Operation` and hands it to
the client's dispatcher, as `MailkitClient.wipe` does.
"""

from __future__ import annotations

from ._dispatch import Dispatcher

__all__ = ["RecipientCalls"]


class RecipientCalls:
    """Typed calls about one recipient (a mixin of `MailkitClient`)."""

    __slots__ = ()
    _dispatcher: Dispatcher
