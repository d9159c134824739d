"""Bad arguments, to every option of every subcommand: one line on stderr, exit status 2,
nothing sent. Property tests run the command in-process against the emulator on loopback."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mailkit_async._cli import main
from mailkit_async._cli._call import MAX_DEPTH, parse_params
from mailkit_async._cli._exit import CliError

from ._cli_support import (
    CLIENT_ID,
    CLIENT_MD5,
    ServedEmulator,
    one_line_error,
    run_cli,
    served_emulator,
)


@pytest.fixture(scope="module")
def server() -> Iterator[ServedEmulator]:
    with served_emulator() as served, pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAILKIT_CLIENT_ID", CLIENT_ID)
        patch.setenv("MAILKIT_CLIENT_MD5", CLIENT_MD5)
        yield served


def run_main(argv: list[str], where: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(where)  # relative paths in the arguments stay in `where`
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: --help, or a usage error
                code = exc.code if isinstance(exc.code, int) else 0
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


def check(server: ServedEmulator, argv: list[str], where: Path) -> int:
    """Any outcome but a bad one: a run, or a one-line refusal that sent nothing."""
    before = server.read(lambda emu: len(emu.calls))
    code, out, err = run_main(argv, where)
    sent = server.read(lambda emu: len(emu.calls)) - before
    assert "Traceback" not in err
    assert code in (0, 1, 2), (code, err)
    if code == 2 and "refused the credentials" not in out:  # Mailkit's refusal comes back
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("mailkit-async"), lines[0]
        assert sent == 0, (argv, err)
    return code


# Whatever argv can hold: no NUL, and on POSIX undecodable bytes arrive as lone surrogates.
text = st.one_of(
    st.text(st.characters(blacklist_characters="\x00"), max_size=30),
    st.sampled_from(["", " ", "-", "--", "\udcff", "a\ud800b", "é" * 300, "x" * 5000]),
)
numbers = st.one_of(
    st.integers().map(str),
    st.floats().map(repr),
    st.sampled_from(
        ["0", "-1", "1e999", "nan", "inf", "9" * 5000, "\u0661\u0660", "1_0", " 5 ", "0x10"]
    ),
    text,
)
# Never a URL that could reach beyond this machine.
bad_urls = st.one_of(
    text.filter(lambda value: not value.lower().startswith(("http://", "https://"))),
    st.sampled_from(
        ["http://", "https://", "http://[::1", "http://h:99999", "http://h:x", "http:// a",
         "http://\x1b[31m", "ftp://example.com", "http://\udcff"]
    ),
)  # fmt: skip
# Relative names only, so nothing lands outside the test's directory.
names = text.filter(lambda value: not value.startswith(("/", "~")) and ".." not in value)

ALWAYS_BAD = frozenset({"--base-url", "--client-md5"})  # their strategies make no good value
CONNECTION = {
    "--protocol": text,
    "--base-url": bad_urls,
    "--client-id": text,
    "--client-md5-file": names,
    "--client-md5": text,
    "--max-retries": numbers,
}
JOB = {
    **CONNECTION,
    "--journal": names,
    "--report": names,
    "--concurrency": numbers,
    "--rate": numbers,
    "--grace": numbers,
    "INPUT": names,
}
REVALIDATE = {**JOB, "--channel": text, "--language": text}
CALL = {**CONNECTION, "FUNCTION": text, "--param": text}


def argv_for(command: str, option: str, value: str, where: Path, base_url: str) -> list[str]:
    source = where / "in.txt"
    source.write_text("jane@example.com\n", encoding="utf-8")
    positional = {"wipe": "in.txt", "revalidate": "in.txt", "call": "mailkit.mailinglist.list"}
    first = value if option in ("INPUT", "FUNCTION") else positional[command]
    argv = [command, "--", first] if first.startswith("-") else [command, first]
    if option != "--base-url":
        argv += ["--base-url", base_url]
    if command == "revalidate":
        argv.append("--agreement")
    if command != "call":
        argv.append("--quiet")
    if option not in ("INPUT", "FUNCTION"):
        argv.insert(1, f"{option}={value}")
    return argv


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def any_option(
    command: str,
    options: dict[str, st.SearchStrategy[str]],
    data: st.DataObject,
    server: ServedEmulator,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    option = data.draw(st.sampled_from(sorted(options)), label="option")
    value = data.draw(options[option], label="value")
    where = tmp_path_factory.mktemp("arg")
    code = check(server, argv_for(command, option, value, where, server.base_url), where)
    event(f"{option} exit {code}")
    if option in ALWAYS_BAD:
        assert code == 2, (option, value)


@SETTINGS
@given(data=st.data())
def test_any_value_of_any_wipe_option_runs_or_is_refused_in_one_line(
    server: ServedEmulator, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    any_option("wipe", JOB, data, server, tmp_path_factory)


@SETTINGS
@given(data=st.data())
def test_any_value_of_any_revalidate_option_runs_or_is_refused_in_one_line(
    server: ServedEmulator, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    any_option("revalidate", REVALIDATE, data, server, tmp_path_factory)


@SETTINGS
@given(data=st.data())
def test_any_value_of_any_call_option_runs_or_is_refused_in_one_line(
    server: ServedEmulator, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    any_option("call", CALL, data, server, tmp_path_factory)


@pytest.mark.parametrize(
    "value",
    [
        "a:=" + "[" * 20_000 + "]" * 20_000,
        "a:=" + "9" * 5_000,
        "a:=" + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        "a:=9223372036854775808",
        "a:=1e400",
        "a:=NaN",
        "a:=-Infinity",
        'a:={"b": 1, "b": 2}',
        'a:="\\u0000"',
        'a:="\\ud800"',
        "a:=[1,",
        "a:=",
        "=x",
        "noequals",
    ],
)
def test_a_bad_param_is_one_line_exit_2_and_nothing_sent(value: str) -> None:
    with served_emulator() as served:
        done = run_cli(
            "call", "mailkit.mailinglist.list", "--base-url", served.base_url, "--param", value
        )
        calls = served.read(lambda emu: emu.calls)
    assert done.returncode == 2
    assert "--param" in one_line_error(done)
    assert calls == []


def test_params_in_range_are_sent_as_given() -> None:
    deep = "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH
    params = parse_params(["a=x", f"b:={deep}", "c:=9223372036854775807", 'd:={"e": [true, null]}'])
    assert params["a"] == "x"
    assert params["c"] == 2**63 - 1
    assert params["d"] == {"e": [True, None]}
    assert json.dumps(params["b"]).count("[") == MAX_DEPTH


def test_a_repeated_param_is_refused() -> None:
    with pytest.raises(CliError, match="given twice"):
        parse_params(["a=1", "a:=2"])


@settings(max_examples=500, deadline=None)
@given(pairs=st.lists(st.one_of(text, text.map(lambda value: "k:=" + value)), max_size=4))
def test_parse_params_returns_or_refuses_never_fails(pairs: list[str]) -> None:
    try:
        params = parse_params(pairs)
    except CliError as exc:
        message = str(exc)
    else:
        assert len(params) <= len(pairs)
        return
    assert "\n" not in message
    assert len(message) < 300


@pytest.mark.parametrize(
    "argv",
    [
        ["wipe", "in.txt", "--concurrency", "0"],
        ["wipe", "in.txt", "--concurrency", "1001"],
        ["wipe", "in.txt", "--concurrency", "9" * 5000],
        ["wipe", "in.txt", "--rate", "0"],
        ["wipe", "in.txt", "--rate", "1e-300"],
        ["wipe", "in.txt", "--grace", "inf"],
        ["wipe", "in.txt", "--max-retries", "-1"],
        ["wipe", "in.txt", "--base-url", "http://[::1"],
        ["wipe", "in.txt", "--base-url=--"],
        ["wipe", "in.txt", "--concurrency=--"],
        ["wipe", "in.txt", "--journal=--"],
        ["wipe", "in.txt", "--protocol", "soap"],
        ["wipe", "in.txt", "--journal", ":memory:"],
        ["wipe", "in.txt", "--report", "r.txt"],
        ["wipe", "in.txt", "--journal", "@j.csv", "--report", "@j.csv"],
        ["wipe", "@in.csv", "--report", "@in.csv"],
        ["revalidate", "in.txt"],
        ["revalidate", "in.txt", "--agreement", "--language", "xx"],
        ["revalidate", "in.txt", "--agreement", "--channel", "a\nb"],
        ["call"],
        ["call", "not a function"],
        ["frobnicate"],
    ],
)
def test_bad_options_are_one_line_before_anything_is_sent(tmp_path: Path, argv: list[str]) -> None:
    source = tmp_path / "in.txt"
    source.write_text("jane@example.com\n", encoding="utf-8")
    (tmp_path / "in.csv").write_text("email\njane@example.com\n", encoding="utf-8")
    # "@name" is a file in the test's directory.
    argv = [str(tmp_path / arg[1:]) if arg[:1] == "@" else arg for arg in argv]
    argv = [str(source) if arg == "in.txt" else arg for arg in argv]
    with served_emulator() as served:
        local = (
            () if any(a.startswith("--base-url") for a in argv) else ("--base-url", served.base_url)
        )
        done = run_cli(*argv, *local)
        calls = served.read(lambda emu: emu.calls)
    assert done.returncode == 2
    assert "cannot read" not in one_line_error(done)  # refused for what is wrong, not the input
    assert calls == []
