"""R4 `folate-low-b12-unknown`: a low folate result with no B12 result to go with it.

clinical-rules §7.4. Replacing folate alone can hide B12 deficiency. Sources: S-CKS [V2],
S-FDA-CN [V].
"""

from __future__ import annotations

from datetime import timedelta

from cards import compose
from cards.facts import Facts
from cards.facts import Hook
from cards.model import Card
from cards.model import Indicator
from cards.units import Analyte


RULE_ID = "folate-low-b12-unknown"
TITLE = "Low folate without a B12 result"
HOOKS = ("patient-view",)
TRIGGER = (
    "A low serum, red-cell or whole-blood folate within `folate_days`, no usable B12/holoTC "
    "within `folate_days` of it, not B12-deficient, not on B12, no B12 test drafted."
)
INDICATOR = "warning."
SUGGESTS = "A serum B12 test (recommended) and MMA (optional)."
SOURCES = ("S-CKS", "S-FDA-CN")
SETTINGS = ("folate_days", "folate_serum_low_below_ng_ml", "folate_rbc_low_below_nmol_l")


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning when folate is low and no B12/holoTC lies within ±90 days of it."""
    folate = facts.folate
    if facts.hook is not Hook.PATIENT_VIEW or folate is None or not facts.folate_low:
        return []
    if facts.b12_deficient or facts.on_any_b12 or facts.drafted_tests("b12", "holotc"):
        return []
    window = timedelta(days=facts.settings.folate_days)
    paired = [
        r
        for r in facts.results
        if r.analyte in (Analyte.B12, Analyte.HOLOTC)
        and r.usable
        and abs((r.when - folate.when).days) <= window.days
    ]
    if paired:
        return []
    refs = [folate.ref] if folate.ref else []
    actions = [
        "Replacing folate alone can hide B12 deficiency: check B12 (with MMA if available) "
        "before or at the same time as folate replacement.",
        "If B12 is low, treat it as well as the folate deficiency.",
    ]
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.WARNING,
            "Low folate and no B12 result to go with it: check B12 before or with folate "
            "replacement",
            compose.detail(
                facts,
                [folate.describe(), "No B12 or holoTC result within 90 days of this folate"],
                actions,
                [],
                ["S-CKS", "S-FDA-CN"],
            ),
            refs,
            "S-CKS",
            [
                compose.lab_test(facts, "b12", refs, recommended=True),
                compose.lab_test(facts, "mma", refs),
            ],
        )
    ]
