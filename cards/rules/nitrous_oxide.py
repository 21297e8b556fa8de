"""R10 `nitrous-oxide`: nitrous oxide with B12 deficiency or risk, or recreational use.

clinical-rules §7.10. Nitrous oxide inactivates B12; subacute combined degeneration has followed
N2O anaesthesia in unrecognised deficiency [V] S-N2O; NG239 rec 1.1.3 names recreational N2O
[V2] S-NG239; serum B12 can be normal, homocysteine/MMA show the functional deficiency [V] S-UMICH.
Methotrexate and N2O impair the same pathway (§7.10, R23).
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import B12Status
from cards.facts import Facts
from cards.model import Card
from cards.model import Indicator


RULE_ID = "nitrous-oxide"
TITLE = "Nitrous oxide and vitamin B12"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-N2O", "S-NG239", "S-UMICH")
SETTINGS: tuple[str, ...] = ()


def evaluate(facts: Facts) -> list[Card]:
    """Return the drafted-N2O card in order hooks, the recreational-use card on patient-view."""
    return _drafted(facts) if facts.is_order_hook else _recreational(facts)


def _drafted(facts: Facts) -> list[Card]:
    drafts = [d for d in facts.focused_drafts() if d.medication.nitrous_oxide]
    indeterminate = facts.b12_status is B12Status.INDETERMINATE
    risk = indeterminate or facts.methotrexate_active or facts.neuro_findings
    if not drafts or not (facts.b12_deficient or risk):
        return []
    critical = facts.b12_deficient
    c = Draft(facts, RULE_ID, TITLE, refs=compose.b12_evidence_refs(facts))
    for d in drafts:
        c.line("order_from_text" if d.medication.text_only else "order", order=d.describe())
    c.evidence += compose.b12_evidence(facts)
    c.each("neuro", facts.neuro_findings)
    if indeterminate:  # the risks other than neurological findings
        c.line("also_indeterminate")
    if facts.methotrexate_active:
        c.line("also_methotrexate")
    c.act("inactivates", "alternative", *(["methotrexate"] if facts.methotrexate_active else []))
    recommended = True if critical else None
    c.offers += [
        compose.delete(c.say("label.remove", name=d.medication.name), d.ref, recommended)
        for d in drafts
        if d.ref
    ]
    if facts.b12_status is B12Status.UNKNOWN and not critical:
        c.offers.append(compose.lab_test(facts, "b12", c.refs))
    elif indeterminate and facts.mma is None and not facts.drafted_tests("mma"):
        c.offers.append(compose.lab_test(facts, "mma", c.refs))
    c.refs += [d.ref for d in drafts]
    indicator = Indicator.CRITICAL if critical else Indicator.WARNING
    summary = "summary.deficient" if critical else "summary.risk"
    return [c.card(indicator, summary, ["S-NG239", "S-N2O"])]


def _recreational(facts: Facts) -> list[Card]:
    if not facts.n2o_exposure or not (facts.neuro_findings or facts.anaemia or facts.macrocytosis):
        return []
    treated = facts.on_parenteral_b12
    c = Draft(facts, RULE_ID, TITLE)
    c.cite([*facts.n2o_exposure, *facts.neuro_findings])
    c.refs += compose.b12_evidence_refs(facts)
    c.each("use", facts.n2o_exposure)
    c.each("neuro", facts.neuro_findings)
    if facts.anaemia or facts.macrocytosis:
        c.evidence += [r.describe() for r in (facts.haemoglobin, facts.mcv) if r is not None]
    c.evidence += compose.b12_evidence(facts)
    if treated:
        c.line("treated")
    c.act("measure", "treat_neuro")
    if not treated:
        c.act("start", regimen=compose.regimen_words(facts, compose.regimen(facts, "neuro")))
    c.caveat("codes")
    c.offers += [
        compose.lab_test(facts, "homocysteine", c.refs, recommended=True),
        compose.lab_test(facts, "mma", c.refs),
        compose.referral(facts, "neurology_referral", urgent=True, reasons=c.refs),
    ]
    if not treated:
        c.offers.append(compose.treatment(facts, "neuro", c.refs))
    indicator = Indicator.WARNING if treated else Indicator.CRITICAL
    return [c.card(indicator, "summary.recreational", ["S-NG239", "S-N2O", "S-UMICH"])]
