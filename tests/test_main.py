"""`python -m mailkit_async`: the README's first command and the command's front door."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ._cli_support import CLIENT_MD5, read_report, run_cli

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "examples" / "recipients.txt"


def test_wipe_sample_against_emulator_both_protocols(tmp_path: Path) -> None:
    """Each address queued once, the duplicate sent once, the bad line reported: exit 1."""
    for protocol in ("json", "xmlrpc"):
        report = tmp_path / f"{protocol}.csv"
        done = run_cli(
            "wipe", "--emulator", "--protocol", protocol, str(SAMPLE),
            "--journal", str(tmp_path / f"{protocol}.sqlite"), "--report", str(report),
        )  # fmt: skip
        assert done.returncode == 1, done.stderr  # a line needs attention
        rows = read_report(report)
        assert sorted(row["status"] for row in rows) == ["invalid_input"] + ["queued"] * 7
        assert "line 12: 'not-an-address' is not an email address or ID_email" in done.stderr
        assert "line 10: jane.doe@example.com repeats line 2 (sent once)" in done.stderr
        assert "7 recipients, 1 invalid line, 1 duplicate line" in done.stdout


def test_standard_input_all_good_exits_zero(tmp_path: Path) -> None:
    done = run_cli(
        "wipe", "--emulator", "-", "--journal", str(tmp_path / "j.sqlite"), "--json",
        stdin="a@example.com\nb@example.com\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["statuses"] == {"queued": 2}
    assert summary["exit_code"] == 0


def test_standard_input_needs_a_journal() -> None:
    done = run_cli("wipe", "--emulator", "-", stdin="a@example.com\n")
    assert done.returncode == 2
    assert "--journal" in done.stderr


def test_missing_credentials_say_how_to_give_them(tmp_path: Path) -> None:
    """Without --emulator and without credentials: exit 2 and a clear message, no journal."""
    source = tmp_path / "in.txt"
    source.write_text("a@example.com\n", encoding="utf-8")
    done = run_cli("wipe", str(source), credentials=False)
    assert done.returncode == 2
    assert "MAILKIT_CLIENT_ID" in done.stderr
    assert "--client-md5-file" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == [source]


def test_md5_on_the_command_line_is_refused_without_echo(tmp_path: Path) -> None:
    for form in (["--client-md5", CLIENT_MD5], [f"--client-md5={CLIENT_MD5}"]):
        done = run_cli("wipe", str(tmp_path / "x.txt"), *form, credentials=False)
        assert done.returncode == 2
        assert "--client-md5-file" in done.stderr
        assert CLIENT_MD5 not in done.stdout + done.stderr


def test_help_documents_exit_statuses() -> None:
    done = run_cli("wipe", "--help")
    assert done.returncode == 0
    for code in ("0 ", "1 ", "2 ", "130", "143"):
        assert f"\n  {code}" in done.stdout
    assert "MAILKIT_CLIENT_MD5" in done.stdout


def test_call_prints_the_answer_as_json() -> None:
    done = run_cli("call", "mailkit.mailinglist.list", "--emulator")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["NAME"] == "Default"
    status = run_cli(
        "call", "mailkit.email.getstatus", "--param", "email=not-an-address", "--emulator"
    )
    assert status.returncode == 1
    assert "ApiError" in status.stderr
    bad = run_cli("call", "mailkit.mailinglist.list", "--param", "oops", "--emulator")
    assert bad.returncode == 2
    assert "KEY=VALUE" in bad.stderr


def test_library_import_does_not_load_the_cli() -> None:
    code = (
        "import sys, mailkit_async, mailkit_async.testing;"
        "print(sorted(m for m in sys.modules if m.split('.')[:2] == ['mailkit_async', '_cli']"
        " or m in ('sqlite3', 'csv', 'argparse')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
