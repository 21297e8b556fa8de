"""R8 `b12-indeterminate-functional-tests`: a grey-zone B12 needs MMA to confirm or exclude.

clinical-rules §7.8. Sources: S-NG239 [V2], S-BSH rec 2 and rec 4 [V], S-AAFP17 [V],
S-AAFP25 [V2], S-LC-B12 [V]. MMA ≤ 0.50 µmol/L with a renal flag is "possibly renal" [V] S-NO-MMA.
"""

from __future__ import annotations

from cards import compose
from cards.facts import B12Status
from cards.facts import Facts
from cards.facts import Hook
from cards.model import Card
from cards.model import Indicator
from cards.wording import say


RULE_ID = "b12-indeterminate-functional-tests"
TITLE = "Indeterminate B12: functional test needed"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-NG239", "S-BSH", "S-NO-MMA", "S-AAFP17")
SETTINGS = (
    "b12_deficient_below_pg_ml",
    "b12_indeterminate_max_pg_ml",
    "holotc_deficient_below_pmol_l",
    "holotc_indeterminate_max_pmol_l",
    "mma_raised_above_umol_l",
    "mma_renal_ceiling_umol_l",
    "functional_days",
)


def evaluate(facts: Facts) -> list[Card]:
    """Return info (warning with neuro findings) asking for MMA on an indeterminate B12."""
    first = facts.b12_first_line
    if facts.b12_status is not B12Status.INDETERMINATE or first is None:
        return []
    if facts.on_any_b12 or facts.drafted_tests("mma"):
        return []
    if facts.hook is not Hook.PATIENT_VIEW and not facts.drafted_tests(
        "b12", "holotc", focus_only=True
    ):
        return []
    refs = compose.b12_evidence_refs(facts)
    evidence = [first.describe()]
    evidence += [
        say(facts, f"{RULE_ID}.evidence.neuro", finding=f.describe()) for f in facts.neuro_findings
    ]
    offers = []
    if facts.mma_renal_confounded and facts.mma is not None:
        evidence.append(say(facts, f"{RULE_ID}.evidence.mma_renal", mma=facts.mma.describe()))
        if facts.egfr is not None:
            evidence.append(facts.egfr.describe())
        summary = say(facts, f"{RULE_ID}.summary.renal", value=first.value_text())
        actions = [say(facts, f"{RULE_ID}.action.renal")]
    else:
        summary = say(facts, f"{RULE_ID}.summary.indeterminate", value=first.value_text())
        actions = [
            say(facts, f"{RULE_ID}.action.mma_specific"),
            say(facts, f"{RULE_ID}.action.treat_if_strong"),
        ]
        if facts.mma is None:
            offers.append(compose.lab_test(facts, "mma", refs, recommended=True))
        if facts.homocysteine is None:
            offers.append(compose.lab_test(facts, "homocysteine", refs))
    if len(summary) > 139:
        summary = say(facts, f"{RULE_ID}.summary.short")
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.WARNING if facts.neuro_findings else Indicator.INFO,
            summary,
            compose.detail(facts, evidence, actions, [], ["S-NG239", "S-BSH", "S-NO-MMA"]),
            refs,
            "S-NG239",
            offers,
        )
    ]
