"""R3 `folate-before-b12`: folic acid ordered while B12 deficiency is untreated or not excluded.

clinical-rules §7.3. Folic acid above about 0.1 mg/day can correct the blood picture of B12
deficiency while neurological damage progresses [V] S-FDA-CN. Sources: S-CKS [V2], S-BSH [V],
S-US-DOSE [V2] (pemetrexed premedication), S-LC-FOL [V] (folic acid in combination vitamins).
§11.5 (second edition): folic acid that protects (pregnancy, up to 5 mg a day; methotrexate or
pemetrexed active or drafted) stays: the critical card recommends the B12 regimen and offers each
delete not recommended. §11.6: with low folate as well, the folic acid action and evidence.
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import B12Status
from cards.facts import Facts
from cards.facts import Order
from cards.medications import Recognised
from cards.model import Card
from cards.model import Indicator


RULE_ID = "folate-before-b12"
TITLE = "Folic acid ordered before B12 deficiency is treated or excluded"
HOOKS = ("order-select", "order-sign")
SOURCES = ("S-FDA-CN", "S-CKS", "S-BSH", "S-US-DOSE", "S-LC-FOL")
OVERRIDE_REASONS = (
    "b12-deficiency-excluded",
    "already-treated-elsewhere",
    "folic-acid-needed",
    "result-not-current",
    "record-incorrect",
    "patient-declined",
)
SETTINGS = (
    "folate_min_daily_mg",
    "folate_unknown_b12_mode",
    "folate_exemptions",
    "prenatal_folate_max_daily_mg",
    "protective_folate_max_daily_mg",
    "folate_regimen",
    "treat_folinic_as_folate",
    "treat_methylfolate_as_folate",
    "assume_folic_acid_in_prenatal_text",
    "assume_folic_acid_in_multivitamin_text",
)


def _exempt(facts: Facts, drafts: list[Order]) -> bool:
    """Return whether an exemption silences the warning branch (§7.3 exemptions)."""
    allowed = facts.settings.folate_exemptions
    limit = facts.settings.prenatal_folate_max_daily_mg
    methotrexate = facts.methotrexate_active or any(d.medication.methotrexate for d in facts.drafts)
    prenatal = facts.pregnant and all(
        d.daily_mg is not None and d.daily_mg <= limit for d in drafts
    )
    return not (facts.anaemia or facts.macrocytosis or facts.neuro_findings) and (
        ("methotrexate" in allowed and methotrexate)
        or ("pemetrexed" in allowed and facts.pemetrexed_active)
        or ("prenatal" in allowed and prenatal)
    )


def _protects(facts: Facts, drafts: list[Order]) -> str:
    """Return why the folic acid protects (§11.5): "pregnancy", "methotrexate", or ""."""
    limit = facts.settings.protective_folate_max_daily_mg
    if facts.pregnant and all(d.daily_mg is not None and d.daily_mg <= limit for d in drafts):
        return "pregnancy"
    if (
        facts.methotrexate_active
        or facts.pemetrexed_active
        or any(d.medication.methotrexate or d.medication.pemetrexed for d in facts.drafts)
    ):
        return "methotrexate"
    return ""


def evaluate(facts: Facts) -> list[Card]:
    """Return one card listing every focused folic acid draft while B12 is not settled."""
    minimum = facts.settings.folate_min_daily_mg
    drafts = [
        d
        for d in facts.focused_drafts()
        if d.medication.folic_acid is not None and (d.daily_mg is None or d.daily_mg > minimum)
    ]
    critical = facts.b12_deficient
    unknown = facts.b12_status is B12Status.UNKNOWN
    blood = facts.anaemia or facts.macrocytosis
    macrocytosis_only = facts.settings.folate_unknown_b12_mode == "macrocytosis-only"
    warning = (
        (unknown or facts.b12_status is B12Status.INDETERMINATE)
        and not _exempt(facts, drafts)
        and not (macrocytosis_only and unknown and not blood)
    )
    if not drafts or facts.on_any_b12 or not (critical or warning):
        return []
    c = Draft(facts, RULE_ID, TITLE, refs=compose.b12_evidence_refs(facts))
    for d in drafts:
        how = d.medication.folic_acid
        if how is Recognised.TEXT:
            c.line("order_text", order=d.describe())
        elif how is Recognised.COMBINATION:
            c.line("order_combination", order=d.describe())
        elif how:
            c.line("order_recognised", order=d.describe(), how=how.value)
        else:
            c.line("order_code", order=d.describe())
    c.evidence += compose.b12_evidence(facts)
    if blood:
        c.evidence += [r.describe() for r in (facts.haemoglobin, facts.mcv) if r is not None]
    c.act("masking")
    protects = _protects(facts, drafts) if critical else ""
    if critical:
        kind = "neuro" if facts.neuro_findings else "standard"
        c.act("start_b12", regimen=compose.regimen_words(facts, compose.regimen(facts, kind)))
        if protects == "pregnancy":
            c.act("keep_pregnancy")
        elif protects:
            c.act("keep_methotrexate")
        c.offers += [
            compose.delete(
                c.say("label.remove_draft", medication=d.medication.name), d.ref, not protects
            )
            for d in drafts
            if d.ref
        ]
        # the clinician's folic acid draft is the folic acid of §11.6: no second one is offered
        c.treat(kind, folic_acid_offer=False)
    elif unknown:
        c.act("check_b12")
        c.offers.append(compose.lab_test(facts, "b12", c.refs, recommended=True))
    else:
        c.act("measure_mma")
        if not facts.drafted_tests("mma") and facts.mma is None:
            c.offers.append(compose.lab_test(facts, "mma", c.refs, recommended=True))
    # no caveats: the under-16 and unknown-age notes come from services.interact
    c.refs += [d.ref for d in drafts]
    indicator = Indicator.CRITICAL if critical else Indicator.WARNING
    summary = (
        ("summary.protective" if protects else "summary.critical")
        if critical
        else "summary.warning"
    )
    return [c.card(indicator, summary, ["S-FDA-CN", "S-CKS", "S-BSH"])]
