"""Card wording is reviewed content: cards/wording/*.toml, rendered strictly, catalogued.

Every clinician-facing sentence of a rule lives in its wording file (issue 10): the module holds
no prose, every message it names exists, and each profile's text reads in its own language.
"""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path

import jinja2
import pytest

from cards import wording
from cards.catalogue import CATALOGUE_TEXTS
from cards.services import RULE_MODULES
from cards.settings import Profile
from cards.settings import Settings
from cards.wording import WordingError
from service.cli import main


ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "cards" / "rules"
CATALOGUE_ENTRIES = frozenset({"RULE_ID", "TITLE", "HOOKS"})
SHORT = 40  # an identifier, a key or a code; anything longer in a rule module is prose
UK_ONLY = re.compile(
    r"anaemi|haemat|haemoglobin|paediatric|hypokalaemi|oesophag|full blood count"
    r"|aluminium|anaesth|hypovolaem|acidaem|recognis"
)
US_ONLY = re.compile(
    r"\banemi|\bhemat|\bhemoglobin|\bpediatric|hypokalemi|\besophag|complete blood count"
    r"|\baluminum|\banesth|hypovolem|acidem|recogniz"
)

# Names in code (rule ids, settings, the order-code row a site may add in
# cards/valuesets/order-codes.csv), which the catalogue texts quote and no profile respells:
# `hypokalaemia_window_hours` is a setting, not UK English. Only whole names are skipped.
ORDER_CODE_NAMES = ("paediatric_referral",)
IDENTIFIERS = re.compile(
    r"(?<![\w-])("
    + "|".join(
        re.escape(n)
        for n in sorted(
            [m.RULE_ID for m in RULE_MODULES]
            + [f.name for f in fields(Settings)]
            + list(ORDER_CODE_NAMES),
            key=len,
            reverse=True,
        )
    )
    + r")(?![\w-])"
)


def _module(rule_id: str) -> Path:
    return RULES / (rule_id.replace("-", "_") + ".py")


def _prose(path: Path) -> list[str]:
    """Return the string literals of a module longer than SHORT, outside docstrings and the
    catalogue entries (RULE_ID, TITLE, HOOKS)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in CATALOGUE_ENTRIES for t in node.targets
        ):
            skip |= {id(n) for n in ast.walk(node.value)}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and len(node.value) > SHORT
    ]


# How a rule names its own messages through cards.draft.Draft: the method, the prefix it adds,
# and which positional arguments are keys (None: all of them).
DRAFT_KEYS = {
    "say": ("", (0,)),
    "line": ("evidence.", (0,)),
    "each": ("evidence.", (0,)),
    "caveat": ("caveat.", (0,)),
    "act": ("action.", None),
    "card": ("", (1,)),
}


def _named_keys(rule_id: str) -> set[str]:
    """Return the message keys a rule module names: `f"{RULE_ID}.<key>"` literals, and the
    keys given to a `Draft` (every string constant in a key argument, both arms of a choice)."""
    text = _module(rule_id).read_text(encoding="utf-8")
    keys = {f"{rule_id}.{k}" for k in re.findall(r'f"\{RULE_ID\}\.([a-z0-9_.]+)"', text)}
    tree = ast.parse(text)
    # a key chosen before the call: `summary = "summary.a" if critical else "summary.b"`
    chosen = {
        t.id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if (
            node.func.attr not in DRAFT_KEYS
            or isinstance(node.func.value, ast.Name)
            and (node.func.value.id in {"compose", "wording"})
        ):
            continue
        prefix, where = DRAFT_KEYS[node.func.attr]
        args = [a for i, a in enumerate(node.args) if where is None or i in where]
        for arg in args:
            if isinstance(arg, ast.Name) and arg.id in chosen:
                arg = chosen[arg.id]
            for const in ast.walk(arg):
                if isinstance(const, ast.Constant) and isinstance(const.value, str):
                    keys.add(f"{rule_id}.{prefix}{const.value}")
    return keys


@pytest.mark.parametrize("rule_id", [m.RULE_ID for m in RULE_MODULES])
def test_rule_module_holds_no_prose(rule_id):
    """A moved rule keeps logic only: no string literal that reads as a sentence."""
    assert [] == _prose(_module(rule_id))


@pytest.mark.parametrize("rule_id", [m.RULE_ID for m in RULE_MODULES])
def test_every_message_a_rule_names_exists(rule_id):
    """Every rule has a wording file; the keys its module names (f"{RULE_ID}.summary", ...)
    are all in it, and it holds no message the module does not use (its `catalogue.*`
    messages are used by cards/catalogue.py, see the next test)."""
    keys = _named_keys(rule_id)
    assert keys, "a rule names its messages"
    assert keys <= set(wording.MESSAGES), sorted(keys - set(wording.MESSAGES))
    own = {k for k in wording.MESSAGES if k.startswith(rule_id + ".")}
    catalogue = {f"{rule_id}.catalogue.{part}" for part in CATALOGUE_TEXTS}
    assert own - catalogue <= keys, f"messages no code uses: {sorted(own - catalogue - keys)}"


@pytest.mark.parametrize("rule_id", [m.RULE_ID for m in RULE_MODULES])
def test_every_rule_has_its_three_catalogue_messages(rule_id):
    """The wording file holds the rule's catalogue entry (`[catalogue]`: trigger, indicator,
    suggests; docs/rules.md prints them), plain text with no placeholders, and no other
    `catalogue.*` message; the module no longer holds them."""
    own = {k for k in wording.MESSAGES if k.startswith(f"{rule_id}.catalogue.")}
    assert own == {f"{rule_id}.catalogue.{part}" for part in CATALOGUE_TEXTS}
    for key in own:
        assert wording.MESSAGES[key].placeholders == (), key
    text = _module(rule_id).read_text(encoding="utf-8")
    assert not re.search(r"^(TRIGGER|INDICATOR|SUGGESTS)\b", text, re.MULTILINE)


@pytest.mark.parametrize("key", sorted(wording.MESSAGES))
def test_each_profile_reads_in_its_own_language(key):
    """A shared text has neither UK-only nor US-only words (nothing localises it afterwards);
    a `uk` text has no US-only word and a `us` text no UK-only word. A rule id or setting name
    quoted whole (`hypokalaemia_window_hours`) is code, not English, and is not checked."""
    message = wording.MESSAGES[key]
    uk, us = (IDENTIFIERS.sub("<name>", message.source[p]) for p in (Profile.UK, Profile.US))
    assert not UK_ONLY.search(us.lower()), us
    assert not US_ONLY.search(uk.lower()), uk
    if message.shared:
        assert not UK_ONLY.search(uk.lower()), f"{key}: give `uk` and `us` their own wording"


def test_a_name_in_code_is_skipped_but_the_words_beside_it_are_not():
    assert "`<name>` and <name>" == IDENTIFIERS.sub(
        "<name>", "`hypokalaemia_window_hours` and pernicious-anaemia-oral"
    )
    assert "pernicious anaemia" == IDENTIFIERS.sub("<name>", "pernicious anaemia")
    assert "hypokalaemia_window_hours_x" == IDENTIFIERS.sub("<name>", "hypokalaemia_window_hours_x")


@pytest.mark.parametrize("key", sorted(wording.MESSAGES))
def test_every_message_renders_with_its_placeholders_in_both_profiles(key):
    message = wording.MESSAGES[key]
    values = {name: f"<{name}>" for name in message.placeholders}
    for profile in wording.PROFILES:
        text = wording.render(profile, key, **values)
        assert text and "{{" not in text and "{%" not in text
        for name in message.placeholders:
            assert f"<{name}>" in text or "{%" in message.source[profile]


def test_a_missing_value_is_an_error_not_an_empty_string():
    with pytest.raises(jinja2.UndefinedError):
        wording.render(Profile.UK, "vegan-diet-supplement.action.advise")


def test_a_summary_message_fits_a_card_once_rendered():
    """Card.summary holds at most 139 characters: the limit applies to the rendered text, with
    as cards render it."""
    for key, message in wording.MESSAGES.items():
        if key.endswith(".summary") and not message.placeholders:
            for profile in wording.PROFILES:
                assert len(wording.render(profile, key)) <= 139, key


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[summary]\ntext = "Hello {{ name"\n', "summary (uk)"),
        ('[summary]\nuk = "Anaemia"\n', "summary needs `text`, or both `uk` and `us`"),
        ('[summary]\ntext = "a"\nuk = "b"\nus = "c"\n', "both `text` and a profile's own"),
        ('[summary]\ntext = "a"\nlabel = "b"\n', "unknown fields ['label']"),
        ("[summary\n", "cards/wording/broken.toml"),
    ],
    ids=["template-syntax", "one-profile-only", "text-and-profiles", "unknown-field", "not-toml"],
)
def test_a_broken_wording_file_names_the_file_and_the_message(tmp_path, content, message):
    (tmp_path / "broken.toml").write_text(content, encoding="utf-8")
    with pytest.raises(WordingError, match=re.escape(message)):
        wording.load(tmp_path)


def test_docs_wording_md_is_the_generated_catalogue(capsys):
    """docs/wording.md equals `b12-cds wording`: regenerate it after changing a wording file."""
    assert 0 == main(["wording"])
    expected = capsys.readouterr().out
    assert expected == (ROOT / "docs" / "wording.md").read_text(encoding="utf-8"), (
        "run: b12-cds wording > docs/wording.md"
    )


def test_one_profile_catalogue_shows_that_profile_only(capsys):
    assert 0 == main(["wording", "--profile", "us"])
    out = capsys.readouterr().out
    assert "  - uk:" not in out


def _vocabularies() -> list[tuple[str, str]]:
    from cards.classification import Basis
    from cards.classification import Klass
    from cards.medications import B12Product
    from cards.medications import Recognised
    from cards.medications import Route

    names = [("klass", k.name) for k in Klass] + [("basis", b.name) for b in Basis]
    names += [("route", r.name) for r in Route if r is not Route.UNKNOWN]
    names += [("product", p.name) for p in B12Product]
    names += [("recognised", r.value) for r in Recognised]
    sources = ("administration", "statement", "request event", "completed request", "prescription")
    return names + [("dose_source", s) for s in sources]


@pytest.mark.parametrize(("kind", "name"), _vocabularies())
@pytest.mark.parametrize("profile", list(Profile))
def test_every_value_the_code_decides_has_its_card_word(kind, name, profile):
    """A result's class, a route, a cobalamin, a dose's source, how folic acid was recognised and
    which step classed a result reach the card as reviewed words from common.toml, one per value
    the code can produce (issue 10: no code name shown as a card word)."""
    assert wording.word(profile, kind, name).strip()
