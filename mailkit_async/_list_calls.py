"""`ListCalls`: the typed methods of mailing lists and what is sent to them.

adduser, edituser, the mailing-list functions, sendmail. A mixin of `MailkitClient`: each
method checks its arguments, builds one `Operation` and hands it to the client's
dispatcher, as `MailkitClient.wipe` does.
"""

from __future__ import annotations

from ._dispatch import Dispatcher

__all__ = ["ListCalls"]


class ListCalls:
    """Typed calls of mailing lists and sending (a mixin of `MailkitClient`)."""

    __slots__ = ()
    _dispatcher: Dispatcher
