"""R1 `b12-neuro-untreated`: B12 deficiency with possible neurological involvement, no IM B12.

clinical-rules §7.1. Sources: S-CKS and S-BNF [V2] (uk regimen), S-FDA-CN [V] (permanent damage
after about 3 months untreated; us card source), S-US-DOSE [V2] (us regimen), S-BSH rec 4 [V]
(do not delay treatment for antibody results or specialist review).
"""

from __future__ import annotations

from cards import compose
from cards.facts import Facts
from cards.medications import Route
from cards.model import Card
from cards.model import Indicator
from cards.orders import POTASSIUM_TIMING
from cards.wording import say


RULE_ID = "b12-neuro-untreated"
TITLE = "B12 deficiency with possible neurological involvement, untreated"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-CKS", "S-BNF", "S-FDA-CN", "S-US-DOSE", "S-BSH")
SETTINGS = ("b12_status_days", "oral_first_non_neuro")


def evaluate(facts: Facts) -> list[Card]:
    """Return a critical card when deficiency and neuro findings meet no parenteral B12."""
    if not facts.b12_deficient or not facts.neuro_findings or facts.on_parenteral_b12:
        return []
    if facts.is_child:
        return []  # paediatric-specialist speaks for children (§7.19)
    focused_oral = [d for d in facts.focused_drafts() if d.is_b12 and not d.route.parenteral]
    if facts.is_order_hook and not focused_oral:
        return []
    chosen = compose.regimen(facts, "neuro")
    evidence = compose.b12_evidence(facts) + [
        say(facts, f"{RULE_ID}.evidence.neuro", finding=f.describe()) for f in facts.neuro_findings
    ]
    evidence += [say(facts, f"{RULE_ID}.evidence.draft", draft=d.describe()) for d in focused_oral]
    refs = compose.b12_evidence_refs(facts) + [f.ref for f in facts.neuro_findings if f.ref]
    actions = [
        say(facts, f"{RULE_ID}.action.start", regimen=compose.regimen_words(facts, chosen)),
        say(facts, f"{RULE_ID}.action.seek_advice"),
        say(facts, f"{RULE_ID}.action.oral_not_enough"),
    ]
    if facts.anaemia or facts.macrocytosis:
        actions.append(say(facts, f"{RULE_ID}.action.potassium"))
    caveats = [say(facts, f"{RULE_ID}.caveat.untreated")]
    offers = [
        compose.treatment(facts, "neuro", refs),
        compose.referral(facts, "neurology_referral", urgent=True, reasons=refs),
        compose.referral(facts, "haematology_referral", urgent=True, reasons=refs),
    ]
    if facts.anaemia or facts.macrocytosis:
        offers.append(compose.lab_test(facts, "potassium", refs, timing=POTASSIUM_TIMING))
    offers += [
        compose.delete(
            say(facts, f"{RULE_ID}.label.remove_draft", medication=d.medication.name),
            d.ref,
            recommended=False,
        )
        for d in focused_oral
        if d.ref and d.route in (Route.ORAL, Route.NASAL, Route.UNKNOWN)
    ]
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            Indicator.CRITICAL,
            say(facts, f"{RULE_ID}.summary"),
            compose.detail(
                facts, evidence, actions, caveats, [compose.regimen_source(facts), "S-BSH"]
            ),
            refs + [d.ref for d in focused_oral],
            compose.regimen_source(facts),
            offers,
        )
    ]
