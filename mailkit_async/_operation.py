"""`Operation`: one API call ready to send, and how to read its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from ._codec import Params
from ._functions import RetryClass

__all__ = ["Operation"]

R = TypeVar("R")


class Operation(NamedTuple, Generic[R]):
    """What the dispatcher needs of one call: the function, its parameters (checked), how
    safe a repeat is, and the reading that turns the decoded answer into the result.

    A NamedTuple: typed methods build one per call, and a tuple is the cheapest record.
    """

    function: str
    params: Params
    retry_class: RetryClass
    read: Callable[[object], R]
