"""R8 `b12-indeterminate-functional-tests`: a grey-zone B12 needs MMA to confirm or exclude.

clinical-rules §7.8. Sources: S-NG239 [V2], S-BSH rec 2 and rec 4 [V], S-AAFP17 [V],
S-AAFP25 [V2], S-LC-B12 [V]. MMA ≤ 0.50 µmol/L with a renal flag is "possibly renal" [V] S-NO-MMA.
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import B12Status
from cards.facts import Facts
from cards.facts import Hook
from cards.model import Card
from cards.model import Indicator


RULE_ID = "b12-indeterminate-functional-tests"
TITLE = "Indeterminate B12: functional test needed"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-NG239", "S-BSH", "S-NO-MMA", "S-AAFP17")
OVERRIDE_REASONS = (
    "test-already-arranged",
    "b12-deficiency-excluded",
    "not-clinically-relevant",
    "patient-declined",
    "will-review-later",
)
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
    if facts.b12_status is not B12Status.INDETERMINATE or first is None or facts.on_any_b12:
        return []
    asked = facts.hook is Hook.PATIENT_VIEW or facts.drafted_tests("b12", "holotc", focus_only=True)
    if not asked or facts.drafted_tests("mma"):
        return []
    renal_mma = facts.mma if facts.mma_renal_confounded else None  # renal impairment explains it
    c = Draft(facts, RULE_ID, TITLE, refs=compose.b12_evidence_refs(facts))
    c.evidence.append(first.describe())
    c.each("neuro", facts.neuro_findings)
    if renal_mma is not None:
        c.line("mma_renal", mma=renal_mma.describe())
        if facts.egfr is not None:
            c.evidence.append(facts.egfr.describe())
        c.act("renal")
    else:
        c.act("mma_specific", "treat_if_strong")
        if facts.mma is None:
            c.offers.append(compose.lab_test(facts, "mma", c.refs, recommended=True))
        if facts.homocysteine is None:
            c.offers.append(compose.lab_test(facts, "homocysteine", c.refs))
    key = "summary.indeterminate" if renal_mma is None else "summary.renal"
    summary = c.say(key, value=first.value_text())
    if len(summary) > 139:
        summary = c.say("summary.short")
    indicator = Indicator.WARNING if facts.neuro_findings else Indicator.INFO
    return [c.build(indicator, summary, ["S-NG239", "S-BSH", "S-NO-MMA", "S-AAFP17"])]
