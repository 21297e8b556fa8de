"""R5 `potassium-monitoring`: check potassium over the first 48 hours of parenteral B12.

clinical-rules §7.5. Intensive treatment of severe megaloblastic anaemia can cause hypokalaemia
and sudden death [V] S-FDA-CN, S-FDA-OH. Fires for children too.
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator
from cards.orders import POTASSIUM_TIMING
from cards.units import Analyte


RULE_ID = "potassium-monitoring"
TITLE = "Potassium monitoring at the start of parenteral B12"
HOOKS = ("patient-view", "order-sign")
SOURCES = ("S-FDA-CN", "S-FDA-OH")
OVERRIDE_REASONS = (
    "test-already-arranged",
    "not-clinically-relevant",
    "patient-declined",
    "will-review-later",
)
SETTINGS = ("potassium_watch_hours", "first_course_gap_days", "blood_count_days")


def _order_sign(c: Draft) -> list[str] | None:
    """Return the evidence when a first parenteral course is drafted with anaemia (OSign)."""
    facts = c.facts
    drafts = [d for d in facts.drafts if d.is_b12 and d.route.parenteral]
    anaemic = facts.anaemia or facts.macrocytosis
    if not (drafts and facts.first_parenteral_dose and anaemic) or facts.drafted_tests("potassium"):
        return None
    return [c.say("evidence.drafted", draft=d.describe()) for d in drafts]


def _patient_view(c: Draft) -> list[str] | None:
    """Return the evidence when the first dose of a first course was given ≤ 48 h ago (PV)."""
    facts = c.facts
    start = facts.therapy_start_date
    parenteral = any(d.route.parenteral for d in facts.b12_doses)
    if start is None or not parenteral or not facts.anaemia_at_start:
        return None
    watch_days = facts.settings.potassium_watch_hours // 24  # date-only: today or 2 days before
    if not 0 <= (facts.today - start).days <= watch_days:
        return None
    if facts.latest(Analyte.POTASSIUM, since=start) is not None:
        return None  # hypokalaemia-on-treatment takes over once a result exists
    return [c.say("evidence.first_dose", date=fmt_date(start))]


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning to check potassium when a first parenteral course starts with anaemia."""
    c = Draft(facts, RULE_ID, TITLE)
    if facts.hook is Hook.PATIENT_VIEW:
        found, baseline = _patient_view(c), facts.baseline
    elif facts.hook is Hook.ORDER_SIGN:
        found = _order_sign(c)
        baseline = tuple(r for r in (facts.haemoglobin, facts.mcv) if r is not None)
    else:
        found = None
    if found is None:
        return []
    c.evidence += [r.describe() for r in baseline]
    c.each("condition", facts.anaemia_conditions)
    c.evidence += found
    c.act("check")
    c.cite(baseline)
    c.refs += [d.ref for d in facts.drafts if d.is_b12]
    test = compose.lab_test(facts, "potassium", c.refs, recommended=True, timing=POTASSIUM_TIMING)
    c.offers.append(test)
    hours = facts.settings.potassium_watch_hours
    return [c.card(Indicator.WARNING, "summary", ["S-FDA-CN", "S-FDA-OH"], hours=hours)]
