"""R19 `paediatric-specialist`: children need paediatric dosing and specialist advice.

clinical-rules §7.19. NG239 covers people over 16 [V2] S-NG239; paediatric regimens were not
researched [U], so the service never suggests a dose for a child and hands over to a specialist.
The card replaces every adult-dose card the child's record would raise (judged as at chart open,
whatever the hook) and names every card whose B12 regimen the under-16 guard dropped. Ages under
2 years are shown in months; with neurological findings the site's paediatric referral (a
`paediatric_referral` row of its order-codes.csv; none is packaged) is urgent (§11.12).
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence

from cards import compose
from cards import maintenance
from cards import terminology as vs
from cards.draft import Draft
from cards.facts import B12Status
from cards.facts import Facts
from cards.model import Card
from cards.model import Indicator
from cards.rules import b12_deficiency_untreated
from cards.rules import b12_neuro_untreated
from cards.rules import bariatric_prophylaxis
from cards.rules import ileal_resection
from cards.rules import pernicious_anaemia_oral
from cards.rules import vegan_diet_supplement
from cards.wording import say


RULE_ID = "paediatric-specialist"
TITLE = "Under 16: paediatric specialist advice on vitamin B12"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-NG239",)
OVERRIDE_REASONS = (
    "specialist-managing",
    "already-treated-elsewhere",
    "record-incorrect",
    "patient-declined",
)
SETTINGS = ("age_min_adult",)

# The adult-dose group of §7.0, with the message naming the advice each card would give.
ADULT_DOSE_GROUP = (
    (b12_neuro_untreated, f"{RULE_ID}.advice.neuro_untreated"),
    (b12_deficiency_untreated, f"{RULE_ID}.advice.deficiency_untreated"),
    (bariatric_prophylaxis, f"{RULE_ID}.advice.bariatric"),
    (vegan_diet_supplement, f"{RULE_ID}.advice.vegan"),
    (pernicious_anaemia_oral, f"{RULE_ID}.advice.pernicious_anaemia_oral"),
    (ileal_resection, f"{RULE_ID}.advice.ileal_resection"),
)


def replaced_cards(facts: Facts, silenced: Collection[str] = ()) -> list[tuple[Card, str]]:
    """Return the adult-dose cards the record would raise for an adult at chart open."""
    adult = facts.adult_view()
    if maintenance.overdue(adult) is not None:  # a lapsed course replaces them (§7.17)
        silenced = {*silenced, b12_neuro_untreated.RULE_ID, b12_deficiency_untreated.RULE_ID}
    found = []
    for module, advice in ADULT_DOSE_GROUP:
        if module.RULE_ID in silenced:
            continue
        if module is ileal_resection and not ileal_resection.treatment_branch(facts):
            continue  # the monitoring branch still fires for children (§7.14)
        found += [(card, say(facts, advice)) for card in module.evaluate(adult)]
    if any(card.rule_id == b12_neuro_untreated.RULE_ID for card, _ in found):
        found = [(c, a) for c, a in found if c.rule_id != b12_deficiency_untreated.RULE_ID]
    return found


def evaluate(
    facts: Facts, dropped: Sequence[Card] = (), silenced: Collection[str] = ()
) -> list[Card]:
    """Return the specialist-advice card for a child, or nothing.

    Args:
        facts: the request's facts.
        dropped: cards of this response whose B12 regimen the under-16 guard removed.
        silenced: rule ids another card of the response replaces (they count as not firing).
    """
    if not facts.is_child:
        return []
    replaced = replaced_cards(facts, silenced)
    drafted = [d for d in facts.drafts if d.is_b12]
    indeterminate = facts.b12_status is B12Status.INDETERMINATE
    if not (replaced or dropped or drafted or indeterminate):
        return []
    if any(card.rule_id == b12_neuro_untreated.RULE_ID for card, _ in replaced):
        indicator = Indicator.CRITICAL
    elif any(card.indicator is Indicator.WARNING for card, _ in replaced) or any(
        card.indicator is Indicator.CRITICAL for card in dropped
    ):
        indicator = Indicator.WARNING
    else:
        indicator = Indicator.INFO
    age_min = facts.settings.age_min_adult
    c = Draft(facts, RULE_ID, TITLE)
    months = facts.age_months
    shown = str(months) if months is not None and months < 24 else ""  # §11.12: under 2
    c.line("age", age=facts.age_years, months=shown, age_min=age_min)
    for card, advice in replaced:
        c.act("replaced", advice=advice, summary=card.summary)
        c.evidence += compose.evidence_lines(card)
    for card in dropped:
        c.act("dropped", summary=card.summary)
    for d in drafted:
        c.line("drafted", product=d.medication.name)
    if indeterminate and facts.b12_first_line is not None:
        c.line("indeterminate", result=facts.b12_first_line.describe())
    c.evidence = list(dict.fromkeys(c.evidence))
    c.act("specialist")
    if "paediatric_referral" in vs.ORDER_CODES:  # no code was sourced: only a site's own (§2.6)
        # §11.12: urgent with neurological findings, whatever card the child's record replaces.
        urgent = indicator is Indicator.CRITICAL or bool(facts.neuro_findings)
        c.offers.append(
            compose.referral(facts, "paediatric_referral", urgent, compose.b12_evidence_refs(facts))
        )
    c.refs += [card.rule_id for card, _ in replaced] + [card.uuid for card in dropped]
    c.refs += [d.ref for d in drafted] + compose.b12_evidence_refs(facts)
    return [c.card(indicator, "summary", ["S-NG239"], age=age_min)]
