"""Building the frozen result records cheaply on the hot path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["record_maker"]

T = TypeVar("T")


def record_maker(cls: type[T]) -> Callable[..., T]:
    """A constructor of the frozen, slotted attrs class `cls` taking every field in order.

    attrs' generated `__init__` of a frozen class sets each field through a bound
    `object.__setattr__`; this one sets the slots directly, about half the cost, which the
    readers pay once per call. It runs no validator, converter or post-init hook, so `cls`
    must have none: that is checked here, once.
    """
    if not attrs.has(cls) or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__name__} is not a slotted attrs class")
    fields = attrs.fields(cls)
    if hasattr(cls, "__attrs_post_init__") or any(
        f.validator is not None or f.converter is not None for f in fields
    ):
        raise TypeError(f"{cls.__name__} validates or converts its fields: use its __init__")
    names = [field.name for field in fields]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    namespace.update({f"_set_{name}": vars(cls)[name].__set__ for name in names})
    # Generated, as attrs generates __init__: a fixed sequence of calls, no loop.
    source = (
        f"def make({', '.join(names)}):\n    record = _new(_cls)\n"
        + "".join(f"    _set_{name}(record, {name})\n" for name in names)
        + "    return record\n"
    )
    exec(source, namespace)  # noqa: S102 - the source is built from field names alone
    maker: Callable[..., T] = namespace["make"]
    maker.__qualname__ = f"record_maker({cls.__name__})"
    return maker
