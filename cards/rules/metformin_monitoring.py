"""R11 `metformin-monitoring`: long-term metformin and no B12 result in the past year.

clinical-rules §7.11. Metformin lowers B12; test when there is neuropathy or anaemia and consider
periodic monitoring [V] S-MHRA; exposure over 4 months [V] S-AAFP17; ADA standards [V2] S-ADA.
"""

from __future__ import annotations

from cards import compose
from cards.facts import Facts
from cards.labs import fmt_date
from cards.model import Card
from cards.model import Indicator
from cards.wording import say


RULE_ID = "metformin-monitoring"
TITLE = "Metformin and vitamin B12 monitoring"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-MHRA", "S-AAFP17", "S-ADA")
SETTINGS = ("metformin_min_months", "b12_recent_days", "exposure_gap_days")


def evaluate(facts: Facts) -> list[Card]:
    """Return a card suggesting a B12 test for long metformin exposure or suggestive signs."""
    drafts = [d for d in facts.drafts if d.medication.metformin]
    focused = [d for d in drafts if d.focus]
    if facts.is_order_hook and not focused:
        return []
    if facts.metformin is None and not drafts:
        return []
    if facts.b12_recent is not None or facts.b12_deficient or facts.on_any_b12:
        return []
    months = facts.metformin_months
    symptoms = bool(facts.neuro_findings) or facts.anaemia
    if months <= facts.settings.metformin_min_months and not symptoms:
        return []
    exposure = facts.metformin
    evidence = []
    if exposure is not None:
        evidence.append(
            say(
                facts,
                f"{RULE_ID}.evidence.exposure",
                names=", ".join(exposure.names),
                since=fmt_date(exposure.start),
                months=compose.months_text(months),
            )
        )
    evidence += [say(facts, f"{RULE_ID}.evidence.drafted", order=d.describe()) for d in focused]
    evidence += compose.risk_evidence(facts)
    evidence.append(compose.no_recent_b12_line(facts))
    actions = [
        say(facts, f"{RULE_ID}.action.check"),
        say(facts, f"{RULE_ID}.action.when"),
    ]
    if exposure is not None and months >= 1:
        summary = say(facts, f"{RULE_ID}.summary.on_metformin", months=compose.months_text(months))
    else:
        summary = say(facts, f"{RULE_ID}.summary.ordered")
    refs = [*(exposure.refs if exposure else ()), *(d.ref for d in focused)]
    refs += [f.ref for f in facts.neuro_findings if f.ref]
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.WARNING if symptoms else Indicator.INFO,
            summary,
            compose.detail(facts, evidence, actions, [], ["S-MHRA", "S-AAFP17"]),
            refs,
            "S-MHRA",
            [compose.lab_test(facts, "b12", refs, recommended=True)],
        )
    ]
