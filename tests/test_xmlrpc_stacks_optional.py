"""The library's XML-RPC against the Perl, Ruby and PHP servers Debian packages, where present.

Each stack runs as a real loopback server from `tests/xmlrpc_stacks/` and logs what it
received; a stack that is not installed is skipped (CI need not install them). Proves, for
every function the table gives an XML-RPC order: each stack takes the call and receives each
position as its documented type (as far as the stack keeps types), absent ones as the type's
empty value; wipe and revalidate read each stack's own answers (XMLRPC::Lite and Frontier type
an echoed "12345678" as an int); and each stack's known limits (`<i8>`, `<nil/>`, ints past
32 bits, empty structs) end as the documented outcome, a typed error and never a crash.

    apt-get install libfrontier-rpc-perl libxmlrpc-lite-perl librpc-xml-perl \\
        ruby ruby-xmlrpc php-cli php-xmlrpc
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import mailkit_async as mk
from tests._xmlrpc_stacks import (
    CLIENT_IDS,
    CLIENT_MD5,
    Case,
    RunningStack,
    Wire,
    disagreements,
    function_cases,
    served_methods,
)

HERE = Path(__file__).parent / "xmlrpc_stacks"
CASES = function_cases()

#: name -> (the command, given the port; a command that exits 0 only if the stack is installed).
STACKS: dict[str, tuple[list[str], list[str]]] = {
    "frontier": (["perl", str(HERE / "frontier.pl")], ["perl", "-MFrontier::RPC2", "-e1"]),
    "xmlrpc-lite": (["perl", str(HERE / "lite.pl")], ["perl", "-MXMLRPC::Lite", "-e1"]),
    "rpc-xml": (["perl", str(HERE / "rpcxml.pl")], ["perl", "-MRPC::XML::Server", "-e1"]),
    "ruby": (["ruby", str(HERE / "server.rb")], ["ruby", "-rxmlrpc/server", "-e1"]),
    "ruby-nil": (["ruby", str(HERE / "server.rb")], ["ruby", "-rxmlrpc/server", "-e1"]),
    "php": (
        ["php", "-S", "127.0.0.1:{port}", str(HERE / "server.php")],
        ["php", "-r", "exit(function_exists('xmlrpc_server_create') ? 0 : 1);"],
    ),
}

# What each stack does with what it cannot carry (the server limits the README lists).
# "read": the value arrives; "refused": the call fails with a typed library error.
I8_REQUEST = {
    "frontier": "refused",  # "wanted a data type, got `i8'"
    "xmlrpc-lite": "refused",  # "wrong element 'i8'"
    "rpc-xml": "read",
    "ruby": "read",
    "ruby-nil": "read",
    "php": "null",  # xmlrpc-epi decodes <i8> as NULL, silently
}
NIL_REQUEST = {
    "frontier": "refused",  # "wanted a data type, got `nil'"
    "xmlrpc-lite": "read",
    "rpc-xml": "read",
    "ruby": "refused",  # HTTP 500 unless ENABLE_NIL_PARSER
    "ruby-nil": "read",
    "php": "read",
}
#: What the library reads when a stack answers 2**40 in its own way.
INT40_ANSWER: dict[str, object] = {
    "frontier": 2**40,  # as <i4>1099511627776</i4>
    "xmlrpc-lite": 2**40,  # as <int>
    "rpc-xml": 2**40,  # as <i8>
    "ruby": mk.HTTPStatusError,  # 500: Ruby writes no int past 32 bits without ENABLE_BIGINT
    "ruby-nil": mk.HTTPStatusError,
    "php": 0,  # xmlrpc-epi writes the low 32 bits, silently: nothing a client can tell
}
#: The fault code each stack writes for a method that raises.
FAULT_CODE: dict[str, object] = {
    "frontier": 4,
    "xmlrpc-lite": "Server",  # a string faultCode
    "rpc-xml": 300,
    "ruby": 4,
    "ruby-nil": 4,
    "php": 4,
}


def _installed(probe: list[str]) -> bool:
    if shutil.which(probe[0]) is None:
        return False
    return subprocess.run(probe, capture_output=True, timeout=30, check=False).returncode == 0


INSTALLED = {name for name, (_, probe) in STACKS.items() if _installed(probe)}
if not INSTALLED:
    pytest.skip(
        "no XML-RPC stack installed (Frontier::RPC2, XMLRPC::Lite, RPC::XML, Ruby xmlrpc, PHP)",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start listening")


@pytest.fixture(scope="module", params=list(STACKS))
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    name = str(request.param)
    command, probe = STACKS[name]
    if name not in INSTALLED:
        pytest.skip(f"{name}: not installed ({' '.join(probe)} failed)")
    folder = tmp_path_factory.mktemp(name)
    port = _free_port()
    env = {
        **os.environ,
        "STACK_PORT": str(port),
        "STACK_LOG": str(folder / "calls.jsonl"),
        "STACK_METHODS": ",".join(served_methods()),
        "STACK_NIL": "1" if name == "ruby-nil" else "0",
    }
    with (folder / "stderr.txt").open("wb") as errors:
        process = subprocess.Popen(
            [part.format(port=port) for part in command],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        try:
            _wait_for(port, process)
            yield RunningStack(name, f"http://127.0.0.1:{port}", _log=folder / "calls.jsonl")
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_each_position_arrives_as_its_documented_type(
    stack: RunningStack, case: Case
) -> None:
    async with stack.client() as mailkit:
        await mailkit.call(case.function, case.params)
    received = stack.last_call(case.function)
    assert disagreements(received, (("int", 12345), ("string", CLIENT_MD5), *case.expected)) == []


@pytest.mark.parametrize("client_id", list(CLIENT_IDS))
async def test_client_id_arrives_unchanged(stack: RunningStack, client_id: str) -> None:
    async with stack.client(client_id=client_id) as mailkit:
        await mailkit.wipe("a@example.com")
    assert disagreements(stack.last_call("mailkit.email.wipe")[:1], (CLIENT_IDS[client_id],)) == []


@pytest.mark.parametrize(
    ("recipient", "sent"), [(12345678, "12345678"), ("a@example.com", "a@example.com")]
)
async def test_wipe_reads_the_stacks_own_answer(
    stack: RunningStack, recipient: int | str, sent: str
) -> None:
    # Frontier and XMLRPC::Lite type the echoed "12345678" by its look: it comes back <int>.
    async with stack.client() as mailkit:
        result = await mailkit.wipe(recipient)
    assert disagreements(stack.last_call("mailkit.email.wipe")[2:], (("string", sent),)) == []
    assert result.status is mk.WipeStatus.QUEUED
    assert (result.email, result.id_email, result.error_status) == (sent, 12345678, 0)


async def test_revalidate_is_taken_and_read(stack: RunningStack) -> None:
    async with stack.client() as mailkit:
        result = await mailkit.revalidate("a@example.com", agreement=False)
    expected: tuple[Wire, ...] = (("string", "a@example.com"), ("string", ""), ("boolean", False))
    expected += (("string", ""),) * 3
    assert disagreements(stack.last_call("mailkit.email.revalidate")[2:], expected) == []
    assert result.status is mk.RevalidateStatus.CONFIRMATION_SENT


async def test_a_fault_is_read_with_the_stacks_own_code(stack: RunningStack) -> None:
    async with stack.client() as mailkit:
        with pytest.raises(mk.XmlRpcFaultError) as caught:
            await mailkit.call("mailkit.test.fault", [])
    assert caught.value.fault_code == FAULT_CODE[stack.name]
    assert "Too many parameters" in caught.value.fault_string


async def test_an_unknown_method_is_a_typed_fault(stack: RunningStack) -> None:
    async with stack.client() as mailkit:
        with pytest.raises(mk.XmlRpcFaultError) as caught:
            await mailkit.call("mailkit.test.unknown", [])
    assert isinstance(caught.value.fault_code, int | str)


async def test_an_int_past_32_bits_in_an_answer(stack: RunningStack) -> None:
    expected = INT40_ANSWER[stack.name]
    async with stack.client() as mailkit:
        if isinstance(expected, type):
            with pytest.raises(expected):
                await mailkit.call("mailkit.test.int40", [])
        else:
            assert await mailkit.call("mailkit.test.int40", []) == expected


async def test_an_empty_struct_in_an_answer(stack: RunningStack) -> None:
    async with stack.client() as mailkit:
        value = await mailkit.call("mailkit.test.empty_struct", [])
    # xmlrpc-epi writes an empty PHP array as <array>: a server limit, kept documented.
    assert value == ([] if stack.name == "php" else {})


async def test_an_i8_in_a_request(stack: RunningStack) -> None:
    outcome = I8_REQUEST[stack.name]
    async with stack.client() as mailkit:
        if outcome == "refused":
            with pytest.raises(mk.XmlRpcFaultError):
                await mailkit.call("mailkit.test.i8", [2**40])
            return
        await mailkit.call("mailkit.test.i8", [2**40])
    received = stack.last_call("mailkit.test.i8")[2]
    wire = ("nil", None) if outcome == "null" else ("int", 2**40)
    assert disagreements([received], (wire,)) == []


async def test_nil_only_where_asked_for(stack: RunningStack) -> None:
    outcome = NIL_REQUEST[stack.name]
    async with stack.client() as mailkit:
        await mailkit.call("mailkit.test.nil", [None])  # by default: the empty string
    assert disagreements(stack.last_call("mailkit.test.nil")[2:], (("string", ""),)) == []
    async with stack.client(protocol=mk.XmlRpcCodec(send_nil=True)) as mailkit:
        if outcome == "refused":
            with pytest.raises((mk.XmlRpcFaultError, mk.HTTPStatusError)):
                await mailkit.call("mailkit.test.nil", [None])
            return
        await mailkit.call("mailkit.test.nil", [None])
    assert disagreements(stack.last_call("mailkit.test.nil")[2:], (("nil", None),)) == []
