"""A Mailkit API emulator for testing code that talks to Mailkit.

One in-memory account (`MailkitEmulator`) answers the JSON and XML-RPC APIs, mounted either
in-process (`EmulatorTransport`, for `httpx.AsyncClient(transport=...)`) or on a real
loopback HTTP/1.1 server (`serve`)::

    emu = MailkitEmulator(client_id="12345", client_md5="0123456789abcdef0123456789abcdef")
    jane = emu.add_recipient("jane@example.com")
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as http:
        ...  # the code under test
    assert emu.wipe_queue == {jane.id_email}

It plays the recipient lifecycle (adduser with double opt-in, edituser, unsubscribe,
getstatus and its history, delete, move, topics, the mailing-list functions, sendmail, wipe,
revalidate) with the documented answers of the library's function table. A seeded `Faults`
plan makes it fail like a real service behind a proxy (429, 503, 502, hang-ups before or
after acting, cut-short bodies, slow answers) on any function, while the truth of what it did
stays readable: `recipients`, `subscribers(list_id)`, `unsubscribed`, `confirmations_sent`,
`optouts_sent`, `messages_sent`, `mailing_lists`, `lists_created`, `deleted`, `moved`,
`wipe_queue`, `wipe_requests` and `fault_log`::

    emu.faults = Faults(seed=1, http_503=0.10, drop_after=0.05)
"""

from ._emulator import Campaign, MailingList, MailkitEmulator, Recipient, SentMessage
from ._faults import FaultEvent, Faults
from ._server import serve
from ._transport import EmulatorTransport

__all__ = [
    "Campaign",
    "EmulatorTransport",
    "FaultEvent",
    "Faults",
    "MailingList",
    "MailkitEmulator",
    "Recipient",
    "SentMessage",
    "serve",
]
