"""R4 `folate-low-b12-unknown`: a low folate result with no B12 result to go with it.

clinical-rules §7.4. Replacing folate alone can hide B12 deficiency. Sources: S-CKS [V2],
S-FDA-CN [V].
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte


RULE_ID = "folate-low-b12-unknown"
TITLE = "Low folate without a B12 result"
HOOKS = ("patient-view",)
SOURCES = ("S-CKS", "S-FDA-CN")
OVERRIDE_REASONS = (
    "test-already-arranged",
    "b12-deficiency-excluded",
    "result-not-current",
    "not-clinically-relevant",
    "will-review-later",
)
SETTINGS = ("folate_days", "folate_serum_low_below_ng_ml", "folate_rbc_low_below_nmol_l")


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning when folate is low and no B12/holoTC lies within ±90 days of it."""
    folate = facts.folate
    days = facts.settings.folate_days
    if (
        facts.hook is not Hook.PATIENT_VIEW
        or folate is None
        or not facts.folate_low
        or facts.b12_deficient
        or facts.on_any_b12
        or facts.drafted_tests("b12", "holotc")
    ):
        return []
    near = [
        r
        for r in facts.results
        if r.analyte in (Analyte.B12, Analyte.HOLOTC) and abs((r.when - folate.when).days) <= days
    ]
    if any(r.usable for r in near):
        return []
    c = Draft(facts, RULE_ID, TITLE)
    c.cite([folate])
    c.evidence.append(folate.describe())
    c.line("no_b12", days=days, unusable=[r.describe() for r in near])
    c.act("check_b12", "treat_both")
    c.offers += [
        compose.lab_test(facts, "b12", c.refs, recommended=True),
        compose.lab_test(facts, "mma", c.refs),
    ]
    return [c.card(Indicator.WARNING, "summary", ["S-CKS", "S-FDA-CN"])]
