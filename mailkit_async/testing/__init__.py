"""A Mailkit API emulator for testing code that talks to Mailkit.

One in-memory account (`MailkitEmulator`) answers the JSON and XML-RPC APIs, mounted either
in-process (`EmulatorTransport`, for `httpx.AsyncClient(transport=...)`) or on a real
loopback HTTP/1.1 server (`serve`)::

    emu = MailkitEmulator(client_id="12345", client_md5="0123456789abcdef0123456789abcdef")
    jane = emu.add_recipient("jane@example.com")
    async with httpx.AsyncClient(transport=EmulatorTransport(emu)) as http:
        ...  # the code under test
    assert emu.wipe_queue == {jane.id_email}

A seeded `Faults` plan makes it fail like a real service behind a proxy (429, 503, 502,
hang-ups before or after acting, cut-short bodies, slow answers), while `wipe_queue`,
`wipe_requests`, `confirmations_sent` and `fault_log` keep the truth of what it did::

    emu.faults = Faults(seed=1, http_503=0.10, drop_after=0.05)
"""

from ._emulator import MailkitEmulator, Recipient
from ._faults import FaultEvent, Faults
from ._server import serve
from ._transport import EmulatorTransport

__all__ = ["EmulatorTransport", "FaultEvent", "Faults", "MailkitEmulator", "Recipient", "serve"]
