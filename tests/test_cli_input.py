"""Reading job input: CSV exports, plain text, line numbers, invalid values, and hostile
exports (huge lines and fields, unbalanced quotes) that cost bounded memory and swallow no
other line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailkit_async._cli._input import (
    MAX_LINE,
    MAX_RECORD_LINES,
    HashingReader,
    InputLine,
    open_input,
    parse_input,
    physical_lines,
)


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


def test_a_line_too_long_is_one_invalid_line_and_never_read_whole() -> None:
    text = "a@example.com\n" + "y" * 5_000_000 + "\nb@example.com\n"
    lines = parse(text)
    assert summary(lines) == [
        (1, "a@example.com", "email", None),
        (2, None, None, "a line longer than 100,000 characters"),
        (3, "b@example.com", "email", None),
    ]
    assert len(lines[1].raw) == 120


def test_an_oversized_csv_field_is_its_own_invalid_record() -> None:
    text = "email,note\na@example.com," + "x" * 200_000 + "\nb@example.com,fine\n"
    assert summary(parse(text)) == [
        (2, None, None, "a line longer than 100,000 characters"),
        (3, "b@example.com", "email", None),
    ]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("length", [MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE + 2])
def test_line_numbers_hold_at_the_size_limit(ending: str, length: int) -> None:
    """Whatever the line break, and wherever the limit falls in it (CR | LF included)."""
    text = ending.join(["a@example.com", "y" * length, "b@example.com", "c@example.com"])
    lines = parse(text)
    assert [(line.line, line.recipient) for line in lines] == [
        (1, "a@example.com"),
        (2, None),
        (3, "b@example.com"),
        (4, "c@example.com"),
    ]
    expected = "a line longer than" if length > MAX_LINE else "not an email address"
    assert (lines[1].problem or "").startswith(expected)


UNBALANCED = 'a record whose quote (") does not close where it should'


def test_an_unbalanced_quote_swallows_no_other_record() -> None:
    """The quote never closes: the record is invalid, the lines after it are records."""
    text = 'email,name\n"broken@example.com,Jane\n' + "".join(
        f"a{n}@example.com,x\n" for n in range(10)
    )
    lines = parse(text)
    assert summary(lines)[0] == (2, None, None, UNBALANCED)
    assert [(line.line, line.recipient) for line in lines[1:]] == [
        (n + 3, f"a{n}@example.com") for n in range(10)
    ]


def test_a_quote_closed_by_a_later_stray_quote_swallows_nothing() -> None:
    """Closed further down, the recipient's cell would hold line breaks: not a record."""
    text = 'email,name\n"a@example.com,Jane\nb@example.com,Bob\n"c@example.com",Carl\n'
    assert summary(parse(text)) == [
        (2, None, None, UNBALANCED),
        (3, "b@example.com", "email", None),
        (4, "c@example.com", "email", None),
    ]


def test_a_quoted_cell_may_not_span_more_than_the_record_limit() -> None:
    body = "".join(f"note line {n}\n" for n in range(MAX_RECORD_LINES + 5))
    text = f'email,note\na@example.com,"{body}"\nb@example.com,x\n'
    lines = parse(text)
    assert summary(lines)[0] == (2, None, None, UNBALANCED)
    assert lines[-1].recipient == "b@example.com"
    assert lines[-1].line == MAX_RECORD_LINES + 8
    # A long but plausible note is still one record.
    body = "".join(f"note line {n}\n" for n in range(MAX_RECORD_LINES - 5))
    lines = parse(f'email,note\na@example.com,"{body}"\nb@example.com,x\n')
    assert [(line.line, line.recipient) for line in lines] == [
        (2, "a@example.com"),
        (MAX_RECORD_LINES - 2, "b@example.com"),
    ]


def test_quoted_and_plain_records_read_alike() -> None:
    plain = parse("email,name\na@example.com,Jane\n12345678,x\n")
    quoted = parse('email,name\n"a@example.com","Jane"\n"12345678","x"\n')
    assert summary(plain) == summary(quoted)


lines_of_text = st.lists(
    st.text(alphabet=st.sampled_from('ab@.,;"\t \r\n#x1'), max_size=30), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(body=lines_of_text, header=st.sampled_from(["", "email,name\n", "name;ID_email\n"]))
def test_any_input_gives_rows_in_order_within_its_lines(body: list[str], header: str) -> None:
    """Never an exception; at most one row a line, in order, each within the input."""
    text = header + "\n".join(body)
    physical = len(list(physical_lines(io.StringIO(text, newline=""))))
    for csv_hint in (False, True):
        numbers = [line.line for line in parse(text, csv_hint=csv_hint)]
        assert numbers == sorted(set(numbers))
        assert all(1 <= number <= physical for number in numbers)


@settings(max_examples=200, deadline=None)
@given(
    body=st.lists(
        st.one_of(
            st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True),
            st.text(alphabet=st.sampled_from('ab@.,"x '), max_size=20),
        ),
        max_size=30,
    )
)
def test_every_plain_line_of_a_text_input_is_a_row(body: list[str]) -> None:
    text = "".join(f"{line}\n" for line in body)
    rows = {line.line: line for line in parse(text)}
    for number, line in enumerate(body, start=1):
        value = line.strip()
        assert (number in rows) == bool(value and not value.startswith("#"))
