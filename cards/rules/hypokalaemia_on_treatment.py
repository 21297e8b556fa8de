"""R6 `hypokalaemia-on-treatment`: low potassium in the first days of parenteral B12.

clinical-rules §7.6. Sources: S-FDA-CN [V] (hypokalaemia in early treatment), S-K [V] (< 3.5 low;
< 3.0 moderate to severe, the critical escalation point). No replacement dose is suggested (not
researched). Fires for children too.
"""

from __future__ import annotations

from datetime import timedelta

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import Klass
from cards.labs import LabResult
from cards.labs import fmt_date
from cards.labs import fmt_number
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte


RULE_ID = "hypokalaemia-on-treatment"
TITLE = "Low potassium early in B12 treatment"
HOOKS = ("patient-view", "order-sign")
SOURCES = ("S-FDA-CN", "S-K")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "result-not-current",
    "record-incorrect",
    "test-already-arranged",
)
SETTINGS = (
    "potassium_low_below_mmol_l",
    "potassium_critical_below_mmol_l",
    "hypokalaemia_window_hours",
    "hypokalaemia_card_days",
    "hypokalaemia_baseline_days",
)


def _low_potassium(c: Draft) -> tuple[LabResult, str] | None:
    """Return the low potassium result and the therapy context, by hook (§7.6 a and b)."""
    facts, s = c.facts, c.facts.settings
    if facts.hook is Hook.PATIENT_VIEW:
        start = facts.therapy_start_date
        latest = facts.latest(Analyte.POTASSIUM)
        if start is None or latest is None or latest.klass is not Klass.LOW:
            return None
        parenteral = any(d.route.parenteral for d in facts.b12_doses)
        early = 0 <= (latest.when - start).days <= s.hypokalaemia_window_hours // 24
        if not (parenteral and early and (facts.today - start).days <= s.hypokalaemia_card_days):
            return None
        return latest, c.say("evidence.started", date=fmt_date(start))
    if facts.hook is Hook.ORDER_SIGN and facts.first_parenteral_dose:
        since = facts.today - timedelta(days=s.hypokalaemia_baseline_days)
        latest = facts.latest(Analyte.POTASSIUM, since=since)
        if latest is None or latest.klass is not Klass.LOW:
            return None
        drafted = [d.describe() for d in facts.drafts if d.is_b12 and d.route.parenteral]
        return latest, c.say("evidence.drafted", drafted="; ".join(drafted))
    return None


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning (critical below 3.0 mmol/L or flag LL) for low potassium early on."""
    c = Draft(facts, RULE_ID, TITLE)
    found = _low_potassium(c)
    if found is None:
        return []
    result, context = found
    k = result.canonical
    critical = result.critical or (
        k is not None and k < facts.settings.potassium_critical_below_mmol_l
    )
    c.evidence += [result.describe(), context]
    c.act("replace")
    c.cite([result])
    c.offers.append(compose.lab_test(facts, "potassium", c.refs, recommended=True))
    indicator = Indicator.CRITICAL if critical else Indicator.WARNING
    value = result.value_text() if k is None else fmt_number(k)
    return [c.card(indicator, "summary", ["S-FDA-CN", "S-K"], value=value)]
