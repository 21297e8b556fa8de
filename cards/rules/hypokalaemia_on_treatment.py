"""R6 `hypokalaemia-on-treatment`: low potassium in the first days of parenteral B12.

clinical-rules §7.6. Sources: S-FDA-CN [V] (hypokalaemia in early treatment), S-K [V] (< 3.5 low;
< 3.0 moderate to severe, the critical escalation point). No replacement dose is suggested (not
researched). Fires for children too.
"""

from __future__ import annotations

from datetime import timedelta

from cards import compose
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import Klass
from cards.labs import LabResult
from cards.labs import fmt_date
from cards.labs import fmt_number
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte
from cards.wording import say


RULE_ID = "hypokalaemia-on-treatment"
TITLE = "Low potassium early in B12 treatment"
HOOKS = ("patient-view", "order-sign")
SOURCES = ("S-FDA-CN", "S-K")
SETTINGS = (
    "potassium_low_below_mmol_l",
    "potassium_critical_below_mmol_l",
    "hypokalaemia_window_hours",
    "hypokalaemia_card_days",
    "hypokalaemia_baseline_days",
)


def _low_potassium(facts: Facts) -> tuple[LabResult, str] | None:
    """Return the low potassium result and the therapy context, by hook (§7.6 a and b)."""
    s = facts.settings
    if facts.hook is Hook.PATIENT_VIEW:
        start = facts.therapy_start_date
        latest = facts.latest(Analyte.POTASSIUM)
        if start is None or latest is None or latest.klass is not Klass.LOW:
            return None
        if not any(d.route.parenteral for d in facts.b12_doses):
            return None
        after = (latest.when - start).days
        if not 0 <= after <= s.hypokalaemia_window_hours // 24:
            return None
        if (facts.today - start).days > s.hypokalaemia_card_days:
            return None
        return latest, say(facts, f"{RULE_ID}.evidence.started", date=fmt_date(start))
    if facts.hook is Hook.ORDER_SIGN and facts.first_parenteral_dose:
        since = facts.today - timedelta(days=s.hypokalaemia_baseline_days)
        latest = facts.latest(Analyte.POTASSIUM, since=since)
        if latest is None or latest.klass is not Klass.LOW:
            return None
        drafted = [d.describe() for d in facts.drafts if d.is_b12 and d.route.parenteral]
        return latest, say(facts, f"{RULE_ID}.evidence.drafted", drafted="; ".join(drafted))
    return None


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning (critical below 3.0 mmol/L or flag LL) for low potassium early on."""
    found = _low_potassium(facts)
    if found is None:
        return []
    result, context = found
    critical = result.critical or (
        result.canonical is not None
        and result.canonical < facts.settings.potassium_critical_below_mmol_l
    )
    value = fmt_number(result.canonical) if result.canonical is not None else result.value_text()
    actions = [say(facts, f"{RULE_ID}.action.replace")]
    refs = [result.ref] if result.ref else []
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.CRITICAL if critical else Indicator.WARNING,
            say(facts, f"{RULE_ID}.summary", value=value),
            compose.detail(facts, [result.describe(), context], actions, [], ["S-FDA-CN", "S-K"]),
            refs,
            "S-FDA-CN",
            [compose.lab_test(facts, "potassium", refs, recommended=True)],
        )
    ]
