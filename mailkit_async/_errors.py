"""The exception hierarchy.

```
MailkitError
├── InvalidArgumentError        bad input, raised before any request is sent (also a ValueError
│                               and a TypeError)
├── ConfigurationError          the client cannot be built as asked
│   ├── MissingCredentialsError
│   └── UnknownFunctionOrderError   XML-RPC call of a function with no known positional order
├── AuthenticationError         "Unauthorized" or "Disallowed IP <ip>", on any call
├── ApiError                    the API answered a known error string to `call()`
├── TransportError              the exchange itself failed
│   ├── ConnectError            never reached the service: safe to resend
│   ├── RequestTimeoutError     connect/pool timeouts never left; read/write ones may have
│   ├── ConnectionDroppedError  the connection broke after the request may have been sent
│   ├── OutcomeUnknownError     an unsafe call may have acted; it was not sent again
│   └── HTTPStatusError         a non-2xx answer
│       └── RateLimitedError    429 (carries `retry_after`)
└── ProtocolError               the answer is not what the protocol promises
    ├── MalformedResponseError  not valid JSON / XML-RPC, or a shape the function never has
    ├── ForbiddenXMLError       DTDs, entities, external references
    ├── ResponseTooLargeError   over the size cap, compressed or not
    └── XmlRpcFaultError        a well-formed `<fault>`
```

`TransportError.request_sent` says whether the service may have acted: `False` means the
request provably never left (connect failures, pool timeouts), which is what makes a resend of
a non-idempotent call safe. No exception here ever carries the md5 or the encoded request body.
"""

from __future__ import annotations

import builtins

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "ConnectError",
    "ConnectionDroppedError",
    "ForbiddenXMLError",
    "HTTPStatusError",
    "InvalidArgumentError",
    "MailkitError",
    "MalformedResponseError",
    "MissingCredentialsError",
    "OutcomeUnknownError",
    "ProtocolError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "TransportError",
    "UnknownFunctionOrderError",
    "XmlRpcFaultError",
]


class MailkitError(Exception):
    """Base class of every error this library raises.

    `function` names the API function of the call that failed, where there was one; it is
    added by the layer that knows the call, so `str()` reads "mailkit.email.wipe: ...".
    Every MailkitError pickles and unpickles whole (for process pools and task queues).
    """

    function: str | None = None

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.function}: {text}" if self.function else text

    def __reduce__(self) -> tuple[object, ...]:
        # The constructors take keyword-only context, which BaseException's own reduce
        # (cls(*args)) cannot pass back; the state is restored as it was instead.
        return (_rebuild, (type(self), self.args), self.__dict__)


def _rebuild(cls: type[MailkitError], args: tuple[object, ...]) -> MailkitError:
    error = cls.__new__(cls)
    error.args = args
    return error


class InvalidArgumentError(MailkitError, ValueError, TypeError):
    """An argument was rejected before any request was sent.

    Both a ValueError and a TypeError: a wrong value and a wrong type (or an unknown keyword)
    are refused alike, and code catching either builtin keeps working.
    """


class ConfigurationError(MailkitError):
    """The client or a call was configured in a way that cannot work."""


class MissingCredentialsError(ConfigurationError):
    """No client ID or MD5 was given, and the environment does not provide one."""


class UnknownFunctionOrderError(ConfigurationError):
    """An XML-RPC call needs positional parameters, and this function's order is unknown."""

    def __init__(self, function: str) -> None:
        super().__init__(
            "its XML-RPC parameter order is not known; pass the parameters as "
            "a list in the documented positional order (without client_id and client_md5), "
            "or use protocol='json'"
        )
        self.function = function


class AuthenticationError(MailkitError):
    """The API refused the credentials (`Unauthorized`) or the caller's IP (`Disallowed IP`)."""

    def __init__(self, message: str, *, function: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.function = function


class ApiError(MailkitError):
    """The API answered a documented error string to a generic `call()`."""

    def __init__(
        self, message: str, *, function: str | None = None, error_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.function = function
        self.error_status = error_status


class TransportError(MailkitError):
    """The HTTP exchange failed. `request_sent` is False only when it provably never left."""

    request_sent: bool = True

    def __init__(self, message: str, *, function: str | None = None) -> None:
        super().__init__(message)
        self.function = function


class ConnectError(TransportError):
    """The connection could not be made; the service never saw the request."""

    request_sent = False


class RequestTimeoutError(TransportError, builtins.TimeoutError):
    """A timeout expired. Connect and pool timeouts never sent the request."""

    def __init__(
        self, message: str, *, request_sent: bool, function: str | None = None
    ) -> None:
        super().__init__(message, function=function)
        self.request_sent = request_sent


class ConnectionDroppedError(TransportError):
    """The connection broke mid-exchange; the service may or may not have acted."""


class OutcomeUnknownError(TransportError):
    """The call may have reached Mailkit, and repeating it could act twice, so it was not.

    Raised instead of a retry for functions that are not safe to repeat (revalidate without
    agreement sends an email). The underlying failure is `__cause__`.
    """


class HTTPStatusError(TransportError):
    """The service answered with a non-2xx HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        retry_after: float | None = None,
        function: str | None = None,
    ) -> None:
        super().__init__(message, function=function)
        self.status_code = status_code
        self.retry_after = retry_after


class RateLimitedError(HTTPStatusError):
    """HTTP 429. `retry_after` holds the server's requested wait in seconds, if it gave one."""


class ProtocolError(MailkitError):
    """The answer broke the protocol: undecodable, hostile, oversized or of the wrong shape."""

    def __init__(self, message: str, *, function: str | None = None) -> None:
        super().__init__(message)
        self.function = function


class MalformedResponseError(ProtocolError):
    """The body is not valid JSON / XML-RPC, or has a shape the function never answers with."""


class ForbiddenXMLError(ProtocolError):
    """The XML contained a DTD, an entity declaration or an external reference."""


class ResponseTooLargeError(ProtocolError):
    """The body (after decompression) exceeded the configured size cap."""


class XmlRpcFaultError(ProtocolError):
    """The XML-RPC answer was a `<fault>`.

    `fault_code` is an int as the specification asks, or the string some servers send
    (XMLRPC::Lite's "Client", "Server"); both values are kept as the server sent them.
    """

    def __init__(
        self, fault_code: int | str, fault_string: str, *, function: str | None = None
    ) -> None:
        code = fault_code if isinstance(fault_code, int) else repr(fault_code)
        super().__init__(f"XML-RPC fault {code}: {fault_string}", function=function)
        self.fault_code = fault_code
        self.fault_string = fault_string
