"""What a wipe or revalidate call did, as enums."""

from __future__ import annotations

import enum

__all__ = ["RevalidateStatus", "WipeStatus"]


class WipeStatus(enum.StrEnum):
    """The outcome of `mailkit.email.wipe`."""

    QUEUED = "queued"  # "OK": queued for the daily wipe run
    ALREADY_QUEUED = "already_queued"  # "Email has already been inserted"
    INVALID_RECIPIENT = "invalid_recipient"  # "Invalid ID_email or email" (either spelling)
    MISSING_RECIPIENT = "missing_recipient"  # "Missing ID_email"
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when the recipient is in the wipe queue (a repeat counts as done)."""
        return self in (WipeStatus.QUEUED, WipeStatus.ALREADY_QUEUED)


class RevalidateStatus(enum.StrEnum):
    """The outcome of `mailkit.email.revalidate`."""

    REVALIDATED = "revalidated"  # "Email has been revalidated" (agreement TRUE)
    CONFIRMATION_SENT = "confirmation_sent"  # "Sent subscribe email" (agreement FALSE)
    NOT_UNSUBSCRIBED = "not_unsubscribed"  # "<id or address> is not unsubscribed"
    INVALID_RECIPIENT = "invalid_recipient"  # "Invalid ID_email or email"
    MISSING_RECIPIENT = "missing_recipient"  # "Missing ID_email"
    UNKNOWN = "unknown"  # an answer nobody documented; the raw message is kept

    @property
    def succeeded(self) -> bool:
        """True when the recipient was re-subscribed or asked to confirm."""
        return self in (RevalidateStatus.REVALIDATED, RevalidateStatus.CONFIRMATION_SENT)
