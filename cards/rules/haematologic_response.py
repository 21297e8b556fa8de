"""R7 `haematologic-response`: check the blood count responds once parenteral B12 starts.

clinical-rules §7.7. Measure haematocrit and reticulocytes on days 5-7; a haematocrit below 35 %
with reticulocytes not reaching twice normal is a poor response [V] S-FDA-CN.
§11.7 (second edition): after day 7 (`response_warning_day`) the card asks for the count now.
"""

from __future__ import annotations

from datetime import timedelta

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import fmt_date
from cards.labs import fmt_number
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte


RULE_ID = "haematologic-response"
TITLE = "Early blood count response to B12"
HOOKS = ("patient-view",)
SOURCES = ("S-FDA-CN",)
OVERRIDE_REASONS = (
    "test-already-arranged",
    "result-not-current",
    "not-clinically-relevant",
    "will-review-later",
)
SETTINGS = (
    "response_first_day",
    "response_warning_day",
    "response_last_day",
    "hct_response_below_pct",
    "retic_response_factor",
)


def evaluate(facts: Facts) -> list[Card]:
    """Return info (no result yet, days 5-28) or warning (poor response from day 7)."""
    s = facts.settings
    start = facts.therapy_start_date
    if facts.hook is not Hook.PATIENT_VIEW or start is None or not facts.on_parenteral_b12:
        return []
    if not facts.anaemia_at_start or not any(d.route.parenteral for d in facts.b12_doses):
        return []
    day = (facts.today - start).days + 1  # day 1 = therapy start
    if not s.response_first_day <= day <= s.response_last_day:
        return []
    after = start + timedelta(days=1)
    hct = facts.latest(Analyte.HAEMATOCRIT, since=after)
    retic = facts.latest(Analyte.RETICULOCYTES_PCT, since=after)
    c = Draft(facts, RULE_ID, TITLE)
    c.cite(facts.baseline)
    c.line("started", date=fmt_date(start), day=day)
    for r in facts.baseline:
        c.line("baseline", result=r.describe())
    measure = "measure" if day <= s.response_warning_day else "measure_now"  # §11.7
    c.act(measure, first_day=s.response_first_day, warning_day=s.response_warning_day)
    c.offers += [
        compose.lab_test(facts, "blood_count", c.refs, recommended=True),
        compose.lab_test(facts, "reticulocytes", c.refs, recommended=True),
    ]
    if hct is None and retic is None:
        c.act("order")
        return [c.card(Indicator.INFO, "summary.no_result", ["S-FDA-CN"], day=day)]
    if day < s.response_warning_day or hct is None or hct.canonical is None:
        return []
    if retic is None or retic.canonical is None or hct.canonical >= s.hct_response_below_pct:
        return []
    target = retic.lab_high * s.retic_response_factor if retic.lab_high is not None else None
    baseline = next((r for r in facts.baseline if r.analyte is Analyte.RETICULOCYTES_PCT), None)
    poor = (target is not None and retic.canonical < target) or (
        baseline is not None
        and baseline.canonical is not None
        and retic.canonical <= baseline.canonical
    )
    if not poor:
        return []
    c.evidence += [hct.describe(), retic.describe()]
    if target is not None:
        c.line("retic_below_target", target=fmt_number(target))
    c.cite([hct, retic])
    c.act("poor_response")
    c.offers.append(compose.lab_test(facts, "folate", c.refs))
    values = {"hct": fmt_number(hct.canonical), "retic": fmt_number(retic.canonical)}
    return [c.card(Indicator.WARNING, "summary.poor_response", ["S-FDA-CN"], **values)]
