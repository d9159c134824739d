"""`RecipientCalls`: the typed methods of one recipient's lifecycle.

Unsubscribe and its status, getstatus and its history, delete, move, topics. A mixin of
`MailkitClient`: each method checks its arguments, builds one `Operation` and hands it to
the client's dispatcher, as `MailkitClient.wipe` does.
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterable, Mapping
from typing import Any, Final

from ._dispatch import CallTrace, Dispatcher
from ._errors import InvalidArgumentError
from ._functions import FUNCTIONS
from ._operation import Operation
from ._recipient_read import (
    DELETE,
    GETSTATUS,
    HISTORY,
    MOVE,
    TOPICS,
    UNSUBSCRIBE,
    UNSUBSCRIBE_GETSTATUS,
    read_delete,
    read_history,
    read_move,
    read_status,
    read_topics,
    read_unsubscribe,
    read_unsubscribe_status,
)
from ._recipient_results import (
    DeleteResult,
    HistoryResult,
    MoveResult,
    RecipientStatus,
    TopicsResult,
    UnsubscribeResult,
    UnsubscribeStatusResult,
)
from ._retry import RetryPolicy
from ._validate import check_count, check_flag, check_id, check_recipient, checked_arguments

__all__ = ["RecipientCalls"]

_UNSUBSCRIBE_SPEC: Final = FUNCTIONS[UNSUBSCRIBE]
_CLASS: Final = {
    name: FUNCTIONS[name].retry_class
    for name in (UNSUBSCRIBE_GETSTATUS, GETSTATUS, HISTORY, DELETE, MOVE)
}


class RecipientCalls:
    """Typed calls about one recipient (a mixin of `MailkitClient`)."""

    __slots__ = ()
    _dispatcher: Dispatcher

    @checked_arguments
    def unsubscribe(
        self,
        recipient: str | int,
        *,
        send_optout: bool = True,
        id_send_message: int | None = None,
        timeout_days: int | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, UnsubscribeResult]:
        """Unsubscribe a recipient from future campaigns. An int is an ID_email, a str an
        address or an SMS recipient's phone number in international format without spaces
        ("+420777123456").

        Mailkit emails an opt-out confirmation unless `send_optout=False`; so only then is a
        call whose answer was lost sent again (otherwise it ends as `OutcomeUnknownError`).
        `timeout_days` (14-90) makes the unsubscribe temporary; `id_send_message` records it
        against one campaign delivery. For many recipients:
        `client.map(lambda r: client.unsubscribe(r, send_optout=False), recipients)`.
        """
        key, value = check_recipient(recipient, phone=True)
        check_flag(send_optout, name="send_optout")
        # The JSON API wants both keys, one of them null (the Czech page).
        params: dict[str, object] = {"email": None, "ID_email": None, key: value}
        if id_send_message is not None:
            params["ID_send_message"] = check_id(id_send_message, name="id_send_message")
        params["send_optout"] = send_optout
        if timeout_days is not None:
            check_count(timeout_days, name="timeout_days", minimum=14, maximum=90)
            params["timeout"] = True
            params["timeout_days"] = timeout_days
        operation = Operation(
            UNSUBSCRIBE, params, _UNSUBSCRIBE_SPEC.retry_class_for(params), read_unsubscribe
        )
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def get_unsubscribe_status(
        self,
        recipient: str | int,
        *,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, UnsubscribeStatusResult]:
        """Whether a recipient is unsubscribed: `result.unsubscribed` is True/False.

        Over JSON the result also says until when (`unsubscribed_until`, None when
        permanent) and which campaign topics it left (`topics`); XML-RPC tells only
        TRUE/FALSE.
        """
        key, value = check_recipient(recipient)
        operation = Operation(
            UNSUBSCRIBE_GETSTATUS,
            {key: value},
            _CLASS[UNSUBSCRIBE_GETSTATUS],
            read_unsubscribe_status,
        )
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def get_status(
        self,
        recipient: str | int,
        *,
        id_send_message: int | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, RecipientStatus]:
        """What Mailkit holds on a recipient: `result.records`, one per mailing list an
        address is in (an ID_email names one record).

        A recipient Mailkit does not know is `LookupStatus.NOT_FOUND`, not an exception.
        `id_send_message` asks about the recipient of one campaign delivery.
        """
        key, value = check_recipient(recipient)
        params: dict[str, object] = {key: value}
        if id_send_message is not None:
            params["ID_send_message"] = check_id(id_send_message, name="id_send_message")
        operation = Operation(GETSTATUS, params, _CLASS[GETSTATUS], read_status)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def get_status_history(
        self,
        recipient: str | int,
        *,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, HistoryResult]:
        """The campaign deliveries of the last year sent to a recipient (`result.entries`),
        with their opens and clicks. An ID_email covers its one list, an address every
        list it is in."""
        key, value = check_recipient(recipient)
        # XML-RPC takes one struct whose ID_email is an <i4>: the ID goes as an int.
        params: dict[str, object] = {key: int(value) if key == "ID_email" else value}
        operation = Operation(HISTORY, params, _CLASS[HISTORY], read_history)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def delete_recipient(
        self,
        recipient: str | int,
        *,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, DeleteResult]:
        """Delete a recipient record (an int ID_email), or every record of an address.

        `result.id_emails` are the deleted IDs. A repeat finds nothing left and answers
        `INVALID_RECIPIENT`, so a call whose answer was lost is sent again: after a retry
        (see `CallTrace.attempts`), `INVALID_RECIPIENT` may mean the first attempt deleted it.
        For GDPR erasure use `wipe`, which also removes the recipient's history.
        """
        _, value = check_recipient(recipient)
        # The JSON API takes an address in ID_email too (DOC delete).
        operation = Operation(DELETE, {"ID_email": value}, _CLASS[DELETE], read_delete)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def move_recipient(
        self,
        id_email: int,
        *,
        id_user_list: int,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, MoveResult]:
        """Move a recipient record to the mailing list `id_user_list`.

        The record gets a new ID there: `result.id_email` (JSON only; XML-RPC answers 1/0).
        A retry with the old ID would fail, so a call whose answer was lost ends as
        `OutcomeUnknownError` instead of being sent again.
        """
        params = {
            "ID_email": check_id(id_email, name="id_email"),
            "ID_user_list": check_id(id_user_list, name="id_user_list"),
        }
        operation = Operation(MOVE, params, _CLASS[MOVE], read_move)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def set_topics(
        self,
        email: str,
        *,
        id_topics: Iterable[int] | None = None,
        activate_all: bool = False,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, TopicsResult]:
        """Set the campaign topics a recipient (by address) is subscribed to, as a whole.

        `id_topics=[3, 5]`: those topics (the others are left, as far as the page shows);
        `id_topics=[]`: none, the recipient leaves every topic; `activate_all=True`: every
        topic of the account. One of the two must be given: Mailkit's own default (neither)
        silently unsubscribes from every topic.
        """
        key, address = check_recipient(email, name="email")
        if key != "email":
            raise InvalidArgumentError("email must be an address (str): topics take no ID_email")
        check_flag(activate_all, name="activate_all")
        params: dict[str, object] = {"email": address}
        if activate_all:
            if id_topics is not None:
                raise InvalidArgumentError(
                    "give id_topics or activate_all=True, not both (Mailkit ignores id_topics)"
                )
            params["activate_all"] = True
        else:
            if id_topics is None:
                raise InvalidArgumentError(
                    "give id_topics (an empty list leaves every topic) or activate_all=True"
                )
            topics = _topic_ids(id_topics)
            if topics:
                params["ID_topics"] = topics
            params["activate_all"] = False
        spec = FUNCTIONS[TOPICS]
        operation = Operation(TOPICS, params, spec.retry_class_for(params), read_topics)
        return self._dispatcher.run(operation, retry, trace)


def _topic_ids(id_topics: object) -> list[int]:
    if isinstance(id_topics, str | bytes | bytearray | Mapping) or not isinstance(
        id_topics, Iterable
    ):
        raise InvalidArgumentError(
            f"id_topics must be a collection of topic IDs (ints), not {type(id_topics).__name__}"
        )
    # dict.fromkeys: each ID once, in the caller's order.
    return list(dict.fromkeys(check_id(topic, name="id_topics") for topic in id_topics))
