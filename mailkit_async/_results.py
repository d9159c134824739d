"""Typed results of the typed calls."""

from __future__ import annotations

import attrs

from ._statuses import RevalidateStatus, WipeStatus

__all__ = ["RevalidateResult", "WipeResult"]


@attrs.frozen(kw_only=True)
class WipeResult:
    """What `MailkitClient.wipe` learned.

    `message` is the API's raw string (for a success, "OK"); `id_email` and `email` are filled
    when the answer carried them; `error_status` is None when the answer had none (XML-RPC
    errors are bare strings).
    """

    status: WipeStatus
    message: str
    id_email: int | None = None
    email: str | None = None
    error_status: int | None = None


@attrs.frozen(kw_only=True)
class RevalidateResult:
    """What `MailkitClient.revalidate` learned (fields as in `WipeResult`)."""

    status: RevalidateStatus
    message: str
    id_email: int | None = None
    email: str | None = None
    error_status: int | None = None
