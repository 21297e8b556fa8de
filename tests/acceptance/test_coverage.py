"""The fixtures cover the whole catalogue and every worked example of clinical-rules §9.

The worked-example table of `docs/clinical-rules.md` is read as the oracle: for each example, the
rule ids it says fire (with their indicators) and must stay silent are compared with the
fixture's manifest entry, which the fixture tests then hold the service to.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cards.catalogue import entry
from cards.services import RULE_MODULES
from tests.acceptance.test_fixtures import SCENARIOS


ROOT = Path(__file__).resolve().parents[2]
RULE_IDS = {m.RULE_ID for m in RULE_MODULES}
_INDICATED = re.compile(r"`([a-z0-9-]+)`\s+\**(critical|warning|info)\**")
_ANY_ID = re.compile(r"`([a-z0-9-]+)`")


def _worked_examples() -> dict[int, tuple[dict[str, str], set[str], dict[str, str]]]:
    """Return {number: (fires, must stay silent, must not have this indicator)} from §9.

    A silent-column id followed by an indicator ("`folate-before-b12` critical") forbids only
    that indicator; a bare id forbids the rule.
    """
    text = (ROOT / "docs" / "clinical-rules.md").read_text(encoding="utf-8")
    section = text.split("## 9. Worked examples", 1)[1].split("\n## 10.", 1)[0]
    examples = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].isdigit():
            continue
        fires = {rule: ind for rule, ind in _INDICATED.findall(cells[3]) if rule in RULE_IDS}
        not_as = {rule: ind for rule, ind in _INDICATED.findall(cells[4]) if rule in RULE_IDS}
        silent = {rule for rule in _ANY_ID.findall(cells[4]) if rule in RULE_IDS} - set(not_as)
        examples[int(cells[0])] = (fires, silent, not_as)
    return examples


EXAMPLES = _worked_examples()
BY_EXAMPLE = {
    int(m.group(1)): s for s in SCENARIOS if (m := re.search(r"/ex(\d+)-", s["file"])) is not None
}


def test_every_worked_example_has_a_fixture():
    """§9 has 44 worked examples and each has exactly one exNN fixture."""
    assert 44 == len(EXAMPLES)
    assert sorted(EXAMPLES) == sorted(BY_EXAMPLE)


@pytest.mark.parametrize("number", sorted(EXAMPLES), ids=lambda n: f"example-{n}")
def test_fixture_manifest_matches_the_worked_example(number):
    """The manifest fires what §9 says fires, with its indicator, and keeps its silent rules."""
    fires, silent, not_as = EXAMPLES[number]
    scenario = BY_EXAMPLE[number]
    assert fires == scenario["fires"]
    assert not silent & set(scenario["fires"])
    for rule, indicator in not_as.items():
        assert scenario["fires"].get(rule) != indicator


@pytest.mark.parametrize("rule_id", sorted(RULE_IDS))
def test_every_rule_fires_on_a_fixture_and_is_silent_on_its_negative(rule_id):
    """Each rule fires on at least one fixture and has a named negative fixture."""
    assert any(rule_id in s["fires"] for s in SCENARIOS)
    negatives = [
        s for s in SCENARIOS if rule_id in s.get("silent", []) and rule_id not in s["fires"]
    ]
    assert negatives, f"no fixture says {rule_id} must stay silent"


def test_only_the_rules_that_declare_critical_ever_answer_critical():
    """Critical is kept for the few rules whose catalogue entry allows it (alert fatigue, H05)."""
    allowed = {m.RULE_ID for m in RULE_MODULES if "critical" in entry(m.RULE_ID, "indicator")}
    assert allowed == {
        "b12-neuro-untreated",
        "folate-before-b12",
        "hypokalaemia-on-treatment",
        "nitrous-oxide",
        "maintenance-overdue",
        "paediatric-specialist",
    }
    critical = {r for s in SCENARIOS for r, ind in s["fires"].items() if ind == "critical"}
    assert critical <= allowed
