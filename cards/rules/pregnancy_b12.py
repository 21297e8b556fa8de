"""R18 `pregnancy-b12`: B12 in pregnancy and breastfeeding.

clinical-rules §7.18. Total B12 falls in pregnancy and can look deficient when stores are adequate;
prefer holoTC or confirm with MMA; review at about 1 month when treating; infants breastfed by
deficient or vegan mothers are at risk [V] S-BNSSG, [V2] S-NG239. No MMA is suggested once the
patient is on any B12 (clinical-rules §11.12).
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import B12Status
from cards.facts import Facts
from cards.labs import Klass
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte


RULE_ID = "pregnancy-b12"
TITLE = "Vitamin B12 in pregnancy and breastfeeding"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-BNSSG", "S-NG239")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "test-already-arranged",
    "result-not-current",
    "record-incorrect",
    "not-clinically-relevant",
    "will-review-later",
)
SETTINGS = ("pregnancy_max_weeks", "review_interval_weeks_pregnant")


def _branch(facts: Facts) -> str:
    first = facts.b12_first_line
    total_low = (
        first is not None
        and first.analyte is Analyte.B12
        and first.klass in (Klass.LOW, Klass.INDETERMINATE)
    )
    if facts.pregnant and facts.b12_deficient and not facts.on_any_b12:
        return "a"
    if facts.pregnant and (facts.drafted_tests("b12") or total_low):
        return "b"
    if facts.breastfeeding and (facts.b12_deficient or facts.vegan):
        return "c"
    return ""


def evaluate(facts: Facts) -> list[Card]:
    """Return one card for the first branch that holds (§7.18)."""
    if facts.is_order_hook and not facts.drafted_tests("b12", "holotc", focus_only=True):
        return []
    branch = _branch(facts)
    if not branch:
        return []
    untreated, pregnant = branch == "a", branch in ("a", "b")
    c = Draft(facts, RULE_ID, TITLE, refs=compose.b12_evidence_refs(facts))
    if pregnant:
        lines = compose.pregnancy_lines(facts)
        c.evidence += [c.say("evidence.pregnancy", finding=f) for f in lines]
    else:
        c.each("breastfeeding", facts.breastfeeding)
        c.each("diet", facts.vegan)
    c.evidence += compose.b12_evidence(facts)
    tests = facts.drafted_tests("b12", "holotc")
    c.evidence += [c.say("evidence.test_drafted", test=t.name) for t in tests]
    if untreated:
        weeks = facts.settings.review_interval_weeks_pregnant
        c.act("pregnant_untreated.confirm", "pregnant_untreated.review", weeks=weeks)
    elif pregnant:
        c.act("pregnant_test.prefer_holotc", "pregnant_test.folic_acid")
    else:
        c.act("breastfeeding")
    first = facts.b12_first_line
    holotc = facts.holotc_used is not None or (
        first is not None and first.analyte is Analyte.HOLOTC
    )
    # §11.12: no MMA suggestion once on B12 (treatment has started; MMA would not change it).
    if (
        pregnant
        and facts.mma is None
        and not holotc
        and not facts.drafted_tests("mma")
        and not facts.on_any_b12
    ):
        # The indeterminate-B12 card already asks for MMA when B12 is grey and untreated (§7.8).
        if facts.b12_status is B12Status.INDETERMINATE:
            c.act("mma_elsewhere")
        else:
            c.offers.append(compose.lab_test(facts, "mma", c.refs))
    c.cite([*facts.breastfeeding, *facts.vegan])
    c.refs.append(branch)
    indicator = Indicator.WARNING if untreated else Indicator.INFO
    summary = (
        "summary.pregnant_untreated"
        if untreated
        else "summary.pregnant_test"
        if pregnant
        else "summary.breastfeeding"
    )
    return [c.card(indicator, summary, ["S-BNSSG", "S-NG239"])]
