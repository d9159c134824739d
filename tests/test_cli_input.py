"""Reading job input: CSV exports, plain text, line numbers, invalid values."""

from __future__ import annotations

import io
from pathlib import Path

from mailkit_async._cli._input import HashingReader, InputLine, open_input, parse_input


def parse(text: str, *, csv_hint: bool = False) -> list[InputLine]:
    return list(parse_input(io.StringIO(text, newline=""), csv_hint=csv_hint))


def summary(lines: list[InputLine]) -> list[tuple[int, str | None, str | None, str | None]]:
    return [(line.line, line.recipient, line.kind, line.problem) for line in lines]


def test_plain_text_skips_blank_and_comment_lines_keeping_numbers() -> None:
    lines = parse("# header\n\njane@example.com\n  12345678  \nnot-an-address\n")
    assert summary(lines) == [
        (3, "jane@example.com", "email", None),
        (4, "12345678", "id", None),
        (5, None, None, "not an email address or ID_email"),
    ]
    assert lines[2].raw == "not-an-address"


def test_duplicate_keys_ignore_address_case_and_id_zeros() -> None:
    lines = parse("Jane@Example.com\njane@example.com\n0042\n42\n")
    assert [line.key for line in lines] == ["jane@example.com"] * 2 + ["#42"] * 2
    assert lines[0].recipient == "Jane@Example.com"  # sent as given


def test_ids_out_of_range_are_invalid() -> None:
    lines = parse("0\n9223372036854775808\n" + "9" * 5000 + "\n")
    assert [line.problem for line in lines] == ["not a valid ID_email"] * 3


def test_csv_with_email_column_ignores_other_columns() -> None:
    text = "name,email,city\r\nJane,jane@example.com,Brno\r\nBob,,Praha\r\n"
    assert summary(parse(text)) == [
        (2, "jane@example.com", "email", None),
        (3, None, None, "no recipient"),
    ]


def test_csv_id_email_column_semicolons_and_bom(tmp_path: Path) -> None:
    """A spreadsheet export: a byte order mark, semicolons (as in Czech locales)."""
    source = tmp_path / "export.csv"
    source.write_bytes("\ufeffName;ID_email\nJane;12345678\nBob;bob@example.com\n".encode())
    text, _ = open_input(str(source))
    with text:
        lines = list(parse_input(text))
    assert summary(lines) == [
        (2, "12345678", "id", None),
        (3, None, None, "not an ID_email"),
    ]


def test_csv_email_column_refuses_numbers() -> None:
    lines = parse("email\n12345678\n")
    assert lines[0].problem == "a number where an email address belongs"


def test_csv_both_columns_prefers_a_filled_email() -> None:
    text = "ID_email,email\n1,a@example.com\n2,\n"
    assert summary(parse(text)) == [(2, "a@example.com", "email", None), (3, "2", "id", None)]


def test_csv_quoted_field_over_two_lines_reports_the_first_line() -> None:
    text = 'email,note\na@example.com,"two\nlines"\nb@example.com,x\n'
    assert [(line.line, line.recipient) for line in parse(text)] == [
        (2, "a@example.com"),
        (4, "b@example.com"),
    ]


def test_csv_name_without_header_takes_the_first_column() -> None:
    lines = parse("a@example.com,Jane\n12345678,Bob\n", csv_hint=True)
    assert summary(lines) == [(1, "a@example.com", "email", None), (2, "12345678", "id", None)]


def test_text_with_commas_is_not_a_csv_without_a_header() -> None:
    assert parse("a@example.com,Jane\n")[0].problem == "not an email address or ID_email"


def test_control_characters_are_invalid() -> None:
    assert parse("a\x1b[31m@example.com\n")[0].problem == "not an email address or ID_email"


def test_long_invalid_lines_are_cut_for_display() -> None:
    line = parse("x" * 1000 + "\n")[0]
    assert len(line.raw) == 120


def test_hashing_reader_fingerprints_what_was_read() -> None:
    import hashlib

    data = b"a@example.com\n" * 10_000
    reader = HashingReader(io.BytesIO(data))
    text = io.TextIOWrapper(io.BufferedReader(reader), encoding="utf-8", newline="")
    assert len(list(parse_input(text))) == 10_000
    assert reader.sha256.hexdigest() == hashlib.sha256(data).hexdigest()


def test_empty_input() -> None:
    assert parse("") == []
    assert parse("\n\n# nothing\n") == []
