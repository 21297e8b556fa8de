"""R9 `functional-b12-deficiency`: raised MMA or homocysteine despite a normal B12.

clinical-rules §7.9. Sources: S-MAYO-MMA [V], S-NO-MMA [V] (renal ceiling 0.50 µmol/L),
S-UMICH [V], S-ARUP-HCY [V], S-BSH [V].
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.facts import Marker
from cards.labs import Klass
from cards.model import Card
from cards.model import Indicator


RULE_ID = "functional-b12-deficiency"
TITLE = "Possible functional B12 deficiency"
HOOKS = ("patient-view",)
SOURCES = ("S-MAYO-MMA", "S-NO-MMA", "S-UMICH", "S-BSH")
OVERRIDE_REASONS = (
    "b12-deficiency-excluded",
    "not-clinically-relevant",
    "test-already-arranged",
    "result-not-current",
    "will-review-later",
)
SETTINGS = (
    "mma_raised_above_umol_l",
    "homocysteine_raised_above_umol_l",
    "mma_renal_ceiling_umol_l",
    "functional_days",
)


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning (info when confounders explain it) for raised markers with normal B12."""
    first = facts.b12_first_line
    if facts.hook is not Hook.PATIENT_VIEW or first is None or first.klass is not Klass.NORMAL:
        return []
    mma_raised = facts.mma_state is Marker.RAISED
    hcy_raised = facts.homocysteine_state is Marker.RAISED
    if not (mma_raised or hcy_raised) or facts.on_any_b12:
        return []
    explained = (not mma_raised or facts.mma_renal_confounded) and (
        not hcy_raised or facts.homocysteine_confounded
    )
    results = [r for r in (first, facts.mma, facts.homocysteine) if r is not None]
    c = Draft(facts, RULE_ID, TITLE)
    c.cite(results)
    c.evidence += [r.describe() for r in results]
    present = []
    if facts.renal_flag and facts.egfr is not None:
        present.append(c.say("confounder.renal", egfr=facts.egfr.describe()))
    if facts.folate_low and facts.folate is not None:
        present.append(c.say("confounder.folate", folate=facts.folate.describe()))
    if facts.methotrexate_active:
        present.append(c.say("confounder.methotrexate"))
    if present:
        c.line("confounders", confounders="; ".join(present))
    c.act("causes", "confounders")
    if facts.mma is None:
        c.offers.append(compose.lab_test(facts, "mma", c.refs))
    if facts.homocysteine is None:
        c.offers.append(compose.lab_test(facts, "homocysteine", c.refs))
    both = mma_raised and hcy_raised
    key = "summary.both" if both else "summary.mma" if mma_raised else "summary.homocysteine"
    indicator = Indicator.INFO if explained else Indicator.WARNING
    sources = ["S-MAYO-MMA", "S-NO-MMA", "S-BSH"]
    return [c.card(indicator, key, sources, b12=first.value_text())]
