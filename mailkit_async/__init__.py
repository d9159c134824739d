"""An asyncio client for the Mailkit email platform API, over JSON or XML-RPC.

```python
import mailkit_async as mk

async with mk.MailkitClient(protocol="json") as client:
    result = await client.wipe("jane@example.com")
    result.status  # mk.WipeStatus.QUEUED
```
"""

from ._batch import Batch, BatchSummary, Outcome
from ._client import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, MailkitClient
from ._codec import Codec, Params
from ._dispatch import CallTrace, RetryEvent
from ._errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    ConnectionDroppedError,
    ForbiddenXMLError,
    HTTPStatusError,
    InvalidArgumentError,
    MailkitError,
    MalformedResponseError,
    MissingCredentialsError,
    OutcomeUnknownError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ResponseTooLargeError,
    TransportError,
    UnknownFunctionOrderError,
    XmlRpcFaultError,
)
from ._functions import RetryClass
from ._json_codec import JsonCodec
from ._list_results import (
    AddUserResult,
    AddUserStatus,
    CreateMailingListResult,
    CreateMailingListStatus,
    DeleteMailingListResult,
    DeleteMailingListStatus,
    EditUserResult,
    EditUserStatus,
    ListRecipient,
    ListRecipientStatus,
    MailingListInfo,
    MailingListStatus,
    SendMailResult,
    SendMailStatus,
    UnsubscribedRecipient,
)
from ._recipient_results import (
    DeleteResult,
    DeleteStatus,
    HistoryEntry,
    HistoryResponse,
    HistoryResult,
    HistoryStatus,
    LookupStatus,
    MoveResult,
    MoveStatus,
    RecipientRecord,
    RecipientState,
    RecipientStatus,
    SubscriptionStatus,
    TopicsResult,
    TopicsStatus,
    UnsubscribeResult,
    UnsubscribeStatus,
    UnsubscribeStatusResult,
)
from ._results import RevalidateResult, WipeResult
from ._retry import RetryPolicy
from ._statuses import RevalidateStatus, WipeStatus
from ._version import __version__
from ._xmlrpc_codec import XmlRpcCodec

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "AddUserResult",
    "AddUserStatus",
    "ApiError",
    "AuthenticationError",
    "Batch",
    "BatchSummary",
    "CallTrace",
    "Codec",
    "ConfigurationError",
    "ConnectError",
    "ConnectionDroppedError",
    "CreateMailingListResult",
    "CreateMailingListStatus",
    "DeleteMailingListResult",
    "DeleteMailingListStatus",
    "DeleteResult",
    "DeleteStatus",
    "EditUserResult",
    "EditUserStatus",
    "ForbiddenXMLError",
    "HTTPStatusError",
    "HistoryEntry",
    "HistoryResponse",
    "HistoryResult",
    "HistoryStatus",
    "InvalidArgumentError",
    "JsonCodec",
    "ListRecipient",
    "ListRecipientStatus",
    "LookupStatus",
    "MailingListInfo",
    "MailingListStatus",
    "MailkitClient",
    "MailkitError",
    "MalformedResponseError",
    "MissingCredentialsError",
    "MoveResult",
    "MoveStatus",
    "Outcome",
    "OutcomeUnknownError",
    "Params",
    "ProtocolError",
    "RateLimitedError",
    "RecipientRecord",
    "RecipientState",
    "RecipientStatus",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "RetryClass",
    "RetryEvent",
    "RetryPolicy",
    "RevalidateResult",
    "RevalidateStatus",
    "SendMailResult",
    "SendMailStatus",
    "SubscriptionStatus",
    "TopicsResult",
    "TopicsStatus",
    "TransportError",
    "UnknownFunctionOrderError",
    "UnsubscribeResult",
    "UnsubscribeStatus",
    "UnsubscribeStatusResult",
    "UnsubscribedRecipient",
    "WipeResult",
    "WipeStatus",
    "XmlRpcCodec",
    "XmlRpcFaultError",
    "__version__",
]

# Tracebacks and reprs say `mailkit_async.WipeStatus`, not the private module it lives in.
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("mailkit_async._"):
        _obj.__module__ = "mailkit_async"
del _name, _obj
