"""R11 `metformin-monitoring`: long-term metformin and no B12 result in the past year.

clinical-rules §7.11. Metformin lowers B12; test when there is neuropathy or anaemia and consider
periodic monitoring [V] S-MHRA; exposure over 4 months [V] S-AAFP17; ADA standards [V2] S-ADA.
When the last B12 (older than the lookback) was low and no B12 treatment has followed, the card is
a warning and says so (clinical-rules §11.12).
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator


RULE_ID = "metformin-monitoring"
TITLE = "Metformin and vitamin B12 monitoring"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-MHRA", "S-AAFP17", "S-ADA")
OVERRIDE_REASONS = (
    "test-already-arranged",
    "already-treated-elsewhere",
    "not-clinically-relevant",
    "patient-declined",
    "will-review-later",
)
SETTINGS = ("metformin_min_months", "b12_recent_days", "exposure_gap_days")


def evaluate(facts: Facts) -> list[Card]:
    """Return a card suggesting a B12 test for long metformin exposure or suggestive signs."""
    exposure = facts.metformin
    drafts = [d for d in facts.drafts if d.medication.metformin]
    focused = [d for d in drafts if d.focus]
    months = facts.metformin_months
    symptoms = bool(facts.neuro_findings) or facts.anaemia
    if (
        (facts.is_order_hook and not focused)
        or (exposure is None and not drafts)
        or facts.b12_recent is not None
        or facts.b12_deficient
        or facts.on_any_b12
        or (months <= facts.settings.metformin_min_months and not symptoms)
    ):
        return []
    length = compose.months_text(months)
    c = Draft(facts, RULE_ID, TITLE, refs=list(exposure.refs if exposure else ()))
    c.refs += [d.ref for d in focused]
    c.cite(facts.neuro_findings)
    if exposure is not None:
        names = ", ".join(exposure.names)
        c.line("exposure", names=names, since=fmt_date(exposure.start), months=length)
    c.evidence += [c.say("evidence.drafted", order=d.describe()) for d in focused]
    c.evidence += compose.risk_evidence(facts)
    c.evidence.append(compose.no_recent_b12_line(facts))
    low = facts.untreated_low_b12
    if low is not None:
        c.cite([low])
        c.act("low_untreated", date=fmt_date(low.when))
    c.act("check", "when")
    c.offers.append(compose.lab_test(facts, "b12", c.refs, recommended=True))
    key = (
        "summary.low_untreated"
        if low is not None
        else "summary.on_metformin"
        if exposure is not None and months >= 1
        else "summary.ordered"
    )
    indicator = Indicator.WARNING if symptoms or low is not None else Indicator.INFO
    days = facts.settings.b12_recent_days
    return [c.card(indicator, key, ["S-MHRA", "S-AAFP17"], months=length, days=days)]
