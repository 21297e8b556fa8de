"""R21 `b12-test-uninformative`: B12 tests that cannot give a useful answer.

clinical-rules §7.21. Results within 2 weeks of an injection reflect the injection [V] S-MAYO-B12;
intrinsic factor antibody results are invalid within 2 weeks of an injection [V] S-MAYO-IF;
routine levels on established replacement do not guide treatment [V] S-BNSSG. NICE NG239 asks
for diagnostic samples to be taken before B12 replacement starts [V2] S-NG239: the uk card's
first source for the injection branch (§11.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import TestDraft
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator


RULE_ID = "b12-test-uninformative"
TITLE = "B12 test that cannot give a useful answer"
HOOKS = ("order-select", "order-sign")
SOURCES = ("S-MAYO-B12", "S-MAYO-IF", "S-BNSSG", "S-NG239")
OVERRIDE_REASONS = ("order-intended", "record-incorrect", "not-clinically-relevant")
SETTINGS = ("uninformative_injection_days", "established_therapy_days")


def evaluate(facts: Facts) -> list[Card]:
    """Return one info card for the first branch that holds, listing its drafted tests."""
    if not facts.is_order_hook:
        return []
    s = facts.settings
    since = facts.today - timedelta(days=s.uninformative_injection_days)
    injections = [d for d in facts.b12_doses if d.route.parenteral and d.when >= since]
    b12_tests = facts.drafted_tests("b12", "holotc", focus_only=True)
    ifab_tests = facts.drafted_tests("ifab", focus_only=True)
    if injections and (b12_tests or ifab_tests):
        last = injections[-1]
        c = _draft(facts, [*b12_tests, *ifab_tests], last.ref)
        c.line("last_injection", dose=last.describe())
        c.act("injection", *(["ifab"] if ifab_tests else []), "mma")
        sources = ["S-MAYO-B12", "S-MAYO-IF", "S-NG239"]
        days = (facts.today - last.when).days
        return [c.card(Indicator.INFO, "summary.injection", sources, days=days)]
    start = facts.any_therapy_start_date
    if b12_tests and facts.on_any_b12_record and start is not None:
        if (facts.today - start).days >= s.established_therapy_days:
            c = _draft(facts, b12_tests, start.isoformat())
            c.line("replacement_since", date=fmt_date(start))
            c.act("established", "mma")
            return [c.card(Indicator.INFO, "summary.established", ["S-BNSSG", "S-MAYO-B12"])]
    return []


def _draft(facts: Facts, tests: Sequence[TestDraft], anchor: str) -> Draft:
    """Return a card begun on the drafted tests: a line and a removal each, anchored by `anchor`."""
    c = Draft(facts, RULE_ID, TITLE, refs=[anchor, *(t.ref for t in tests)])
    c.evidence += [c.say("evidence.drafted_test", test=t.name) for t in tests]
    c.offers += [
        compose.delete(c.say("label.remove", test=t.name), t.ref, recommended=False)
        for t in dict((t.ref, t) for t in tests).values()
        if t.ref
    ]
    return c
