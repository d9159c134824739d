"""The library's XML-RPC against Python's own SimpleXMLRPCServer, strict and with allow_none.

Proves, over real loopback HTTP and for every function the table gives an XML-RPC order
(so a function added to the table joins automatically): the server takes the call, and it
receives each position as its documented type, absent ones as that type's empty value and
never `<nil/>`; a client_id an `<int>` would change arrives as the text given; wipe and
revalidate read the server's answers; and what this server cannot write (an int past 32 bits)
becomes a typed fault, not a crash. The other stacks are in test_xmlrpc_stacks_optional.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import mailkit_async as mk
from mailkit_async import _functions as mk_functions
from tests._xmlrpc_stacks import (
    CLIENT_IDS,
    CLIENT_MD5,
    Case,
    RunningStack,
    disagreements,
    function_cases,
    python_stack,
)

CASES = function_cases()


@pytest.fixture(scope="module", params=[False, True], ids=["strict", "allow_none"])
def stack(request: pytest.FixtureRequest) -> Iterator[RunningStack]:
    with python_stack(allow_none=request.param) as running:
        yield running


def test_the_table_gives_cases_for_every_ordered_function() -> None:
    assert {"mailkit.email.wipe", "mailkit.email.revalidate"} <= {case.function for case in CASES}
    # Nothing to send only where the function takes nothing (or, with only the required
    # positions filled, requires nothing).
    for case in CASES:
        order = mk_functions.FUNCTIONS[case.function].xmlrpc_order or ()
        needed = order if case.id.endswith("[all]") else [s for s in order if s.required]
        assert bool(case.expected) == bool(needed), case.id


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_each_position_arrives_as_its_documented_type(
    stack: RunningStack, case: Case
) -> None:
    async with stack.client() as mailkit:
        await mailkit.call(case.function, case.params)
    received = stack.last_call(case.function)
    assert received[0] == {"type": "int", "value": 12345}
    assert received[1] == {"type": "string", "value": CLIENT_MD5}
    assert disagreements(received[2:], case.expected) == []
    assert all(value["type"] != "nil" for value in received)


@pytest.mark.parametrize("client_id", list(CLIENT_IDS))
async def test_client_id_arrives_unchanged(stack: RunningStack, client_id: str) -> None:
    async with stack.client(client_id=client_id) as mailkit:
        await mailkit.wipe("a@example.com")
    kind, value = CLIENT_IDS[client_id]
    assert stack.last_call("mailkit.email.wipe")[0] == {"type": kind, "value": value}


@pytest.mark.parametrize(
    ("recipient", "sent"), [(12345678, "12345678"), ("a@example.com", "a@example.com")]
)
async def test_wipe_is_sent_as_one_string_and_its_answer_read(
    stack: RunningStack, recipient: int | str, sent: str
) -> None:
    async with stack.client() as mailkit:
        result = await mailkit.wipe(recipient)
    assert stack.last_call("mailkit.email.wipe")[2:] == [{"type": "string", "value": sent}]
    assert result.status is mk.WipeStatus.QUEUED
    assert (result.email, result.id_email) == (sent, 12345678)


async def test_revalidate_is_sent_whole_with_empty_strings(stack: RunningStack) -> None:
    async with stack.client() as mailkit:
        result = await mailkit.revalidate("a@example.com", agreement=False, language="en")
    assert [(p["type"], p["value"]) for p in stack.last_call("mailkit.email.revalidate")[2:]] == [
        ("string", "a@example.com"),
        ("string", ""),  # ID_message: XML-RPC has no empty <int>
        ("boolean", False),
        ("string", ""),
        ("string", ""),  # the dummy placeholder
        ("string", "en"),
    ]
    assert result.status is mk.RevalidateStatus.CONFIRMATION_SENT


async def test_integers_past_32_bits_go_as_i8_which_this_server_reads(
    stack: RunningStack,
) -> None:
    async with stack.client() as mailkit:
        await mailkit.call("mailkit.test.i8", [2**40, -(2**63)])
    assert stack.last_call("mailkit.test.i8")[2:] == [
        {"type": "int", "value": 2**40},
        {"type": "int", "value": -(2**63)},
    ]


async def test_an_answer_this_server_cannot_write_is_a_typed_fault(stack: RunningStack) -> None:
    # xmlrpc.client refuses ints past 32 bits; the server answers a fault, and we raise it.
    async with stack.client() as mailkit:
        with pytest.raises(mk.XmlRpcFaultError) as caught:
            await mailkit.call("mailkit.test.int40", [])
    assert caught.value.fault_code == 1
    assert "OverflowError" in caught.value.fault_string


async def test_a_fault_and_an_empty_struct_are_read(stack: RunningStack) -> None:
    async with stack.client() as mailkit:
        with pytest.raises(mk.XmlRpcFaultError) as caught:
            await mailkit.call("mailkit.test.fault", [])
        assert await mailkit.call("mailkit.test.empty_struct", []) == {}
    assert (caught.value.fault_code, caught.value.fault_string) == (4, "Too many parameters")


async def test_send_nil_sends_nil_to_a_server_that_reads_it(stack: RunningStack) -> None:
    # Python's server reads <nil/> in a request whatever allow_none says (that governs
    # answers); the option exists for servers like this one.
    async with stack.client(protocol=mk.XmlRpcCodec(send_nil=True)) as mailkit:
        await mailkit.call("mailkit.test.nil", [None])
        await mailkit.revalidate("a@example.com", agreement=True)
    assert stack.last_call("mailkit.email.revalidate")[3] == {"type": "nil", "value": None}
    assert stack.records()[-2]["params"][2] == {"type": "nil", "value": None}
