"""`record_maker`: the readers' constructor of frozen results builds what `__init__` builds."""

from __future__ import annotations

import attrs
import pytest

from mailkit_async import RevalidateResult, RevalidateStatus, WipeResult, WipeStatus
from mailkit_async._records import record_maker


@pytest.mark.parametrize(
    ("cls", "status"),
    [(WipeResult, WipeStatus.QUEUED), (RevalidateResult, RevalidateStatus.UNKNOWN)],
)
def test_a_made_record_equals_the_one_init_builds(cls: type, status: object) -> None:
    made = record_maker(cls)(status, "OK", 7, "a@example.com", 0)
    built = cls(status=status, message="OK", id_email=7, email="a@example.com", error_status=0)
    assert type(made) is cls
    assert made == built
    assert hash(made) == hash(built)
    assert repr(made) == repr(built)


def test_a_made_record_stays_frozen() -> None:
    made = record_maker(WipeResult)(WipeStatus.QUEUED, "OK", None, None, None)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.message = "changed"  # type: ignore[misc]


def test_classes_whose_init_does_more_are_refused() -> None:
    @attrs.frozen
    class Checked:
        value: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen
    class Converted:
        value: int = attrs.field(converter=int)

    @attrs.frozen
    class PostInit:
        value: int

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.define(slots=False)
    class Unslotted:
        value: int

    for cls in (Checked, Converted, PostInit, Unslotted, dict):
        with pytest.raises(TypeError):
            record_maker(cls)
