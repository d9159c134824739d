"""The function table against the API reference and the wrappers' recorded answers.

Proves that every function of the API index is in the table with the retry class the index's
"Safe to repeat?" judgement gives, that every answer string the function pages and the
reference's error table list is in its function's entry, that the 2018 recorded answers
(copies in tests/fixtures/wrapper/) are documented answers of their function, that the wipe
and revalidate classifiers can be derived from the table, and that the README's function
table says what the table says. Tests that read the reference itself (`../shared/mailkit-api/`
beside the repository) skip when it is absent.
"""

from __future__ import annotations

import json
import re
import xmlrpc.client
from pathlib import Path
from typing import Any

import pytest

import mailkit_async as mk
from mailkit_async import MailkitClient, _classify
from mailkit_async._functions import (
    FUNCTIONS,
    GLOBAL_ERRORS,
    GLOBAL_MESSAGES,
    SOURCE_TAGS,
    FunctionSpec,
    Message,
    Protocols,
    RetryClass,
    RetryWhen,
    SentAs,
    SlotKind,
)

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "mailkit-api"
WRAPPER_FIXTURES = Path(__file__).parent / "fixtures" / "wrapper"

needs_reference = pytest.mark.skipif(
    not (REFERENCE / "functions" / "INDEX.md").is_file(),
    reason="the API reference is not beside the repository",
)

# The API index by section (functions.txt), less the browser Event API.
INDEX: dict[str, tuple[str, ...]] = {
    "Campaign management": (
        "mailkit.campaigns.list",
        "mailkit.campaigns.create",
        "mailkit.campaigns.update",
        "mailkit.campaigns.single.schedule",
        "mailkit.campaigns.schedule.list",
        "mailkit.campaigns.schedule.timezone",
        "mailkit.campaigns.schedule.cancel",
        "mailkit.campaigns.messages",
        "mailkit.campaigns.messages.last",
        "mailkit.campaigns.messages.test",
        "mailkit.campaigns.history",
    ),
    "Mailing list management": (
        "mailkit.mailinglist.list",
        "mailkit.mailinglist.create",
        "mailkit.mailinglist.delete",
        "mailkit.mailinglist.adduser",
        "mailkit.mailinglist.edituser",
        "mailkit.mailinglist.import",
        "mailkit.mailinglist.getstatus",
        "mailkit.mailinglist.unsubscribed",
        "mailkit.mailinglist.engagement",
        "mailkit.email.getstatus",
        "mailkit.email.getstatus.history",
        "mailkit.email.move",
        "mailkit.email.delete",
        "mailkit.email.unsubscribe",
        "mailkit.email.unsubscribe.getstatus",
        "mailkit.email.revalidate",
        "mailkit.email.topics",
        "mailkit.email.wipe",
    ),
    "Campaign delivery": (
        "mailkit.sendmail",
        "mailkit.sendmail_mass",
        "mailkit.sendmail_mass.results",
        "mailkit.sendsms",
    ),
    "Reporting": (
        "mailkit.report",
        "mailkit.report.campaign",
        "mailkit.report.message",
        "mailkit.report.message.recipients",
        "mailkit.report.message.feedback",
        "mailkit.report.message.links",
        "mailkit.report.message.links.visitors",
        "mailkit.report.message.bounces",
        "mailkit.report.raw.messages",
        "mailkit.report.raw.bounces",
        "mailkit.report.raw.responses",
    ),
    "Profile": ("mailkit.profile.emails.list", "mailkit.profile.queries.list"),
    "Other": (
        "mailkit.filemanager.upload",
        "mailkit.filemanager.list",
        "mailkit.filemanager.delete",
    ),
}


def test_every_index_function_is_in_the_table_in_its_section() -> None:
    expected = {name: section for section, names in INDEX.items() for name in names}
    assert len(expected) == 49
    assert {name: spec.section for name, spec in FUNCTIONS.items()} == expected


@needs_reference
def test_the_index_list_is_functions_txt() -> None:
    """The list above is the reference's functions.txt, section by section."""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in (REFERENCE / "functions.txt").read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"(\S.*?) \(\d+\)", line)
        if heading:
            current = heading.group(1)
        elif line.startswith("  mailkit."):
            sections.setdefault(current, []).append(line.strip())
    assert {k: tuple(v) for k, v in sections.items()} == INDEX


# -- retry classes ------------------------------------------------------------------------


def index_rows() -> dict[str, tuple[str, str]]:
    """INDEX.md's "Safe to repeat?" and "Why" per function."""
    rows = {}
    text = (REFERENCE / "functions" / "INDEX.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        match = re.match(r"\| \[(mailkit\.[^\]]+)\]", line)
        if match:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[match.group(1)] = (cells[5].strip("*"), cells[6])
    return rows


def expected_retry_class(judgement: str, why: str) -> RetryClass:
    """The index's judgement as a retry class; anything short of "yes" counts as unsafe."""
    if judgement in ("yes", "yes in effect"):
        return RetryClass.SAFE
    assert judgement in ("no", "probably", "unknown", "conditional", "presumably"), judgement
    return RetryClass.UNSAFE


@needs_reference
def test_retry_classes_follow_the_index_judgement() -> None:
    rows = index_rows()
    assert set(rows) == set(FUNCTIONS)
    for name, (judgement, why) in rows.items():
        spec = FUNCTIONS[name]
        assert spec.retry_class is expected_retry_class(judgement, why), name
        # Conditional ones say when a call is safe after all; the others do not.
        assert bool(spec.retry_when) == (judgement == "conditional"), name
        assert spec.retry_reason.startswith(judgement if judgement != "yes" else ""), name


@pytest.mark.parametrize(
    ("function", "params", "expected"),
    [
        ("mailkit.mailinglist.adduser", {"confirm": False}, RetryClass.SAFE),
        ("mailkit.mailinglist.adduser", {"confirm": "false"}, RetryClass.SAFE),
        ("mailkit.mailinglist.adduser", {"confirm": "TRUE"}, RetryClass.UNSAFE),
        ("mailkit.mailinglist.adduser", {}, RetryClass.UNSAFE),  # no documented default
        ("mailkit.email.unsubscribe", {"send_optout": "FALSE"}, RetryClass.SAFE),
        ("mailkit.email.unsubscribe", {}, RetryClass.UNSAFE),  # TRUE is the default
        ("mailkit.email.unsubscribe", {"send_optout": "maybe"}, RetryClass.UNSAFE),
        ("mailkit.email.revalidate", {"agreement": True}, RetryClass.SAFE),
        ("mailkit.email.revalidate", {"agreement": "FALSE"}, RetryClass.UNSAFE),
        ("mailkit.email.wipe", {"email": "x"}, RetryClass.SAFE),
    ],
)
def test_retry_class_of_one_call(
    function: str, params: dict[str, object], expected: RetryClass
) -> None:
    """Conditional functions are safe to repeat only with the flag that sends no email."""
    assert FUNCTIONS[function].retry_class_for(params) is expected


def test_conditions_name_flags() -> None:
    for spec in FUNCTIONS.values():
        for condition in spec.retry_when:
            assert isinstance(condition, RetryWhen)
            assert condition.parameter in spec.flags, spec.name
            assert condition.retry_class is not spec.retry_class, spec.name


# -- the entries that existed before the whole-API table ----------------------------------

# What the table said before, per function: errors, retry class, flags, order known.
BEFORE: dict[str, tuple[frozenset[str], RetryClass, frozenset[str], bool]] = {
    "mailkit.email.wipe": (
        frozenset(
            {
                "Missing ID_email",
                "Invalid ID_email or email",
                "Invalid_ID_email or email",
                "Email has already been inserted",
            }
        ),
        RetryClass.SAFE,
        frozenset(),
        True,
    ),
    "mailkit.email.revalidate": (
        frozenset({"Email is not unsubscribed", "Invalid ID_email or email"}),
        RetryClass.UNSAFE,
        frozenset({"agreement"}),
        True,
    ),
    "mailkit.mailinglist.adduser": (
        frozenset(
            {
                "Missing email",
                "Bad email syntax",
                "Missing ID_mailing_list",
                "Invalid ID_mailing_list",
                "Invalid ID_template",
            }
        ),
        RetryClass.UNSAFE,
        frozenset({"confirm"}),
        True,
    ),
    "mailkit.email.getstatus": (
        frozenset({"Missing ID email", "Invalid ID_email", ""}),
        RetryClass.SAFE,
        frozenset(),
        True,
    ),
    "mailkit.email.unsubscribe": (
        frozenset({"Invalid ID_email or email"}),
        RetryClass.UNSAFE,
        frozenset({"send_optout", "timeout"}),
        True,
    ),
    "mailkit.email.unsubscribe.getstatus": (frozenset(), RetryClass.SAFE, frozenset(), True),
    "mailkit.email.delete": (
        frozenset({"Invalid ID_email or email", "Invalid ID_email"}),
        RetryClass.SAFE,
        frozenset(),
        True,
    ),
    # Corrected: the index says a move is not safe to repeat.
    "mailkit.email.move": (
        frozenset({"Invalid ID_email or email"}),
        RetryClass.UNSAFE,
        frozenset(),
        True,
    ),
    "mailkit.mailinglist.list": (frozenset(), RetryClass.SAFE, frozenset(), True),
    "mailkit.mailinglist.create": (
        frozenset({"Missing name of mailing list", "Mailing list exist"}),
        RetryClass.UNSAFE,
        frozenset(),
        True,
    ),
    "mailkit.mailinglist.delete": (
        frozenset({"Missing ID_user_list", "Invalid ID_user_list"}),
        RetryClass.SAFE,
        frozenset({"keep_list"}),
        True,
    ),
    # Corrected: the edituser page documents the order (with its empty placeholder).
    "mailkit.mailinglist.edituser": (
        frozenset(
            {
                "Missing ID_email",
                "Invalid ID_email",
                "Missing ID_user_list",
                "Invalid ID_user_list",
                "Missing ID_mailing_list",
                "Invalid ID_mailing_list",
            }
        ),
        RetryClass.SAFE,
        frozenset(),
        True,
    ),
    "mailkit.sendmail": (
        frozenset(
            {
                "Missing ID_mailing_list",
                "Invalid ID_mailing_list",
                "Missing ID_message",
                "Invalid ID_message",
                "Missing send_to",
                "Missing sender address",
                "Attachment is not allowed",
            }
        ),
        RetryClass.UNSAFE,
        frozenset(),
        True,
    ),
    # Corrected: the Czech page documents the XML-RPC call (ID_send first).
    "mailkit.report.message.recipients": (
        frozenset({"Missing ID_send", "Invalid ID_send"}),
        RetryClass.SAFE,
        frozenset(),
        True,
    ),
}


@pytest.mark.parametrize("function", sorted(BEFORE))
def test_earlier_entries_keep_their_behaviour(function: str) -> None:
    """Every error string `call()` raised for before it still raises for."""
    errors, retry_class, flags, order_known = BEFORE[function]
    spec = FUNCTIONS[function]
    assert spec.errors >= errors
    assert all(spec.is_error_message(text) for text in errors)
    assert (spec.retry_class, spec.flags) == (retry_class, flags)
    assert (spec.xmlrpc_order is not None) is order_known


def test_revalidate_keeps_its_pattern() -> None:
    spec = FUNCTIONS["mailkit.email.revalidate"]
    assert [p.pattern for p in spec.error_patterns] == [r".+ is not unsubscribed"]
    assert spec.is_error_message("jane@example.cz is not unsubscribed")
    assert spec.is_error_message("12345678 is not unsubscribed")
    assert not spec.is_error_message("Email has been revalidated")


# -- the classifiers are derivable from the table ----------------------------------------


@pytest.mark.parametrize(
    ("function", "table"),
    [("mailkit.email.wipe", _classify.WIPE), ("mailkit.email.revalidate", _classify.REVALIDATE)],
)
def test_classifier_tables_derive_from_the_table(
    function: str, table: _classify.MessageTable[Any]
) -> None:
    """_classify's tables are the function table's texts and status names, nothing more."""
    exact, patterns = FUNCTIONS[function].message_table()
    assert exact == {text: status.name for text, status in table.exact.items()}
    assert [(p.pattern, s) for p, s in patterns] == [(p.pattern, s.name) for p, s in table.patterns]


def test_sent_as_success_derives_from_the_table() -> None:
    """_classify's veto set is the statuses the API sends as success."""
    derived = {
        (name, m.status)
        for name in ("mailkit.email.wipe", "mailkit.email.revalidate")
        for m in FUNCTIONS[name].messages
        if m.sent_as is SentAs.SUCCESS
    }
    assert derived == {
        ("mailkit.email.wipe", "QUEUED"),
        ("mailkit.email.revalidate", "REVALIDATED"),
        ("mailkit.email.revalidate", "CONFIRMATION_SENT"),
    }
    successes = _classify.WIPE.successes | _classify.REVALIDATE.successes
    assert {s.name for s in successes} == {s for _, s in derived}


# -- invariants of every entry ------------------------------------------------------------


# Positions the XML-RPC examples show and the JSON examples do not.
XML_ONLY = {"ID_template"}  # campaigns.single.schedule


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=list(FUNCTIONS))
def test_entry_is_self_consistent(spec: FunctionSpec) -> None:
    assert spec.retry_reason
    assert spec.notes
    if spec.json_params is not None:
        assert len(set(spec.json_params)) == len(spec.json_params)
        assert spec.flags <= set(spec.json_params)
        assert spec.json_top_level <= set(spec.json_params)
        for slot, name in zip(spec.xmlrpc_order or (), spec.xmlrpc_names() or (), strict=True):
            if slot.kind is not SlotKind.PLACEHOLDER and name not in XML_ONLY:
                assert name is None or name in spec.json_params, (spec.name, name)
    for slot in spec.xmlrpc_order or ():
        assert isinstance(slot.kind, SlotKind)
        assert slot.kind is not SlotKind.PLACEHOLDER or not slot.sources
    for message in spec.messages:
        assert SOURCE_TAGS.issuperset(message.sources)
        if isinstance(message.text, re.Pattern):
            assert message.text.fullmatch(message.render("jane@example.com"))
            assert spec.lookup(message.render("12345678")) is message
        elif message.field in ("error", None):
            assert spec.lookup(message.text, message.field) is not None


def test_failure_texts_raise_and_success_texts_do_not() -> None:
    for spec in FUNCTIONS.values():
        for message in spec.messages:
            if message.field == "error" and isinstance(message.text, str):
                assert spec.is_error_message(message.text) is message.failure, message


def test_message_for_prefers_the_protocol_it_was_seen_on() -> None:
    delete = FUNCTIONS["mailkit.email.delete"]
    assert delete.message_for("INVALID_RECIPIENT", Protocols.JSON).text == (
        "Invalid ID_email or email"
    )
    assert delete.message_for("INVALID_RECIPIENT", Protocols.XMLRPC).text == "Invalid ID_email"
    revalidate = FUNCTIONS["mailkit.email.revalidate"]
    assert revalidate.message_for("NOT_UNSUBSCRIBED", Protocols.JSON).render() == (
        "Email is not unsubscribed"
    )
    xml = revalidate.message_for("NOT_UNSUBSCRIBED", Protocols.XMLRPC)
    assert xml.render("jane@example.com") == "jane@example.com is not unsubscribed"
    # A status documented for one protocol only is still the answer on the other.
    assert FUNCTIONS["mailkit.email.getstatus"].message_for("NOT_FOUND", Protocols.JSON).text == ""
    with pytest.raises(KeyError, match="documents no QUEUED"):
        delete.message_for("QUEUED", Protocols.JSON)


def test_integer_answers_are_looked_up_by_field() -> None:
    move = FUNCTIONS["mailkit.email.move"]
    assert move.lookup(1, None).status == "MOVED"  # type: ignore[union-attr]
    assert move.lookup(0, None).failure  # type: ignore[union-attr]
    assert move.lookup(True, None) is None  # a boolean is not the integer 1
    assert move.lookup("1", None) is None
    adduser = FUNCTIONS["mailkit.mailinglist.adduser"]
    assert adduser.lookup(1, "status").status == "INSERTED"  # type: ignore[union-attr]
    assert adduser.lookup(1) is None  # not an `error` text


def test_global_messages_are_the_global_errors() -> None:
    unauthorized, disallowed = GLOBAL_MESSAGES
    assert GLOBAL_ERRORS.fullmatch(unauthorized.render())
    assert GLOBAL_ERRORS.fullmatch(disallowed.render("203.0.113.7"))
    assert disallowed.matches("Disallowed IP 203.0.113.7")
    assert not disallowed.matches("Disallowed IP ")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"status": "queued"}, "UPPER_SNAKE"),
        ({"sources": ("FX-2026",)}, "sources"),
        ({"sources": ()}, "sources"),
        ({"template": "{}"}, "template"),
        ({"text": re.compile("x")}, "template"),
        ({"text": True}, "boolean"),
    ],
)
def test_messages_refuse_bad_entries(kwargs: dict[str, Any], match: str) -> None:
    fields: dict[str, Any] = {
        "text": "OK",
        "sent_as": SentAs.SUCCESS,
        "protocols": Protocols.BOTH,
        "status": "QUEUED",
        "sources": ("DOC",),
    }
    with pytest.raises(ValueError, match=match):
        Message(**{**fields, **kwargs})


def test_a_text_documented_twice_differently_is_refused() -> None:
    ok = Message("OK", SentAs.SUCCESS, Protocols.JSON, "DONE", ("DOC",))
    bad = Message("OK", SentAs.ERROR, Protocols.XMLRPC, "FAILED", ("DOC",))
    with pytest.raises(ValueError, match="documented twice"):
        FunctionSpec("mailkit.x", RetryClass.UNSAFE, messages=(ok, bad))


# -- every string the reference lists is in its function's entry ---------------------------

_SECTION = re.compile(r"^## (.*)$", re.MULTILINE)
# Answer texts that are one word can only be told from parameter names by their form.
_ONE_WORD_ANSWER = re.compile(r"[A-Z][A-Za-z]*")


def _answers_in(token: str, *, one_word: bool = False) -> list[str | int | re.Pattern[str]]:
    """The answer(s) a backticked token shows, if it shows one.

    A one-word token is an answer only where `one_word` says the context holds nothing else
    (the reference's string column): on the pages such words are mostly member names.
    """
    token = token.strip()
    if token in ("''", ""):
        return [""]
    if token.startswith("{"):
        try:
            document = json.loads(token)
        except ValueError:
            return []
        error = document.get("error") if isinstance(document, dict) else None
        return [error] if isinstance(error, str) else []
    match = re.fullmatch(r"<string>(.*)</string>", token)
    if match:
        return [match.group(1)]
    match = re.fullmatch(r"<i4>(-?\d+)</i4>", token)
    if match:
        return [int(match.group(1))]
    if token.startswith("^") and token.endswith("$"):
        return [re.compile(token[1:-1])]
    if token.startswith("<") or re.search(r"\.(xml|json|php)$", token):
        return []
    if " " in token or (one_word and _ONE_WORD_ANSWER.fullmatch(token)):
        # Placeholders like <ip> or <id-or-email> stand for a concrete value.
        return [re.sub(r"<[^>]+>", "jane@example.com", token).replace(" …", " x")]
    return []


def page_answers(text: str) -> set[str | int | re.Pattern[str]]:
    """Answer strings a function page shows in its success, failure and error sections."""
    parts = _SECTION.split(text)
    found: set[str | int | re.Pattern[str]] = set()
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        kind = title.lower()
        if not kind.startswith(("success", "error", "failure")):
            continue
        found.update(m.group(1) for m in re.finditer(r'"error":\s*"([^"]*)"', body))
        found.update(m.group(1) for m in re.finditer(r"bare `<string>([^<]*)</string>`", body))
        if kind.startswith("success"):
            continue
        for line in body.splitlines():
            # In a table, the answer is in the first cells; later ones cite files.
            cells = line.strip().strip("|").split("|")[:2] if line.startswith("|") else [line]
            for cell in cells:
                for token in re.findall(r"`([^`]*)`", cell):
                    found.update(_answers_in(token))
    return found


def documented(spec: FunctionSpec | None, answer: str | int | re.Pattern[str]) -> bool:
    if isinstance(answer, re.Pattern):
        assert spec is not None
        return answer.pattern in [p.pattern for p in spec.error_patterns]
    if spec is not None and (spec.lookup(answer) or spec.lookup(answer, None)):
        return True
    return any(m.matches(answer) for m in GLOBAL_MESSAGES)


@needs_reference
@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_answer_on_the_page_is_in_the_entry(function: str) -> None:
    page = REFERENCE / "functions" / f"{function}.md"
    answers = page_answers(page.read_text(encoding="utf-8"))
    missing = [a for a in answers if not documented(FUNCTIONS[function], a)]
    assert missing == []


def test_the_page_reader_finds_answers() -> None:
    """The extraction above on a page-like text, so it cannot silently find nothing."""
    page = """## Success response
- JSON: `{"error": "OK", "error_status": 0}`; XML: bare `<string>DONE</string>`.
## Errors
| `Missing ID email` | XML bare string (FX-2018 `getstatus.54321.xml`) |
| JSON | `Invalid ID_email or email` (with `error_status` 1) |
| XML | bare `<i4>0</i4>` |
W-MK: `Missing ID_user_list`, `Invalid ID_user_list`; `^.+ is not unsubscribed$`; `''`.
"""
    assert page_answers(page) == {
        "OK",
        "DONE",
        "Missing ID email",
        "Invalid ID_email or email",
        0,
        "Missing ID_user_list",
        "Invalid ID_user_list",
        "",
    } | {re.compile(".+ is not unsubscribed")}


def reference_error_rows() -> list[tuple[str, str, str]]:
    """REFERENCE.md section 5: (function, string cell, protocol cell) per row."""
    text = (REFERENCE / "REFERENCE.md").read_text(encoding="utf-8")
    table = text.split("## 5. Error-string table", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("Function", "---"):
            rows.append((cells[0], cells[1], cells[2]))
    return rows


@needs_reference
def test_every_string_of_the_reference_error_table_is_in_the_table() -> None:
    rows = reference_error_rows()
    assert len(rows) > 20
    for function, strings, protocol in rows:
        spec = None if function == "(any)" else FUNCTIONS[f"mailkit.{function}"]
        answers = [
            a
            for token in re.findall(r"`([^`]*)`", strings)
            for a in _answers_in(token, one_word=True)
        ]
        if strings == "(not found)":  # unsubscribe.getstatus: the reference lists none
            continue
        assert answers, (function, strings)
        for answer in answers:
            assert documented(spec, answer), (function, answer)
            seen_on = {"JSON": Protocols.JSON, "XML": Protocols.XMLRPC}.get(protocol.split()[0])
            if spec is not None and seen_on is not None and isinstance(answer, str):
                message = spec.lookup(answer)
                assert message is not None, (function, answer)
                assert seen_on in message.protocols, (function, answer)


# -- the 2018 recorded answers --------------------------------------------------------------


def load(path: Path) -> Any:
    if path.suffix == ".json":
        return json.loads(path.read_bytes())
    (value,), _ = xmlrpc.client.loads(path.read_bytes())
    return value


OK, ERROR = SentAs.SUCCESS, SentAs.ERROR

# (fixture, the struct member holding the answer or None for a bare one, status, sent as)
RECORDED: list[tuple[str, str | None, str, SentAs]] = [
    ("f6bcb86/json/mailkit.email.revalidate.json", "error", "CONFIRMATION_SENT", OK),
    ("f6bcb86/json/mailkit.mailinglist.adduser.json", "error", "CONFIRMATION_SENT", OK),
    ("f6bcb86/json/mailkit.mailinglist.delete.json", "data", "DELETED", OK),
    ("f6bcb86/json/mailkit.mailinglist.edituser.json", "error", "UPDATED", OK),
    ("f6bcb86/xml/mailkit.email.getstatus.54321.xml", None, "MISSING_RECIPIENT", ERROR),
    ("f6bcb86/xml/mailkit.email.getstatus.doesNotExist.xml", None, "NOT_FOUND", ERROR),
    ("f6bcb86/xml/mailkit.email.revalidate.doesNotExist.xml", None, "NOT_UNSUBSCRIBED", ERROR),
    ("f6bcb86/xml/mailkit.email.revalidate.example@example.cz.xml", None, "REVALIDATED", OK),
    ("f6bcb86/xml/mailkit.email.unsubscribe.doesNotExist.xml", None, "INVALID_RECIPIENT", ERROR),
    ("f6bcb86/xml/mailkit.mailinglist.adduser.12345.xml", None, "CONFIRMATION_SENT", OK),
    ("f6bcb86/xml/mailkit.mailinglist.adduser.54321.xml", None, "INVALID_LIST", ERROR),
    ("f6bcb86/xml/mailkit.mailinglist.delete.12345.xml", "data", "DELETED", OK),
    ("f6bcb86/xml/mailkit.sendmail.12345.xml", "status", "UPDATED", OK),
    ("80fb10e/xml/mailkit.mailinglist.create.exist.xml", None, "LIST_EXISTS", ERROR),
    ("80fb10e/xml/mailkit.mailinglist.create.missingName.xml", None, "MISSING_NAME", ERROR),
    ("80fb10e/xml/mailkit.mailinglist.edituser.12345.xml", None, "UPDATED", OK),
    ("80fb10e/xml/mailkit.sendmail.1.xml", None, "INVALID_CAMPAIGN", ERROR),
    ("80fb10e/xml/mailkit.sendmail.2.xml", None, "INVALID_LIST", ERROR),
    ("80fb10e/xml/mailkit.sendmail.3.xml", None, "ATTACHMENT_NOT_ALLOWED", ERROR),
    ("80fb10e/xml/mailkit.sendmail.54321.xml", None, "MISSING_RECIPIENT", ERROR),
]


def function_of(fixture: str) -> str:
    name = fixture.rsplit("/", 1)[1]
    return next(f for f in sorted(FUNCTIONS, key=len, reverse=True) if name.startswith(f + "."))


@pytest.mark.parametrize(
    ("fixture", "member", "status", "sent_as"), RECORDED, ids=[r[0] for r in RECORDED]
)
def test_recorded_answers_are_documented(
    fixture: str, member: str | None, status: str, sent_as: SentAs
) -> None:
    """Each 2018 answer is its function's documented answer, sent as recorded."""
    value = load(WRAPPER_FIXTURES / fixture)
    answer = value if member is None else value[member]
    if isinstance(answer, str):
        answer = answer.strip()
    message = FUNCTIONS[function_of(fixture)].lookup(answer, member or "error")
    assert message is not None
    assert (message.status, message.sent_as) == (status, sent_as)


def test_every_recorded_answer_file_is_used() -> None:
    """The copies are test data of this module or the emulator's fixture checks."""
    files = {
        str(p.relative_to(WRAPPER_FIXTURES))
        for p in WRAPPER_FIXTURES.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    readme = (WRAPPER_FIXTURES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files)
    assert {r[0] for r in RECORDED} <= files


@needs_reference
def test_recorded_answers_are_byte_copies_of_the_reference() -> None:
    source = REFERENCE / "wrapper-fixtures"
    for path in WRAPPER_FIXTURES.rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert path.read_bytes() == (source / path.relative_to(WRAPPER_FIXTURES)).read_bytes()


# -- the README's function table ------------------------------------------------------------


def readme_rows() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The API's functions", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\| `(mailkit\.[^`]+)` \| ([^|]+) \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = (match.group(2).strip(), match.group(3).strip())
    return rows


#: The recipient family's typed methods, by function.
TYPED_RECIPIENT = {
    "mailkit.email.unsubscribe": "unsubscribe",
    "mailkit.email.unsubscribe.getstatus": "get_unsubscribe_status",
    "mailkit.email.getstatus": "get_status",
    "mailkit.email.getstatus.history": "get_status_history",
    "mailkit.email.delete": "delete_recipient",
    "mailkit.email.move": "move_recipient",
    "mailkit.email.topics": "set_topics",
}


def test_readme_lists_every_function_with_its_support_and_retry_class() -> None:
    typed = {"mailkit.email.wipe", "mailkit.email.revalidate"}
    typed |= {  # the list family's typed methods
        "mailkit.mailinglist.adduser",
        "mailkit.mailinglist.edituser",
        "mailkit.mailinglist.list",
        "mailkit.mailinglist.create",
        "mailkit.mailinglist.delete",
        "mailkit.mailinglist.getstatus",
        "mailkit.mailinglist.unsubscribed",
        "mailkit.sendmail",
    }
    typed |= set(TYPED_RECIPIENT)
    rows = readme_rows()
    assert set(rows) == set(FUNCTIONS)
    for name, (support, retry) in rows.items():
        spec = FUNCTIONS[name]
        if name in TYPED_RECIPIENT:
            method = TYPED_RECIPIENT[name]
            assert support == f"typed: `{method}()`", name
            assert callable(getattr(MailkitClient, method, None)), name
        if name in typed:
            assert support.startswith("typed"), name
            method = re.search(r"`(?:client\.)?(\w+)\(\)`", support)
            assert method is not None, name
            assert callable(getattr(mk.MailkitClient, method.group(1), None)), name
        elif spec.xmlrpc_order is not None:
            assert support == "`call`, named", name
        else:
            assert support == "`call`, list for XML-RPC", name
        assert retry.split(",")[0].split(" ")[0] == f"`{spec.retry_class.value}`", name
        assert ("conditional" in retry) == bool(spec.retry_when), name
