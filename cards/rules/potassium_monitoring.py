"""R5 `potassium-monitoring`: check potassium over the first 48 hours of parenteral B12.

clinical-rules §7.5. Intensive treatment of severe megaloblastic anaemia can cause hypokalaemia
and sudden death [V] S-FDA-CN, S-FDA-OH. Fires for children too.
"""

from __future__ import annotations

from cards import compose
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator
from cards.orders import POTASSIUM_TIMING
from cards.units import Analyte
from cards.wording import say


RULE_ID = "potassium-monitoring"
TITLE = "Potassium monitoring at the start of parenteral B12"
HOOKS = ("patient-view", "order-sign")
SOURCES = ("S-FDA-CN", "S-FDA-OH")
SETTINGS = ("potassium_watch_hours", "first_course_gap_days", "blood_count_days")


def _order_sign(facts: Facts) -> list[str] | None:
    """Return the evidence when a first parenteral course is drafted with anaemia (OSign)."""
    drafts = [d for d in facts.drafts if d.is_b12 and d.route.parenteral]
    if not drafts or not facts.first_parenteral_dose or facts.drafted_tests("potassium"):
        return None
    if not (facts.anaemia or facts.macrocytosis):
        return None
    return [say(facts, f"{RULE_ID}.evidence.drafted", draft=d.describe()) for d in drafts]


def _patient_view(facts: Facts) -> list[str] | None:
    """Return the evidence when the first dose of a first course was given ≤ 48 h ago (PV)."""
    start = facts.therapy_start_date
    doses = [d for d in facts.b12_doses if d.route.parenteral]
    if start is None or not doses or not facts.anaemia_at_start:
        return None
    watch_days = facts.settings.potassium_watch_hours // 24  # date-only: today or 2 days before
    if not 0 <= (facts.today - start).days <= watch_days:
        return None
    if facts.latest(Analyte.POTASSIUM, since=start) is not None:
        return None  # hypokalaemia-on-treatment takes over once a result exists
    return [say(facts, f"{RULE_ID}.evidence.first_dose", date=fmt_date(start))]


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning to check potassium when a first parenteral course starts with anaemia."""
    if facts.hook is Hook.ORDER_SIGN:
        found = _order_sign(facts)
    elif facts.hook is Hook.PATIENT_VIEW:
        found = _patient_view(facts)
    else:
        found = None
    if found is None:
        return []
    baseline = (
        facts.baseline
        if facts.hook is Hook.PATIENT_VIEW
        else tuple(r for r in (facts.haemoglobin, facts.mcv) if r is not None)
    )
    evidence = (
        [r.describe() for r in baseline]
        + [
            say(facts, f"{RULE_ID}.evidence.condition", finding=f.describe())
            for f in facts.anaemia_conditions
        ]
        + found
    )
    refs = [r.ref for r in baseline if r.ref] + [d.ref for d in facts.drafts if d.is_b12]
    actions = [say(facts, f"{RULE_ID}.action.check")]
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.WARNING,
            say(facts, f"{RULE_ID}.summary", hours=facts.settings.potassium_watch_hours),
            compose.detail(facts, evidence, actions, [], ["S-FDA-CN", "S-FDA-OH"]),
            refs,
            "S-FDA-CN",
            [compose.lab_test(facts, "potassium", refs, recommended=True, timing=POTASSIUM_TIMING)],
        )
    ]
