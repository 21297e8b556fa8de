"""R12 `acid-suppression-monitoring`: PPI or H2RA for over a year and no recent B12 result.

clinical-rules §7.12. More than 12 months of acid suppression reduces B12 absorption; age over 75
adds risk [V] S-AAFP17; codes [V] S-PDDI; NG239 lists other interfering drugs [V2] S-NG239.
"""

from __future__ import annotations

from cards import compose
from cards.facts import Facts
from cards.labs import fmt_date
from cards.labs import fmt_number
from cards.model import Card
from cards.model import Indicator
from cards.wording import say


RULE_ID = "acid-suppression-monitoring"
TITLE = "Long-term acid suppression and vitamin B12"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-AAFP17", "S-PDDI", "S-NG239")
SETTINGS = (
    "acid_suppression_min_months",
    "acid_suppression_older_age",
    "metformin_min_months",
    "b12_recent_days",
    "exposure_gap_days",
)


def _extra_risks(facts: Facts) -> list[str]:
    s = facts.settings
    risks = []
    if facts.age_years is not None and facts.age_years > s.acid_suppression_older_age:
        risks.append(say(facts, f"{RULE_ID}.risk.age", age=facts.age_years))
    if facts.metformin_months > s.metformin_min_months:
        length = compose.months_text(facts.metformin_months)
        risks.append(say(facts, f"{RULE_ID}.risk.metformin", length=length))
    for key, found in (
        (f"{RULE_ID}.risk.vegan", facts.vegan),
        (f"{RULE_ID}.risk.bariatric", facts.bariatric),
        (f"{RULE_ID}.risk.ileal_resection", facts.ileal_resection),
        (f"{RULE_ID}.risk.gastrectomy", facts.gastrectomy),
    ):
        if found:
            risks.append(say(facts, key))
    return risks


def evaluate(facts: Facts) -> list[Card]:
    """Return an info card suggesting a B12 test after long acid suppression with another risk."""
    focused = [d for d in facts.focused_drafts() if d.medication.acid_suppressant]
    if facts.is_order_hook and not focused:
        return []
    exposure = facts.acid_suppression
    if exposure is None or exposure.months <= facts.settings.acid_suppression_min_months:
        return []
    if facts.b12_recent is not None or facts.b12_deficient or facts.on_any_b12:
        return []
    risks = _extra_risks(facts)
    clinical = compose.risk_evidence(facts)
    if not risks and not clinical:
        return []
    evidence = [
        say(
            facts,
            f"{RULE_ID}.evidence.exposure",
            names=", ".join(exposure.names),
            start=fmt_date(exposure.start),
            length=compose.months_text(exposure.months),
        )
    ]
    evidence += [say(facts, f"{RULE_ID}.evidence.also", risk=r) for r in risks] + clinical
    evidence.append(compose.no_recent_b12_line(facts))
    actions = [
        say(facts, f"{RULE_ID}.action.consider"),
        say(facts, f"{RULE_ID}.action.ng239"),
    ]
    refs = [*exposure.refs, *(d.ref for d in focused)]
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.INFO,
            say(
                facts,
                f"{RULE_ID}.summary",
                months=fmt_number(facts.settings.acid_suppression_min_months),
            ),
            compose.detail(facts, evidence, actions, [], ["S-AAFP17", "S-NG239"]),
            refs,
            "S-AAFP17",
            [compose.lab_test(facts, "b12", refs, recommended=True)],
        )
    ]
