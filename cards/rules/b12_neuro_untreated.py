"""R1 `b12-neuro-untreated`: B12 deficiency with possible neurological involvement, no IM B12.

clinical-rules §7.1. Sources: S-CKS and S-BNF [V2] (uk regimen), S-FDA-CN [V] (permanent damage
after about 3 months untreated), S-US-DOSE [V2] (us regimen and card source, §11.4), S-BSH rec 4 [V]
(do not delay treatment for antibody results or specialist review). §11.6 (second edition): with
low folate as well, the folic acid part (`Draft.treat`).
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.medications import Route
from cards.model import Card
from cards.model import Indicator
from cards.orders import POTASSIUM_TIMING


RULE_ID = "b12-neuro-untreated"
TITLE = "B12 deficiency with possible neurological involvement, untreated"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-CKS", "S-BNF", "S-PAS", "S-FDA-CN", "S-US-DOSE", "S-BSH")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "result-not-current",
    "record-incorrect",
    "not-clinically-relevant",
    "specialist-managing",
    "patient-declined",
)
SETTINGS = ("b12_status_days", "oral_first_non_neuro", "folate_regimen")


def evaluate(facts: Facts) -> list[Card]:
    """Return a critical card when deficiency and neuro findings meet no parenteral B12."""
    if not facts.b12_deficient or not facts.neuro_findings or facts.on_parenteral_b12:
        return []
    if facts.is_child:
        return []  # paediatric-specialist speaks for children (§7.19)
    oral = [d for d in facts.focused_drafts() if d.is_b12 and not d.route.parenteral]
    if facts.is_order_hook and not oral:
        return []
    potassium = facts.anaemia or facts.macrocytosis
    c = Draft(facts, RULE_ID, TITLE, refs=compose.b12_evidence_refs(facts))
    c.cite(facts.neuro_findings)
    c.evidence += compose.b12_evidence(facts)
    c.each("neuro", facts.neuro_findings)
    for d in oral:
        c.line("draft", draft=d.describe())
    c.act("start", regimen=compose.regimen_words(facts, compose.regimen(facts, "neuro")))
    c.act("seek_advice", "oral_not_enough", *(["potassium"] if potassium else []))
    c.caveat("untreated")
    c.treat("neuro")
    c.offers += [
        compose.referral(facts, "neurology_referral", urgent=True, reasons=c.refs),
        compose.referral(facts, "haematology_referral", urgent=True, reasons=c.refs),
    ]
    if potassium:
        c.offers.append(compose.lab_test(facts, "potassium", c.refs, timing=POTASSIUM_TIMING))
    c.offers += [
        compose.delete(c.say("label.remove_draft", medication=d.medication.name), d.ref, False)
        for d in oral
        if d.ref and d.route in (Route.ORAL, Route.NASAL, Route.UNKNOWN)
    ]
    c.refs += [d.ref for d in oral]
    source = compose.regimen_source(facts)
    return [c.card(Indicator.CRITICAL, "summary", [source, "S-FDA-CN", "S-BSH"])]
