"""`ListCalls`: the typed methods of mailing lists and what is sent to them.

adduser, edituser, the mailing-list functions, sendmail. A mixin of `MailkitClient`: each
method checks its arguments, builds one `Operation` and hands it to the client's
dispatcher, as `MailkitClient.wipe` does.

Users pass plain text; the Base64 that adduser, edituser and sendmail want for the
recipient's fields is done here, after the checks, so a bad value never reaches the wire.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from collections.abc import Coroutine, Mapping
from typing import Any, Final

from ._dispatch import CallTrace, Dispatcher
from ._errors import InvalidArgumentError
from ._functions import FUNCTIONS
from ._list_read import (
    ADDUSER,
    CREATE,
    DELETE,
    EDITUSER,
    GETSTATUS,
    LIST,
    SENDMAIL,
    UNSUBSCRIBED,
    read_add_user,
    read_create_mailing_list,
    read_delete_mailing_list,
    read_edit_user,
    read_list_recipients,
    read_mailing_lists,
    read_send_mail,
    read_unsubscribed,
)
from ._list_results import (
    AddUserResult,
    CreateMailingListResult,
    DeleteMailingListResult,
    EditUserResult,
    ListRecipient,
    ListRecipientStatus,
    MailingListInfo,
    SendMailResult,
    UnsubscribedRecipient,
)
from ._operation import Operation
from ._retry import RetryPolicy
from ._validate import (
    check_choice,
    check_count,
    check_flag,
    check_id,
    check_instance,
    check_text,
    checked_arguments,
    describe,
    is_address,
)

__all__ = ["ListCalls"]

#: No page gives a field's maximum; a bound so a mistake cannot send megabytes.
_MAX_FIELD: Final = 10_000
_MAX_ATTACHMENT: Final = 64 * 1024 * 1024  # the API takes 128 MB a request; Base64 adds 1/3
_CUSTOM_FIELDS: Final = range(1, 26)  # custom1 .. custom25
_RECIPIENT_STATUSES: Final = tuple(
    s.value for s in ListRecipientStatus if s is not ListRecipientStatus.UNDOCUMENTED
)
_MAX_PAGE: Final = 10_000  # mailinglist.getstatus: "max. 10000"

_LIST_CLASS: Final = FUNCTIONS[LIST].retry_class
_CREATE_CLASS: Final = FUNCTIONS[CREATE].retry_class
_DELETE_CLASS: Final = FUNCTIONS[DELETE].retry_class
_EDITUSER_CLASS: Final = FUNCTIONS[EDITUSER].retry_class
_GETSTATUS_CLASS: Final = FUNCTIONS[GETSTATUS].retry_class
_UNSUBSCRIBED_CLASS: Final = FUNCTIONS[UNSUBSCRIBED].retry_class
_SENDMAIL_CLASS: Final = FUNCTIONS[SENDMAIL].retry_class


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _address(value: object, name: str) -> str:
    text = check_text(value, name=name, max_length=254).strip()
    if not is_address(text):
        raise InvalidArgumentError(f"{name} is not an email address")
    return text


def _optional_address(value: object, name: str) -> str | None:
    return None if value is None else _address(value, name)


def _encoded(names: tuple[tuple[str, str], ...], values: tuple[object, ...]) -> dict[str, str]:
    """`{wire name: Base64}` of the `values` that are not None; `names` holds each one's
    (wire name, parameter name), in the order XML-RPC sends struct members: the page's.

    Names and values apart: the names are one constant, so a call builds one tuple, not a
    tuple a field (bulk adds leave most fields None).
    """
    section: dict[str, str] = {}
    if values.count(None) == len(values):  # none given: no loop
        return section
    for (wire, name), value in zip(names, values, strict=True):
        if value is not None:
            section[wire] = _b64(check_text(value, name=name, max_length=_MAX_FIELD))
    return section


def _custom(custom: object) -> dict[str, str]:
    """`{1: "text", ...}` -> `{"custom1": Base64, ...}`, by field number."""
    if custom is None:
        return {}
    if not isinstance(custom, Mapping):
        raise InvalidArgumentError(
            f"custom must be a mapping of field number (1-25) to text, not {type(custom).__name__}"
        )
    numbered: dict[int, str] = {}
    for number, text in custom.items():
        if isinstance(number, bool) or not isinstance(number, int) or number not in _CUSTOM_FIELDS:
            raise InvalidArgumentError(
                f"custom keys are field numbers 1-25 (custom1..custom25), not {describe(number)}"
            )
        numbered[number] = check_text(text, name=f"custom[{number}]", max_length=_MAX_FIELD)
    return {f"custom{n}": _b64(numbered[n]) for n in sorted(numbered)}


#: adduser's `address` / sendmail's `contact`, in the wrapper's XML-RPC order.
_ADDRESS: Final = (
    ("nick_name", "nick_name"), ("country", "country"), ("street", "street"),
    ("state", "state"), ("zip", "zip_code"), ("city", "city"), ("mobile", "mobile"),
    ("phone", "phone"), ("fax", "fax"), ("gender", "gender"),
)  # fmt: skip
#: adduser's `personal`.
_ADDUSER_PERSONAL: Final = (
    ("ID_template", "id_template"), ("email_from", "email_from"), ("name_from", "name_from"),
    ("return_url", "return_url"), ("vocative", "vocative"), ("prefix", "prefix"),
    ("first_name", "first_name"), ("last_name", "last_name"), ("email", "email"),
    ("reply_to", "reply_to"), ("company", "company"),
)  # fmt: skip
#: edituser's `personal`.
_EDITUSER_PERSONAL: Final = (
    ("vocative", "vocative"), ("prefix", "prefix"), ("first_name", "first_name"),
    ("last_name", "last_name"), ("reply_to", "reply_to"), ("company", "company"),
)  # fmt: skip
#: sendmail's `recipient` (its page puts last_name before first_name).
_SENDMAIL_RECIPIENT: Final = (
    ("vocative", "vocative"), ("prefix", "prefix"), ("last_name", "last_name"),
    ("first_name", "first_name"), ("reply_to", "reply_to"), ("company", "company"),
)  # fmt: skip


def _date_time(value: object, name: str) -> str:
    if isinstance(value, datetime.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, datetime.date):
        return f"{value:%Y-%m-%d} 00:00:00"
    raise InvalidArgumentError(f"{name} must be a datetime or a date, not {type(value).__name__}")


class ListCalls:
    """Typed calls of mailing lists and sending (a mixin of `MailkitClient`)."""

    __slots__ = ()
    _dispatcher: Dispatcher

    @checked_arguments
    def add_user(
        self,
        list_id: int,
        email: str,
        *,
        double_opt_in: bool = True,
        first_name: str | None = None,
        last_name: str | None = None,
        vocative: str | None = None,
        prefix: str | None = None,
        company: str | None = None,
        reply_to: str | None = None,
        nick_name: str | None = None,
        gender: str | None = None,
        phone: str | None = None,
        mobile: str | None = None,
        fax: str | None = None,
        street: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip_code: str | None = None,
        country: str | None = None,
        custom: Mapping[int, str] | None = None,
        id_template: int | None = None,
        email_from: str | None = None,
        name_from: str | None = None,
        return_url: str | None = None,
        ip_src: str | None = None,
        form_url: str | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, AddUserResult]:
        """Add a recipient to list `list_id`, or update it there (mailinglist.adduser).

        Fields are plain text (the library does the Base64 the API wants); `custom` maps
        field numbers 1-25 to text. With `double_opt_in` (the default) Mailkit emails a
        confirmation link and answers `CONFIRMATION_SENT`; the opt-in email's template,
        sender and landing page are `id_template`, `email_from`/`name_from` and
        `return_url`. `double_opt_in=False` says you hold the recipient's consent: the
        record is inserted or updated at once (an unsubscribed one re-subscribed, as
        revalidate did), answered with its ID and `INSERTED`/`UPDATED`/...

        A confirmation email is never sent twice: with double opt-in a call that may have
        reached Mailkit ends as `OutcomeUnknownError` instead of being repeated; without
        it the call is an upsert and is retried. `ip_src` and `form_url` (where the
        subscription came from) exist only in the JSON API. Many recipients:
        `client.map(lambda a: client.add_user(list_id, a, double_opt_in=False), emails)`.
        """
        params: dict[str, object] = {
            "ID_user_list": str(check_id(list_id, name="list_id")),
            "confirm": check_flag(double_opt_in, name="double_opt_in"),
        }
        template = None if id_template is None else str(check_id(id_template, name="id_template"))
        params["personal"] = _encoded(
            _ADDUSER_PERSONAL,
            (
                template,
                _optional_address(email_from, "email_from"),
                name_from,
                return_url,
                vocative,
                prefix,
                first_name,
                last_name,
                _address(email, "email"),
                _optional_address(reply_to, "reply_to"),
                company,
            ),
        )
        address = _encoded(
            _ADDRESS,
            (nick_name, country, street, state, zip_code, city, mobile, phone, fax, gender),
        )
        if address:
            params["address"] = address
        custom_fields = _custom(custom)
        if custom_fields:
            params["custom"] = custom_fields
        origin: dict[str, str] = {}
        if ip_src is not None:
            text = check_text(ip_src, name="ip_src", max_length=64).strip()
            try:
                origin["ip_src"] = str(ipaddress.ip_address(text))
            except ValueError:
                raise InvalidArgumentError("ip_src is not an IP address") from None
        if form_url is not None:
            origin["form_url"] = check_text(form_url, name="form_url", max_length=2048)
        if origin:
            params["params"] = origin  # plain text, not Base64 (the page's example)
        retry_class = FUNCTIONS[ADDUSER].retry_class_for(params)
        operation = Operation(ADDUSER, params, retry_class, read_add_user)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def edit_user(
        self,
        list_id: int,
        id_email: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        vocative: str | None = None,
        prefix: str | None = None,
        company: str | None = None,
        reply_to: str | None = None,
        nick_name: str | None = None,
        gender: str | None = None,
        phone: str | None = None,
        mobile: str | None = None,
        fax: str | None = None,
        street: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip_code: str | None = None,
        country: str | None = None,
        custom: Mapping[int, str] | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, EditUserResult]:
        """Overwrite fields of recipient `id_email` on list `list_id` (mailinglist.edituser).

        Only the fields given are sent, as plain text (the library does the Base64);
        `custom` maps field numbers 1-25 to text. The address itself cannot be changed
        here. Nothing is emailed, so a call whose answer was lost is sent again.
        """
        params: dict[str, object] = {
            "ID_user_list": str(check_id(list_id, name="list_id")),
            "ID_email": str(check_id(id_email, name="id_email")),
        }
        personal = _encoded(
            _EDITUSER_PERSONAL,
            (vocative, prefix, first_name, last_name, _optional_address(reply_to, "reply_to"),
             company),
        )  # fmt: skip
        address = _encoded(
            _ADDRESS,
            (nick_name, country, street, state, zip_code, city, mobile, phone, fax, gender),
        )
        custom_fields = _custom(custom)
        if not (personal or address or custom_fields):
            raise InvalidArgumentError("edit_user: give at least one field to change")
        for section, values in (
            ("personal", personal),
            ("address", address),
            ("custom", custom_fields),
        ):
            if values:
                params[section] = values
        operation = Operation(EDITUSER, params, _EDITUSER_CLASS, read_edit_user)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def list_mailing_lists(
        self, *, retry: RetryPolicy | None = None, trace: CallTrace | None = None
    ) -> Coroutine[Any, Any, tuple[MailingListInfo, ...]]:
        """The account's mailing lists (mailinglist.list), each with its ID and status."""
        operation = Operation(LIST, {}, _LIST_CLASS, read_mailing_lists)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def create_mailing_list(
        self,
        name: str,
        *,
        description: str | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, CreateMailingListResult]:
        """Create a mailing list (mailinglist.create); the result holds its `list_id`.

        Names are unique: a taken one is answered `LIST_EXISTS`. A call whose answer was
        lost is not repeated (a repeat would only say `LIST_EXISTS`): it ends as
        `OutcomeUnknownError`; look the name up with `list_mailing_lists()`.
        """
        if not check_text(name, name="name", max_length=255).strip():
            raise InvalidArgumentError("name is empty")
        params: dict[str, object] = {"name": name}
        if description is not None:
            params["description"] = check_text(
                description, name="description", max_length=_MAX_FIELD
            )
        operation = Operation(CREATE, params, _CREATE_CLASS, read_create_mailing_list)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def delete_mailing_list(
        self,
        list_id: int,
        *,
        keep_list: bool = False,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, DeleteMailingListResult]:
        """Delete mailing list `list_id` with its recipients (mailinglist.delete).

        `keep_list=True` empties the list and keeps it. A repeat finds nothing to delete,
        so a call whose answer was lost is sent again; after such a retry `INVALID_LIST`
        may mean the first attempt deleted it.
        """
        params = {
            "ID_user_list": str(check_id(list_id, name="list_id")),
            "keep_list": check_flag(keep_list, name="keep_list"),
        }
        operation = Operation(DELETE, params, _DELETE_CLASS, read_delete_mailing_list)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def list_recipients(
        self,
        list_id: int,
        *,
        status: str | None = None,
        changed_since: datetime.date | None = None,
        from_id_email: int | None = None,
        limit: int | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, tuple[ListRecipient, ...]]:
        """The recipients of list `list_id` with their fields (mailinglist.getstatus).

        Filters: `status` (a `ListRecipientStatus` or its value: "enabled", "unknown",
        "temporary", "permanent", "unsubscribe"), `changed_since` (a datetime or date, in
        the account's time). At most `limit` records (1-10000, Mailkit's maximum); page on
        by passing the last record's `id_email` as `from_id_email`, the ID to start from.
        """
        params: dict[str, object] = {"ID_user_list": str(check_id(list_id, name="list_id"))}
        if status is not None:
            params["status"] = str(check_choice(status, name="status", choices=_RECIPIENT_STATUSES))
        if changed_since is not None:
            params["change_date"] = _date_time(changed_since, "changed_since")
        if from_id_email is not None:
            params["ID_email"] = str(check_id(from_id_email, name="from_id_email"))
        if limit is not None:
            params["limit"] = str(check_count(limit, name="limit", maximum=_MAX_PAGE))
        operation = Operation(GETSTATUS, params, _GETSTATUS_CLASS, read_list_recipients)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def list_unsubscribed(
        self,
        *,
        since: datetime.date | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, tuple[UnsubscribedRecipient, ...]]:
        """Who unsubscribed, account-wide, from the day `since` until now
        (mailinglist.unsubscribed); an address may be a phone number (SMS)."""
        params: dict[str, object] = {}
        if since is not None:
            check_instance(since, datetime.date, name="since", what="a date")
            params["range_from"] = f"{since:%Y-%m-%d}"
        operation = Operation(UNSUBSCRIBED, params, _UNSUBSCRIBED_CLASS, read_unsubscribed)
        return self._dispatcher.run(operation, retry, trace)

    @checked_arguments
    def send_mail(
        self,
        list_id: int,
        campaign_id: int,
        send_to: str,
        *,
        subject: str | None = None,
        message_data: str | None = None,
        content: Mapping[str, str] | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        vocative: str | None = None,
        prefix: str | None = None,
        company: str | None = None,
        reply_to: str | None = None,
        nick_name: str | None = None,
        gender: str | None = None,
        phone: str | None = None,
        mobile: str | None = None,
        fax: str | None = None,
        street: str | None = None,
        city: str | None = None,
        state: str | None = None,
        zip_code: str | None = None,
        country: str | None = None,
        custom: Mapping[int, str] | None = None,
        attachment_name: str | None = None,
        attachment_data: bytes | None = None,
        attachment_url: str | None = None,
        retry: RetryPolicy | None = None,
        trace: CallTrace | None = None,
    ) -> Coroutine[Any, Any, SendMailResult]:
        """Send campaign `campaign_id`'s message to `send_to`, a recipient of list `list_id`
        (mailkit.sendmail); the recipient's record is inserted or updated on the way.

        `subject` overrides the campaign's, `message_data` is the message body, `content`
        the template's variables; all plain text (the library does the Base64). An
        attachment is `attachment_name` with its bytes or an `attachment_url`. Check
        `result.status.succeeded`: an unsubscribed recipient is answered, but not sent to.
        Every call sends an email, so one that may have reached Mailkit is never repeated:
        it ends as `OutcomeUnknownError`.
        """
        main: dict[str, object] = {"send_to": _address(send_to, "send_to")}
        if subject is not None:
            main["subject"] = check_text(subject, name="subject", max_length=_MAX_FIELD)
        if message_data is not None:
            # Bodies are large; only the characters UTF-8 cannot carry are refused.
            main["message_data"] = _b64(
                check_text(message_data, name="message_data", max_length=_MAX_ATTACHMENT)
            )
        if content is not None:
            if not isinstance(content, Mapping):
                raise InvalidArgumentError(
                    f"content must be a mapping of variable name to text, not "
                    f"{type(content).__name__}"
                )
            variables = {}
            for key, text in content.items():
                variable = check_text(key, name="content variable name", max_length=255)
                if not variable:
                    raise InvalidArgumentError("content variable names must not be empty")
                variables[variable] = _b64(
                    check_text(text, name=f"content[{variable!r}]", max_length=_MAX_FIELD)
                )
            if variables:
                main["content"] = variables
        params: dict[str, object] = {
            "mailinglist_id": str(check_id(list_id, name="list_id")),
            "campaign_id": str(check_id(campaign_id, name="campaign_id")),
            "main": main,
        }
        recipient = _encoded(
            _SENDMAIL_RECIPIENT,
            (vocative, prefix, last_name, first_name, _optional_address(reply_to, "reply_to"),
             company),
        )  # fmt: skip
        contact = _encoded(
            _ADDRESS,
            (nick_name, country, street, state, zip_code, city, mobile, phone, fax, gender),
        )
        attachment = _attachment(attachment_name, attachment_data, attachment_url)
        for section, values in (
            ("recipient", recipient),
            ("contact", contact),
            ("custom", _custom(custom)),
            ("attachment", attachment),
        ):
            if values:
                params[section] = values
        operation = Operation(SENDMAIL, params, _SENDMAIL_CLASS, read_send_mail)
        return self._dispatcher.run(operation, retry, trace)


def _attachment(name: object, data: object, url: object) -> dict[str, str]:
    """sendmail's `attachment`: `url` and `name` plain, `data` Base64."""
    # Each value's own check first, so the error names the parameter that is wrong.
    attachment: dict[str, str] = {}
    if name is not None:
        attachment["name"] = check_text(name, name="attachment_name", max_length=255)
    if url is not None:
        attachment["url"] = check_text(url, name="attachment_url", max_length=2048)
    if data is not None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidArgumentError(f"attachment_data must be bytes, not {type(data).__name__}")
        if len(data) > _MAX_ATTACHMENT:
            raise InvalidArgumentError(
                f"attachment_data is larger than {_MAX_ATTACHMENT // (1024 * 1024)} MB"
            )
        attachment["data"] = base64.b64encode(data).decode("ascii")
    if attachment and name is None:
        raise InvalidArgumentError("attachment_name is required with an attachment")
    if attachment and len(attachment) == 1:
        raise InvalidArgumentError("an attachment needs attachment_data or attachment_url")
    return attachment
