"""R3 `folate-before-b12`: folic acid ordered while B12 deficiency is untreated or not excluded.

clinical-rules §7.3. Folic acid above about 0.1 mg/day can correct the blood picture of B12
deficiency while neurological damage progresses [V] S-FDA-CN. Sources: S-CKS [V2], S-BSH [V],
S-US-DOSE [V2] (pemetrexed premedication), S-LC-FOL [V] (folic acid in combination vitamins).
"""

from __future__ import annotations

from cards import compose
from cards.facts import B12Status
from cards.facts import Facts
from cards.facts import Order
from cards.medications import Recognised
from cards.model import Card
from cards.model import Indicator
from cards.wording import say


RULE_ID = "folate-before-b12"
TITLE = "Folic acid ordered before B12 deficiency is treated or excluded"
HOOKS = ("order-select", "order-sign")
SOURCES = ("S-FDA-CN", "S-CKS", "S-BSH", "S-US-DOSE", "S-LC-FOL")
SETTINGS = (
    "folate_min_daily_mg",
    "folate_unknown_b12_mode",
    "folate_exemptions",
    "prenatal_folate_max_daily_mg",
    "treat_folinic_as_folate",
    "treat_methylfolate_as_folate",
    "assume_folic_acid_in_prenatal_text",
    "assume_folic_acid_in_multivitamin_text",
)


def _offending(facts: Facts) -> list[Order]:
    """Return the focused folic acid drafts at or above the configured daily dose."""
    return [
        d
        for d in facts.focused_drafts()
        if d.medication.folic_acid is not None
        and (d.daily_mg is None or d.daily_mg > facts.settings.folate_min_daily_mg)
    ]


def _exempt(facts: Facts, drafts: list[Order]) -> str:
    """Return the exemption that silences the warning branch, or '' (§7.3 exemptions)."""
    if facts.anaemia or facts.macrocytosis or facts.neuro_findings:
        return ""
    allowed = facts.settings.folate_exemptions
    if "methotrexate" in allowed and (
        facts.methotrexate_active or any(d.medication.methotrexate for d in facts.drafts)
    ):
        return "methotrexate"
    if "pemetrexed" in allowed and facts.pemetrexed_active:
        return "pemetrexed"
    limit = facts.settings.prenatal_folate_max_daily_mg
    if (
        "prenatal" in allowed
        and facts.pregnant
        and all(d.daily_mg is not None and d.daily_mg <= limit for d in drafts)
    ):
        return "prenatal"
    return ""


def _order_line(facts: Facts, order: Order) -> str:
    how = order.medication.folic_acid
    line = order.describe()
    if how is Recognised.TEXT:
        return say(facts, f"{RULE_ID}.evidence.order_text", order=line)
    if how is Recognised.COMBINATION:
        return say(facts, f"{RULE_ID}.evidence.order_combination", order=line)
    if how:
        return say(facts, f"{RULE_ID}.evidence.order_recognised", order=line, how=how.value)
    return say(facts, f"{RULE_ID}.evidence.order_code", order=line)


def evaluate(facts: Facts) -> list[Card]:
    """Return one card listing every focused folic acid draft while B12 is not settled."""
    drafts = _offending(facts)
    if not drafts or facts.on_any_b12:
        return []
    if facts.b12_deficient:
        indicator = Indicator.CRITICAL
    elif facts.b12_status in (B12Status.UNKNOWN, B12Status.INDETERMINATE):
        if _exempt(facts, drafts):
            return []
        if (
            facts.settings.folate_unknown_b12_mode == "macrocytosis-only"
            and facts.b12_status is B12Status.UNKNOWN
            and not (facts.anaemia or facts.macrocytosis)
        ):
            return []
        indicator = Indicator.WARNING
    else:
        return []
    refs = compose.b12_evidence_refs(facts)
    evidence = [_order_line(facts, d) for d in drafts] + compose.b12_evidence(facts)
    for result in (facts.haemoglobin, facts.mcv):
        if result is not None and (facts.anaemia or facts.macrocytosis):
            evidence.append(result.describe())
    actions = [say(facts, f"{RULE_ID}.action.masking")]
    offers = [
        compose.delete(
            say(facts, f"{RULE_ID}.label.remove_draft", medication=d.medication.name),
            d.ref,
            recommended=True,
        )
        for d in drafts
        if d.ref and indicator is Indicator.CRITICAL
    ]
    if indicator is Indicator.CRITICAL:
        summary = say(facts, f"{RULE_ID}.summary.critical")
        kind = "neuro" if facts.neuro_findings else "standard"
        words = compose.regimen_words(facts, compose.regimen(facts, kind))
        actions.append(say(facts, f"{RULE_ID}.action.start_b12", regimen=words))
        offers.append(compose.treatment(facts, kind, refs))
    else:
        summary = say(facts, f"{RULE_ID}.summary.warning")
        if facts.b12_status is B12Status.UNKNOWN:
            actions.append(say(facts, f"{RULE_ID}.action.check_b12"))
            offers.append(compose.lab_test(facts, "b12", refs, recommended=True))
        else:
            actions.append(say(facts, f"{RULE_ID}.action.measure_mma"))
            if not facts.drafted_tests("mma") and facts.mma is None:
                offers.append(compose.lab_test(facts, "mma", refs, recommended=True))
    caveats: list[str] = []  # the under-16 and unknown-age notes come from services.interact
    return [
        compose.card(
            facts,
            RULE_ID,
            TITLE,
            indicator,
            summary,
            compose.detail(facts, evidence, actions, caveats, ["S-FDA-CN", "S-CKS", "S-BSH"]),
            refs + [d.ref for d in drafts],
            "S-FDA-CN",
            offers,
        )
    ]
