"""R21 `b12-test-uninformative`: B12 tests that cannot give a useful answer.

clinical-rules §7.21. Results within 2 weeks of an injection reflect the injection [V] S-MAYO-B12;
intrinsic factor antibody results are invalid within 2 weeks of an injection [V] S-MAYO-IF;
routine levels on established replacement do not guide treatment [V] S-BNSSG.
"""

from __future__ import annotations

from datetime import timedelta

from cards import compose
from cards.facts import Facts
from cards.facts import TestDraft
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator
from cards.wording import say


RULE_ID = "b12-test-uninformative"
TITLE = "B12 test that cannot give a useful answer"
HOOKS = ("order-select", "order-sign")
SOURCES = ("S-MAYO-B12", "S-MAYO-IF", "S-BNSSG")
SETTINGS = ("uninformative_injection_days", "established_therapy_days")


def evaluate(facts: Facts) -> list[Card]:
    """Return one info card per branch that holds, each listing its drafted tests."""
    if not facts.is_order_hook:
        return []
    s = facts.settings
    since = facts.today - timedelta(days=s.uninformative_injection_days)
    injections = [d for d in facts.b12_doses if d.route.parenteral and d.when >= since]
    last = injections[-1] if injections else None
    b12_tests = facts.drafted_tests("b12", "holotc", focus_only=True)
    ifab_tests = facts.drafted_tests("ifab", focus_only=True)
    start = facts.any_therapy_start_date
    established = (
        facts.on_any_b12_record
        and start is not None
        and (facts.today - start).days >= s.established_therapy_days
    )
    cards: list[Card] = []
    if last is not None and (b12_tests or ifab_tests):
        days = (facts.today - last.when).days
        tests = [*b12_tests, *ifab_tests]
        actions = [say(facts, f"{RULE_ID}.action.injection")]
        if ifab_tests:
            actions.append(say(facts, f"{RULE_ID}.action.ifab"))
        actions.append(say(facts, f"{RULE_ID}.action.mma"))
        cards.append(
            _card(
                facts,
                tests,
                say(facts, f"{RULE_ID}.summary.injection", days=days),
                [say(facts, f"{RULE_ID}.evidence.last_injection", dose=last.describe())],
                actions,
                ["S-MAYO-B12", "S-MAYO-IF"],
                last.ref,
            )
        )
    elif established and b12_tests and start is not None:
        cards.append(
            _card(
                facts,
                list(b12_tests),
                say(facts, f"{RULE_ID}.summary.established"),
                [say(facts, f"{RULE_ID}.evidence.replacement_since", date=fmt_date(start))],
                [
                    say(facts, f"{RULE_ID}.action.established"),
                    say(facts, f"{RULE_ID}.action.mma"),
                ],
                ["S-BNSSG", "S-MAYO-B12"],
                start.isoformat(),
            )
        )
    return cards


def _card(
    facts: Facts,
    tests: list[TestDraft],
    summary: str,
    evidence: list[str],
    actions: list[str],
    sources: list[str],
    anchor: str,
) -> Card:
    lines = [say(facts, f"{RULE_ID}.evidence.drafted_test", test=t.name) for t in tests] + evidence
    offers = [
        compose.delete(say(facts, f"{RULE_ID}.label.remove", test=t.name), t.ref, recommended=False)
        for t in dict((t.ref, t) for t in tests).values()
        if t.ref
    ]
    return compose.card(
        facts,
        RULE_ID,
        TITLE,
        Indicator.INFO,
        summary,
        compose.detail(facts, lines, actions, [], sources),
        [anchor, *(t.ref for t in tests)],
        sources[0],
        offers,
    )
