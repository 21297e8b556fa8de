"""R12 `acid-suppression-monitoring`: PPI or H2RA for over a year and no recent B12 result.

clinical-rules §7.12. More than 12 months of acid suppression reduces B12 absorption; age over 75
adds risk [V] S-AAFP17; codes [V] S-PDDI; NG239 lists other interfering drugs [V2] S-NG239.
When the last B12 (older than the lookback) was low and no B12 treatment has followed, the card is
a warning and says so (clinical-rules §11.12; `Facts.untreated_low_b12`).
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.labs import fmt_date
from cards.labs import fmt_number
from cards.model import Card
from cards.model import Indicator


RULE_ID = "acid-suppression-monitoring"
TITLE = "Long-term acid suppression and vitamin B12"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-AAFP17", "S-PDDI", "S-NG239")
OVERRIDE_REASONS = (
    "test-already-arranged",
    "already-treated-elsewhere",
    "not-clinically-relevant",
    "patient-declined",
    "will-review-later",
)
SETTINGS = (
    "acid_suppression_min_months",
    "acid_suppression_older_age",
    "metformin_min_months",
    "b12_recent_days",
    "exposure_gap_days",
)


def evaluate(facts: Facts) -> list[Card]:
    """Return an info card suggesting a B12 test after long acid suppression with another risk."""
    s = facts.settings
    focused = [d for d in facts.focused_drafts() if d.medication.acid_suppressant]
    exposure = facts.acid_suppression
    if facts.is_order_hook and not focused:
        return []
    if exposure is None or exposure.months <= s.acid_suppression_min_months:
        return []
    if facts.b12_recent is not None or facts.b12_deficient or facts.on_any_b12:
        return []
    c = Draft(facts, RULE_ID, TITLE)
    risks: list[str] = []
    if facts.age_years is not None and facts.age_years > s.acid_suppression_older_age:
        risks.append(c.say("risk.age", age=facts.age_years))
    if facts.metformin_months > s.metformin_min_months:
        risks.append(c.say("risk.metformin", length=compose.months_text(facts.metformin_months)))
    if facts.vegan:
        risks.append(c.say("risk.vegan"))
    if facts.bariatric:
        risks.append(c.say("risk.bariatric"))
    if facts.ileal_resection:
        risks.append(c.say("risk.ileal_resection"))
    if facts.gastrectomy:
        risks.append(c.say("risk.gastrectomy"))
    clinical = compose.risk_evidence(facts)
    if not risks and not clinical:
        return []
    names, start = ", ".join(exposure.names), fmt_date(exposure.start)
    c.line("exposure", names=names, start=start, length=compose.months_text(exposure.months))
    c.evidence += [c.say("evidence.also", risk=r) for r in risks] + clinical
    c.evidence.append(compose.no_recent_b12_line(facts))
    low = facts.untreated_low_b12
    if low is not None:
        c.act("low_untreated", date=fmt_date(low.when))
    c.act("consider", "ng239")
    c.refs += [*exposure.refs, *(d.ref for d in focused)]
    if low is not None:
        c.cite([low])
    c.offers.append(compose.lab_test(facts, "b12", c.refs, recommended=True))
    months = fmt_number(s.acid_suppression_min_months)
    key = "summary.low_untreated" if low is not None else "summary.none"
    indicator = Indicator.WARNING if low is not None else Indicator.INFO
    sources = ["S-AAFP17", "S-NG239"]
    return [c.card(indicator, key, sources, months=months, days=s.b12_recent_days)]
