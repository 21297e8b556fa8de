"""R10 `nitrous-oxide`: nitrous oxide with B12 deficiency or risk, or recreational use.

clinical-rules §7.10. Nitrous oxide inactivates B12; subacute combined degeneration has followed
N2O anaesthesia in unrecognised deficiency [V] S-N2O; NG239 rec 1.1.3 names recreational N2O
[V2] S-NG239; serum B12 can be normal, homocysteine/MMA show the functional deficiency [V] S-UMICH.
Methotrexate and N2O impair the same pathway (§7.10, R23).

Second edition (§11.9): a drafted N2O is critical only for a deficient patient who is not up to
date on parenteral B12 (a pernicious anaemia patient whose injections are current gets the
warning); the F18 caveat appears only when the exposure was found through an F18 code alone.
The suppression of `b12-deficiency-untreated` by the recreational card is in cards/services.py.
"""

from __future__ import annotations

from dataclasses import replace

from cards import compose
from cards import maintenance
from cards.draft import Draft
from cards.facts import B12Status
from cards.facts import Facts
from cards.facts import Hook
from cards.model import Card
from cards.model import Indicator


RULE_ID = "nitrous-oxide"
TITLE = "Nitrous oxide and vitamin B12"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-N2O", "S-NG239", "S-UMICH")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "order-intended",
    "specialist-managing",
    "record-incorrect",
    "patient-declined",
)
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
    protected = _parenteral_up_to_date(facts)
    critical = facts.b12_deficient and not protected
    c = Draft(facts, RULE_ID, TITLE, refs=compose.b12_evidence_refs(facts))
    for d in drafts:
        c.line("order_from_text" if d.medication.text_only else "order", order=d.describe())
    c.evidence += compose.b12_evidence(facts)
    c.each("neuro", facts.neuro_findings)
    if facts.b12_deficient and protected:
        c.line("up_to_date")
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
    if facts.b12_status is B12Status.UNKNOWN and not facts.b12_deficient:
        c.offers.append(compose.lab_test(facts, "b12", c.refs))
    elif indeterminate and facts.mma is None and not facts.drafted_tests("mma"):
        c.offers.append(compose.lab_test(facts, "mma", c.refs))
    c.refs += [d.ref for d in drafts]
    indicator = Indicator.CRITICAL if critical else Indicator.WARNING
    summary = "summary.deficient" if critical else "summary.risk"
    return [c.card(indicator, summary, ["S-NG239", "S-N2O"])]


def _parenteral_up_to_date(facts: Facts) -> bool:
    """Return whether recorded parenteral B12 is current and its maintenance is not overdue.

    §11.9 (a): `on_parenteral_b12` with maintenance not overdue (§7.17, judged on the record as
    `maintenance-overdue` would judge it at chart open). A parenteral B12 drafted in the same
    order set is not yet a dose given, so it does not make the deficient patient's card a warning.
    """
    if not facts.on_parenteral_b12_record:
        return False
    record = replace(facts, hook=Hook.PATIENT_VIEW, b12_drafted=False)
    return maintenance.overdue(record) is None


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
    if not facts.n2o_exposure_specific:  # §11.9: found through an F18 (any inhalant) code alone
        c.caveat("codes")
    c.offers += [
        compose.lab_test(facts, "homocysteine", c.refs, recommended=True),
        compose.lab_test(facts, "mma", c.refs),
        compose.referral(facts, "neurology_referral", urgent=True, reasons=c.refs),
    ]
    if not treated:
        c.treat("neuro")  # the B12 regimen, and the folic acid part with a low folate (§11.6)
    indicator = Indicator.WARNING if treated else Indicator.CRITICAL
    return [c.card(indicator, "summary.recreational", ["S-NG239", "S-N2O", "S-UMICH"])]
