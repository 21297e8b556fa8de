"""R22 `cyanocobalamin-safety`: cautions specific to cyanocobalamin orders.

clinical-rules §7.22. From the FDA cyanocobalamin label [V] S-FDA-CN: most of an IV dose is lost
in the urine; severe and rapid optic atrophy in early Leber's disease; benzyl alcohol ("gasping
syndrome" in premature infants) and aluminium (renal impairment) excipients. US hydroxocobalamin
label regimen 30 micrograms daily for 5-10 days, then 100-200 micrograms monthly [V] S-FDA-OH.
The UK hydroxocobalamin monograph lists Leber's optic atrophy among its indications [V2] S-BNF
(via the UK product information): the uk optic-atrophy card's first source (§11.4).
"""

from __future__ import annotations

from cards import compose
from cards import orders
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Order
from cards.medications import B12Product
from cards.medications import Route
from cards.model import Card
from cards.model import Indicator
from cards.settings import Profile


RULE_ID = "cyanocobalamin-safety"
TITLE = "Cyanocobalamin order cautions"
HOOKS = ("order-select", "order-sign")
SOURCES = ("S-FDA-CN", "S-FDA-OH", "S-BNF")
OVERRIDE_REASONS = ("order-intended", "record-incorrect", "specialist-managing")
SETTINGS = ("infant_max_age_years", "egfr_renal_flag_below")


def evaluate(facts: Facts) -> list[Card]:
    """Return one card per focused cyanocobalamin draft and branch that holds."""
    if not facts.is_order_hook:
        return []
    infant = facts.age_years is not None and facts.age_years < facts.settings.infant_max_age_years
    cards: list[Card] = []
    for d in facts.focused_drafts():
        if d.medication.b12 is not B12Product.CYANOCOBALAMIN or d.medication.cyanide_antidote:
            continue
        if d.route is Route.IV:
            cards.append(_intravenous(facts, d))
        if facts.optic_atrophy:
            cards.append(_optic_atrophy(facts, d))
        injectable = d.route.parenteral or d.medication.product_route is Route.PARENTERAL
        if injectable and (infant or facts.renal_flag):
            cards.append(_excipients(facts, d, infant))
    return cards


def _draft(facts: Facts, order: Order, branch: str) -> Draft:
    """Return a card about one draft: identified by the draft and the branch, the order first."""
    c = Draft(facts, RULE_ID, TITLE, refs=[order.ref, branch])
    c.line("order", order=order.describe())
    return c


def _intravenous(facts: Facts, order: Order) -> Card:
    c = _draft(facts, order, "iv")
    c.act("iv_lost")
    c.offers.append(
        compose.delete(c.say("label.remove_iv", name=order.medication.name), order.ref, True)
    )
    if facts.optic_atrophy:
        # Cyanocobalamin by any route is cautioned in Leber's disease: no IM copy is offered.
        c.act("see_leber")
    elif order.raw is not None:
        resource = orders.with_route_im(order.raw, facts.patient_id)
        c.offers.append(compose.create(c.say("label.order_im"), resource, True))
    return c.card(Indicator.WARNING, "summary.iv", ["S-FDA-CN"])


def _optic_atrophy(facts: Facts, order: Order) -> Card:
    c = _draft(facts, order, "optic")
    c.refs += [f.ref for f in facts.optic_atrophy]
    c.each("optic", facts.optic_atrophy)
    c.act("leber")
    c.offers.append(
        compose.delete(c.say("label.remove", name=order.medication.name), order.ref, True)
    )
    if facts.profile is Profile.UK:
        kind = "neuro" if facts.neuro_findings else "standard"
        regimen = compose.regimen_words(facts, compose.regimen(facts, kind))
        c.act("hydroxocobalamin", regimen=regimen)
        c.offers.append(compose.treatment(facts, kind, [f.ref for f in facts.optic_atrophy]))
    else:
        c.act("us_hydroxocobalamin")
    return c.card(Indicator.WARNING, "summary.optic", ["S-FDA-CN", "S-FDA-OH", "S-BNF"])


def _excipients(facts: Facts, order: Order, infant: bool) -> Card:
    c = _draft(facts, order, "excipients")
    if infant:
        c.line("age", age=facts.age_years)
        c.act("benzyl_alcohol")
    if facts.renal_flag:
        if facts.egfr is not None:
            c.evidence.append(facts.egfr.describe())
        c.act("aluminium")
    return c.card(Indicator.INFO, "summary.excipients", ["S-FDA-CN"])
