"""Test support: one account, one acting call per lifecycle function, and the server's truth.

`new_account()` builds the same small account every time; `LIFECYCLE` holds, per function,
a call that does something to that account, in both protocols' request documents; `truth()`
is everything the emulator keeps that a test can compare, without wall-clock times.
"""

from __future__ import annotations

import base64
import json
import xmlrpc.client
from typing import Any, NamedTuple

from mailkit_async.testing import MailkitEmulator

CLIENT_ID = "12345"
MD5 = "0123456789abcdef0123456789abcdef"
PATHS = {"json": "/json.fcgi", "xmlrpc": "/rpc.fcgi"}
JANE = 12345678  # subscribed, list 1
JOHN = 12345679  # unsubscribed, list 1
NEWS = 2  # a second list
CAMPAIGN = 1001


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def json_body(function: str, **params: Any) -> bytes:
    return json.dumps(
        {"function": function, "id": CLIENT_ID, "md5": MD5, "parameters": params}
    ).encode()


def xml_body(function: str, *params: Any) -> bytes:
    return xmlrpc.client.dumps((int(CLIENT_ID), MD5, *params), function, allow_none=True).encode()


def body(protocol: str, function: str, json_params: dict[str, Any], xml: tuple[Any, ...]) -> bytes:
    if protocol == "json":
        return json_body(function, **json_params)
    return xml_body(function, *xml)


def new_account(**options: Any) -> MailkitEmulator:
    return populate(MailkitEmulator(CLIENT_ID, MD5, **options))


def populate(emu: MailkitEmulator) -> MailkitEmulator:
    """Jane (subscribed) and John (unsubscribed) on list 1, list 2, a campaign, two topics."""
    emu.add_recipient("jane@example.com", profile={"FIRST_NAME": "Jane"})
    emu.add_recipient("john@example.com", subscribed=False)
    assert emu.add_mailing_list("News") == NEWS
    assert emu.add_campaign("Welcome", subject="Hello") == CAMPAIGN
    emu.add_topic("Offers")
    emu.add_topic("Tips")
    return emu


class LifecycleCall(NamedTuple):
    function: str
    json: dict[str, Any]
    xml: tuple[Any, ...]
    key: object  # the recipient key the fault log shows
    acts: bool  # whether the call changes what `truth` shows


PERSONAL_NEW = {"email": b64("new@example.com"), "first_name": b64("Nová")}

LIFECYCLE: tuple[LifecycleCall, ...] = (
    LifecycleCall(
        "mailkit.mailinglist.adduser",
        {"ID_user_list": "1", "confirm": "TRUE", "personal": PERSONAL_NEW},
        (1, True, PERSONAL_NEW, {}, {}),
        "new@example.com",
        True,
    ),
    LifecycleCall(
        "mailkit.mailinglist.edituser",
        {"ID_user_list": "1", "ID_email": str(JANE), "personal": {"last_name": b64("Doe")}},
        (1, str(JANE), "", {"last_name": b64("Doe")}, {}, {}),
        JANE,
        True,
    ),
    LifecycleCall(
        "mailkit.email.unsubscribe",
        {"email": "jane@example.com", "ID_email": None},
        ("jane@example.com",),
        "jane@example.com",
        True,
    ),
    LifecycleCall("mailkit.email.unsubscribe.getstatus", {"ID_email": JANE}, (JANE,), JANE, False),
    LifecycleCall("mailkit.email.getstatus", {"ID_email": JANE}, (JANE,), JANE, False),
    LifecycleCall(
        "mailkit.email.getstatus.history",
        {"email": "jane@example.com"},
        ({"email": "jane@example.com"},),
        "jane@example.com",
        False,
    ),
    LifecycleCall("mailkit.email.delete", {"ID_email": JANE}, (JANE,), JANE, True),
    LifecycleCall(
        "mailkit.email.move", {"ID_email": JANE, "ID_user_list": NEWS}, (JANE, NEWS), JANE, True
    ),
    LifecycleCall(
        "mailkit.email.topics",
        {"email": "jane@example.com", "ID_topics": [101]},
        ({"email": "jane@example.com", "ID_topics": [101]},),
        "jane@example.com",
        True,
    ),
    LifecycleCall("mailkit.mailinglist.list", {}, (), None, False),
    LifecycleCall(
        "mailkit.mailinglist.create", {"name": "Fresh"}, ("Fresh", "new list"), None, True
    ),
    LifecycleCall("mailkit.mailinglist.delete", {"ID_user_list": NEWS}, (NEWS, False), None, True),
    LifecycleCall("mailkit.mailinglist.getstatus", {"ID_user_list": "1"}, (1,), None, False),
    LifecycleCall("mailkit.mailinglist.unsubscribed", {}, (), None, False),
    LifecycleCall(
        "mailkit.sendmail",
        {"mailinglist_id": 1, "campaign_id": CAMPAIGN, "main": {"send_to": "jane@example.com"}},
        (1, CAMPAIGN, {"send_to": "jane@example.com"}),
        "jane@example.com",
        True,
    ),
    LifecycleCall("mailkit.email.wipe", {"ID_email": JANE}, (JANE,), JANE, True),
    LifecycleCall(
        "mailkit.email.revalidate",
        {"ID_email": JOHN, "agreement": "FALSE"},
        (JOHN, None, False),
        JOHN,
        True,
    ),
)


def request(protocol: str, call: LifecycleCall) -> tuple[str, bytes]:
    return PATHS[protocol], body(protocol, call.function, call.json, call.xml)


def truth(emu: MailkitEmulator) -> dict[str, Any]:
    """What the emulator knows, times left out (two runs a second apart must compare equal)."""
    return {
        "recipients": [
            (
                r.id_email,
                r.email,
                r.mailing_list_id,
                r.subscribed,
                r.pending,
                r.unsubscribed_until,
                dict(r.profile),
                r.unsubscribed_topics,
            )
            for r in emu.recipients
        ],
        "lists": {i: (ml.name, ml.description, ml.enabled) for i, ml in emu.mailing_lists.items()},
        "lists_created": emu.lists_created,
        "wipe_queue": emu.wipe_queue,
        "wipe_requests": emu.wipe_requests,
        "confirmations": emu.confirmations_sent,
        "optouts": emu.optouts_sent,
        "messages": [
            (m.id_send_message, m.id_email, m.send_to, m.subject, m.body, dict(m.content))
            for m in emu.messages_sent
        ],
        "deleted": emu.deleted,
        "moved": emu.moved,
    }
