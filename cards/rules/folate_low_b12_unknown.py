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
from cards.wording import say


RULE_ID = "folate-low-b12-unknown"
TITLE = "Low folate without a B12 result"
HOOKS = ("patient-view",)
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
    evidence = [
        folate.describe(),
        say(facts, f"{RULE_ID}.evidence.no_b12", days=facts.settings.folate_days),
    ]
    actions = [
        say(facts, f"{RULE_ID}.action.check_b12"),
        say(facts, f"{RULE_ID}.action.treat_both"),
    ]
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.WARNING,
            say(facts, f"{RULE_ID}.summary"),
            compose.detail(facts, evidence, actions, [], ["S-CKS", "S-FDA-CN"]),
            refs,
            "S-CKS",
            [
                compose.lab_test(facts, "b12", refs, recommended=True),
                compose.lab_test(facts, "mma", refs),
            ],
        )
    ]
