"""Argument checks that run before any request is sent.

Every message names the parameter and says what is wrong, never echoing a value: values are
addresses (personal data) or, next to them, the md5.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import math
import re
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple, NoReturn, TypeVar

from ._credentials import Credentials
from ._errors import InvalidArgumentError

__all__ = [
    "ANY_CODEC",
    "JSON_PARAMS",
    "LANGUAGES",
    "MAX_NESTING",
    "XMLRPC_PARAMS",
    "ParamRules",
    "check_call",
    "check_choice",
    "check_codec_call",
    "check_codec_reply",
    "check_count",
    "check_flag",
    "check_id",
    "check_instance",
    "check_language",
    "check_params",
    "check_recipient",
    "check_seconds",
    "check_text",
    "checked_arguments",
    "checked_init",
    "describe",
    "is_address",
    "unchecked",
]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

#: Languages of the opt-in confirmation email (DOC revalidate).
LANGUAGES: Final = frozenset({"cs", "en", "de", "ru", "pl", "sk", "hu"})

#: How deep call parameters may nest, the params mapping (or list) itself being level 1.
#: Mailkit's own parameters nest three levels at most; answers are held to the same bound.
MAX_NESTING: Final = 32

# Deliberately plain: one @, no whitespace or controls, a dotted domain. RFC 5322's quoted
# local parts are not worth a parser here; Mailkit stores ordinary addresses.
_ADDRESS: Final = re.compile(
    r"[^\s@\"(),:;<>\[\\\]\x00-\x1f\x7f]{1,64}@"
    r"(?=.{1,253}$)(?:[^\s@\"(),:;<>\[\\\]\x00-\x1f\x7f.]+\.)+[^\s@\"(),:;<>\[\\\]\x00-\x1f\x7f.]{2,}"
)
#: E.164: a plus, a country code and the number, 15 digits at most, no spaces.
_PHONE: Final = re.compile(r"\+[1-9][0-9]{6,14}")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_FUNCTION: Final = re.compile(r"mailkit(?:\.[a-z0-9_]+)+")
_MAX_ID: Final = 2**63 - 1


def is_address(text: str) -> bool:
    """True when `text` has the shape of an email address."""
    return len(text) <= 254 and _ADDRESS.fullmatch(text) is not None


def is_phone(text: str) -> bool:
    """True when `text` is a phone number as Mailkit takes one (SMS recipients): in
    international format without spaces, "+420777123456"."""
    return _PHONE.fullmatch(text) is not None


def describe(value: object) -> str:
    """A short, safe description of a rejected value: small scalars shown, the rest by type.

    Never `repr()` of anything large: an int of 5,000 digits cannot even be printed.
    """
    if value is None or isinstance(value, bool):
        return repr(value)
    if type(value) is int and -(10**18) < value < 10**18:
        return repr(value)
    if type(value) is float:
        return repr(value)
    if type(value) is str and len(value) <= 40 and value.isprintable():
        return repr(value)
    return f"a {type(value).__name__}"


def check_recipient(
    recipient: object, *, name: str = "recipient", phone: bool = False
) -> tuple[str, str]:
    """An int is an ID_email, a str an address (or with `phone` a phone number in
    international format): returns the JSON parameter and its value."""
    if isinstance(recipient, bool):
        raise InvalidArgumentError(
            f"{name} must be an address (str) or an ID_email (int), not bool"
        )
    if isinstance(recipient, int):
        # Sent as a decimal string, as the pages' examples do ("ID_email": "12345678").
        return "ID_email", str(check_id(recipient, name=name))
    if not isinstance(recipient, str):
        raise InvalidArgumentError(
            f"{name} must be an address (str) or an ID_email (int), not {type(recipient).__name__}"
        )
    address = recipient.strip()
    if not address:
        raise InvalidArgumentError(f"{name} is empty")
    if not address.isprintable():  # the regexes only for the rare text that is not
        _check_characters(address, name)
    if phone and address.startswith("+") and "@" not in address:
        if not is_phone(address):
            raise InvalidArgumentError(
                f"{name} is not a phone number in international format without spaces "
                "(+420777123456)"
            )
        return "email", address  # Mailkit takes a phone number where an address goes
    if not is_address(address):
        hint = "; pass an int for an ID_email" if address.isdigit() else ""
        what = "an email address or a phone number" if phone else "an email address"
        raise InvalidArgumentError(f"{name} is not {what}{hint}")
    return "email", address


def _check_characters(text: str, name: str) -> None:
    if _CONTROL.search(text):
        raise InvalidArgumentError(f"{name} contains control characters (CR, LF, NUL, ...)")
    if _SURROGATE.search(text):
        raise InvalidArgumentError(f"{name} contains a lone surrogate, which UTF-8 cannot carry")


def check_id(value: object, *, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 < value <= _MAX_ID:
        raise InvalidArgumentError(f"{name} must be a positive 64-bit integer")
    return int(value)


def check_text(value: object, *, name: str, max_length: int = 1000) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be a str, not {type(value).__name__}")
    if not value.isprintable():
        _check_characters(value, name)
    if len(value) > max_length:
        raise InvalidArgumentError(f"{name} is longer than {max_length} characters")
    return value


def check_language(value: object) -> str:
    text = check_text(value, name="language", max_length=8).strip().lower()
    if text not in LANGUAGES:
        hint = " (Czech is 'cs')" if text == "cz" else ""
        raise InvalidArgumentError(
            f"unknown language {describe(value)}; expected one of {', '.join(sorted(LANGUAGES))}"
            f"{hint}"
        )
    return text


def check_flag(value: object, *, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def check_count(value: object, *, name: str, minimum: int = 1, maximum: int = _MAX_ID) -> int:
    """An int from `minimum` to `maximum` (bool refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an int, not {type(value).__name__}")
    if not minimum <= value <= maximum:
        bound = f"from {minimum} to {maximum}" if maximum < _MAX_ID else f">= {minimum}"
        raise InvalidArgumentError(f"{name} must be an int {bound}, got {describe(value)}")
    return int(value)


def check_seconds(value: object, *, name: str, allow_none: bool = False) -> float | None:
    """A finite number of seconds > 0 (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(
            f"{name} must be a number of seconds, not {type(value).__name__}"
        )
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not (seconds > 0 and math.isfinite(seconds)):
        raise InvalidArgumentError(
            f"{name} must be a finite number of seconds > 0, got {describe(value)}"
        )
    return seconds


def check_choice(value: object, *, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        expected = ", ".join(repr(choice) for choice in choices)
        raise InvalidArgumentError(f"{name} must be one of {expected}, not {describe(value)}")
    return value


def check_instance(value: object, kind: type | tuple[type, ...], *, name: str, what: str) -> None:
    """Refuse `value` unless it is a `kind` (or None, when `kind` includes type(None))."""
    if not isinstance(value, kind):
        raise InvalidArgumentError(f"{name} must be {what}, not {type(value).__name__}")


def check_codec_call(function: object, credentials: object) -> None:
    """What a codec's `encode_call` needs besides the parameters: a function name it can
    write and real Credentials."""
    if (
        type(function) is str
        and function
        and function.isprintable()
        and type(credentials) is Credentials
    ):
        return  # every call the dispatcher makes: no regex, no isinstance walk
    if not isinstance(function, str) or not function:
        raise InvalidArgumentError(f"function must be a non-empty str, not {describe(function)}")
    if _CONTROL.search(function) or _SURROGATE.search(function):
        raise InvalidArgumentError(
            "function contains control characters or lone surrogates; no wire format carries "
            "them in a function name"
        )
    if not isinstance(credentials, Credentials):
        raise InvalidArgumentError(
            f"credentials must be Credentials, not {type(credentials).__name__}"
        )


def check_codec_reply(body: object, function: object) -> None:
    """What a codec's `decode_reply` needs: the answer's bytes and the function's name."""
    if type(body) is bytes and type(function) is str and function.isprintable():
        return  # every answer the dispatcher decodes
    if not isinstance(body, bytes | bytearray | memoryview):
        raise InvalidArgumentError(f"body must be bytes, not {type(body).__name__}")
    if not isinstance(function, str):
        raise InvalidArgumentError(f"function must be a str, not {type(function).__name__}")
    if _CONTROL.search(function) or _SURROGATE.search(function):
        raise InvalidArgumentError("function contains control characters or lone surrogates")


def check_call(function: object, params: object, *, rules: ParamRules | None = None) -> None:
    """Checks for the generic `call()`: a well-formed function name and a params container.

    With `rules`, the parameters themselves are walked too (the built-in codecs walk them as
    they encode, so the client asks for this only in front of a custom codec).
    """
    if not isinstance(function, str) or not _FUNCTION.fullmatch(function):
        raise InvalidArgumentError(
            f"function must be a Mailkit function name such as 'mailkit.mailinglist.list', "
            f"not {describe(function)}"
        )
    if isinstance(params, Mapping):
        bad = [key for key in params if not isinstance(key, str)]
        if bad:
            raise InvalidArgumentError(f"{function}: parameter names must be str")
    elif not isinstance(params, Sequence) or isinstance(params, str | bytes | bytearray):
        raise InvalidArgumentError(
            f"{function}: params must be a mapping (named) or a list (XML-RPC positional), "
            f"not {type(params).__name__}"
        )
    if rules is not None:
        check_params(function, params, rules)


# -- the parameters of a call ----------------------------------------------------------------


class ParamRules(NamedTuple):
    """What a wire format can carry in call parameters, beyond str, int, float, bool, None."""

    format: str  # for messages: "JSON", "XML-RPC"
    leaves: tuple[type, ...]  # further leaf types
    bad_text: re.Pattern[str]  # characters a str may not hold
    text_problem: str  # what `bad_text` finds, for messages
    int_bits: int | None  # signed width of an int; None: as many digits as str() allows
    str_keys: bool = True


JSON_PARAMS: Final = ParamRules(
    "JSON", (), re.compile("[\x00\ud800-\udfff]"), "a NUL or a lone surrogate", None
)
XMLRPC_PARAMS: Final = ParamRules(
    "XML-RPC",
    (bytes, bytearray, datetime.datetime),
    re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"),
    "a character XML cannot carry (a control character, a lone surrogate, U+FFFE or U+FFFF)",
    64,
)
#: In front of a custom codec: only what no wire format could mean.
ANY_CODEC: Final = ParamRules(
    "this codec", (object,), re.compile("[\x00\ud800-\udfff]"), "a NUL or a lone surrogate",
    None, str_keys=False,
)

_SMALL: Final = 2**63


def check_params(function: str, params: object, rules: ParamRules) -> None:
    """Refuse the first value in `params` the format cannot carry, naming where it is.

    Iterative, so any nesting is refused cleanly (no RecursionError): deeper than
    MAX_NESTING, a container holding itself, a non-str key, NaN or infinity, an int too long
    for the format, text with NUL or a lone surrogate, a type the format has no form for.
    """
    if type(params) is dict:
        # Most calls: plain values, at the top or in a dict one level down (adduser's
        # `personal`), checked without building a stack.
        for key, value in params.items():
            text = type(value) is str and type(key) is str
            if text and value.isprintable() and key.isprintable():
                continue  # the commonest parameter: no call
            if type(value) is dict and _plain(key, None) and _all_plain(value):
                continue
            if not _plain(key, value):
                break
        else:
            return
    _walk(function, params, rules)


def _all_plain(params: dict[object, object]) -> bool:
    for key, value in params.items():
        if type(value) is str and type(key) is str and value.isprintable() and key.isprintable():
            continue
        if not _plain(key, value):
            return False
    return True


def _plain(key: object, value: object) -> bool:
    if type(key) is not str or not key.isprintable():
        return False
    if type(value) is str:
        return value.isprintable()
    if type(value) is int:
        return -_SMALL <= value < _SMALL
    if type(value) is float:
        return math.isfinite(value)
    return value is None or type(value) is bool


class _Node(NamedTuple):
    value: object
    depth: int
    parent: _Node | None
    key: object  # the key or index under the parent


def _walk(function: str, params: object, rules: ParamRules) -> None:
    stack = [_Node(params, 1, None, None)]
    while stack:
        node = stack.pop()
        value = node.value
        if isinstance(value, Mapping | list | tuple):
            if node.depth > MAX_NESTING:
                _refuse(function, node, _nesting_problem(node))
            if isinstance(value, Mapping):
                for key, member in value.items():
                    if rules.str_keys and not isinstance(key, str):
                        _refuse(
                            function,
                            node,
                            f"has a key of type {type(key).__name__}; keys must be str",
                        )
                    if isinstance(key, str) and rules.bad_text.search(key):
                        _refuse(function, node, f"has a key holding {rules.text_problem}")
                    stack.append(_Node(member, node.depth + 1, node, key))
            else:
                # Reversed, so the first bad item is the one reported.
                stack.extend(
                    _Node(item, node.depth + 1, node, index)
                    for index, item in reversed(list(enumerate(value)))
                )
            continue
        problem = _leaf_problem(value, rules)
        if problem is not None:
            _refuse(function, node, problem)


def _leaf_problem(value: object, rules: ParamRules) -> str | None:
    if isinstance(value, str):
        return f"holds {rules.text_problem}" if rules.bad_text.search(value) else None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _int_problem(value, rules)
    if isinstance(value, float):
        return None if math.isfinite(value) else (
            f"is NaN or infinity, which {rules.format} cannot carry"
        )
    if isinstance(value, rules.leaves):
        return None
    return f"is a {type(value).__name__}, which {rules.format} cannot carry"


def _int_problem(value: int, rules: ParamRules) -> str | None:
    if rules.int_bits is not None:
        bound = 2 ** (rules.int_bits - 1)
        if not -bound <= value < bound:
            return f"is an integer that does not fit {rules.format}'s {rules.int_bits}-bit <i8>"
        return None
    if -_SMALL <= value < _SMALL:
        return None
    limit = sys.get_int_max_str_digits()
    if limit and abs(value) >= 10**limit:
        return f"is an integer of more than {limit} digits, which cannot be written as text"
    return None


def _nesting_problem(node: _Node) -> str:
    ancestor = node.parent
    while ancestor is not None:
        if ancestor.value is node.value:
            return "holds itself; parameters cannot carry cycles"
        ancestor = ancestor.parent
    return f"nests deeper than {MAX_NESTING} levels (the limit for call parameters)"


def _refuse(function: str, node: _Node, problem: str) -> NoReturn:
    raise InvalidArgumentError(f"{function}: {_path(node)} {problem}")


def _path(node: _Node) -> str:
    keys: list[object] = []
    current: _Node | None = node
    while current is not None and current.parent is not None:
        keys.append(current.key)
        current = current.parent
    keys.reverse()
    if len(keys) > 6:  # the first levels say where; the rest would only be noise
        return "params" + "".join(_step(key) for key in keys[:5]) + f"...({len(keys)} levels)"
    return "params" + "".join(_step(key) for key in keys)


def _step(key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"[{key}]"
    if isinstance(key, str):
        text = key if len(key) <= 40 else key[:37] + "..."
        return f"[{text!r}]"
    return f"[<{type(key).__name__}>]"


# -- calls that do not fit a signature -------------------------------------------------------


def checked_arguments(function: F) -> F:
    """Make Python's own TypeError for a call that does not fit `function`'s signature (an
    unknown keyword, a missing or surplus argument) an InvalidArgumentError naming it.

    Costs one plain call per call; the signature is bound only once the call has failed.
    The wrapper keeps no arguments once the call has ended: a traceback records its locals.
    """
    signature = inspect.signature(function)
    name = function.__qualname__

    def refusal(args: tuple[object, ...], kwargs: dict[str, object]) -> InvalidArgumentError | None:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            return InvalidArgumentError(f"{name}(): {exc}")
        return None

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def checked_coroutine(*args: Any, **kwargs: Any) -> Any:
            try:
                coroutine = function(*args, **kwargs)
            except TypeError:
                error = refusal(args, kwargs)
                del args, kwargs
                if error is None:
                    raise
                raise error from None
            del args, kwargs
            return await coroutine

        checked_coroutine.__unchecked__ = function  # type: ignore[attr-defined]
        return checked_coroutine  # type: ignore[return-value]

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except TypeError:
            error = refusal(args, kwargs)
            del args, kwargs
            if error is None:
                raise
            raise error from None
        except BaseException:
            del args, kwargs
            raise

    checked.__unchecked__ = function  # type: ignore[attr-defined]
    return checked  # type: ignore[return-value]


def unchecked(method: F) -> F:
    """The bound `method` without its `checked_arguments` wrapper, for internal hot paths
    that always call it right (the dispatcher's codec calls)."""
    function = getattr(method, "__func__", None)
    raw = getattr(function, "__unchecked__", None)
    if raw is None:
        return method
    return types.MethodType(raw, method.__self__)  # type: ignore[attr-defined, return-value]


def checked_init(cls: C) -> C:
    """`checked_arguments` for a class's (generated) `__init__`: attrs classes, for one."""
    cls.__init__ = checked_arguments(cls.__init__)  # type: ignore[misc]
    return cls
