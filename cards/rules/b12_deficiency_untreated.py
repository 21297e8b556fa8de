"""R2 `b12-deficiency-untreated`: B12 deficiency, no neurological findings, no B12 treatment.

clinical-rules §7.2. Sources: S-CKS and S-BNF [V2] (uk regimen), S-FDA-CN [V] (us card source),
S-US-DOSE [V2] (us regimen), S-AAFP17 [V], S-COCH [V] (high-dose oral about as good as IM).
"""

from __future__ import annotations

from cards import compose
from cards.facts import Facts
from cards.facts import Hook
from cards.model import Card
from cards.model import Indicator
from cards.orders import POTASSIUM_TIMING
from cards.wording import say


RULE_ID = "b12-deficiency-untreated"
TITLE = "B12 deficiency with no B12 treatment on record"
HOOKS = ("patient-view",)
SOURCES = ("S-CKS", "S-BNF", "S-FDA-CN", "S-US-DOSE", "S-AAFP17", "S-COCH")
SETTINGS = ("b12_status_days", "oral_first_non_neuro")


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning card for untreated deficiency without neurological findings."""
    if facts.hook is not Hook.PATIENT_VIEW:
        return []
    if not facts.b12_deficient or facts.neuro_findings or facts.on_any_b12 or facts.is_child:
        return []
    chosen = compose.regimen(facts, "standard")
    refs = compose.b12_evidence_refs(facts)
    actions = [
        say(facts, f"{RULE_ID}.action.start", regimen=compose.regimen_words(facts, chosen)),
        say(facts, f"{RULE_ID}.action.cause"),
        say(facts, f"{RULE_ID}.action.oral"),
    ]
    if facts.anaemia or facts.macrocytosis:
        hours = facts.settings.potassium_watch_hours
        actions.append(say(facts, f"{RULE_ID}.action.potassium", hours=hours))
    caveats = [say(facts, f"{RULE_ID}.caveat.lifelong")]
    offers = [compose.treatment(facts, "standard", refs)]
    if facts.anaemia or facts.macrocytosis:
        offers.append(compose.lab_test(facts, "potassium", refs, timing=POTASSIUM_TIMING))
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.WARNING,
            say(facts, f"{RULE_ID}.summary"),
            compose.detail(
                facts,
                compose.b12_evidence(facts),
                actions,
                caveats,
                [compose.regimen_source(facts), "S-AAFP17"],
            ),
            refs,
            compose.regimen_source(facts),
            offers,
        )
    ]
