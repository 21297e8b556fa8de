"""R18 `pregnancy-b12`: B12 in pregnancy and breastfeeding.

clinical-rules §7.18. Total B12 falls in pregnancy and can look deficient when stores are adequate;
prefer holoTC or confirm with MMA; review at about 1 month when treating; infants breastfed by
deficient or vegan mothers are at risk [V] S-BNSSG, [V2] S-NG239.
"""

from __future__ import annotations

from cards import compose
from cards.facts import B12Status
from cards.facts import Facts
from cards.labs import Klass
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte
from cards.wording import say


RULE_ID = "pregnancy-b12"
TITLE = "Vitamin B12 in pregnancy and breastfeeding"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-BNSSG", "S-NG239")
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
    refs = compose.b12_evidence_refs(facts)
    evidence: list[str] = []
    if branch in ("a", "b"):
        evidence += [
            say(facts, f"{RULE_ID}.evidence.pregnancy", finding=f)
            for f in compose.pregnancy_lines(facts)
        ]
    else:
        evidence += [
            say(facts, f"{RULE_ID}.evidence.breastfeeding", finding=f.describe())
            for f in facts.breastfeeding
        ]
        evidence += [
            say(facts, f"{RULE_ID}.evidence.diet", finding=f.describe()) for f in facts.vegan
        ]
    evidence += compose.b12_evidence(facts)
    evidence += [
        say(facts, f"{RULE_ID}.evidence.test_drafted", test=t.name)
        for t in facts.drafted_tests("b12", "holotc")
    ]
    weeks = facts.settings.review_interval_weeks_pregnant
    if branch == "a":
        indicator = Indicator.WARNING
        summary = say(facts, f"{RULE_ID}.summary.pregnant_untreated")
        actions = [
            say(facts, f"{RULE_ID}.action.pregnant_untreated.confirm"),
            say(facts, f"{RULE_ID}.action.pregnant_untreated.review", weeks=weeks),
        ]
    elif branch == "b":
        indicator = Indicator.INFO
        summary = say(facts, f"{RULE_ID}.summary.pregnant_test")
        actions = [
            say(facts, f"{RULE_ID}.action.pregnant_test.prefer_holotc"),
            say(facts, f"{RULE_ID}.action.pregnant_test.folic_acid"),
        ]
    else:
        indicator = Indicator.INFO
        summary = say(facts, f"{RULE_ID}.summary.breastfeeding")
        actions = [say(facts, f"{RULE_ID}.action.breastfeeding")]
    offers = []
    first = facts.b12_first_line
    holotc = facts.holotc_used is not None or (
        first is not None and first.analyte is Analyte.HOLOTC
    )
    # The indeterminate-B12 card already asks for MMA when B12 is grey and untreated (§7.8).
    grey = facts.b12_status is B12Status.INDETERMINATE and not facts.on_any_b12
    if branch in ("a", "b") and facts.mma is None and not holotc and not facts.drafted_tests("mma"):
        if grey:
            actions.append(say(facts, f"{RULE_ID}.action.mma_elsewhere"))
        else:
            offers.append(compose.lab_test(facts, "mma", refs))
    refs += [f.ref for f in (*facts.breastfeeding, *facts.vegan) if f.ref]
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            indicator,
            summary,
            compose.detail(facts, evidence, actions, [], ["S-BNSSG", "S-NG239"]),
            refs + [branch],
            "S-BNSSG",
            offers,
        )
    ]
