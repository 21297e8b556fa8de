"""R22 `cyanocobalamin-safety`: cautions specific to cyanocobalamin orders.

clinical-rules §7.22. From the FDA cyanocobalamin label [V] S-FDA-CN: most of an IV dose is lost
in the urine; severe and rapid optic atrophy in early Leber's disease; benzyl alcohol ("gasping
syndrome" in premature infants) and aluminium (renal impairment) excipients. US hydroxocobalamin
label regimen 30 micrograms daily for 5-10 days, then 100-200 micrograms monthly [V] S-FDA-OH.
"""

from __future__ import annotations

from cards import compose
from cards import orders
from cards.facts import Facts
from cards.facts import Order
from cards.medications import B12Product
from cards.medications import Route
from cards.model import Card
from cards.model import Indicator
from cards.settings import Profile
from cards.wording import say


RULE_ID = "cyanocobalamin-safety"
TITLE = "Cyanocobalamin order cautions"
HOOKS = ("order-select", "order-sign")
SOURCES = ("S-FDA-CN", "S-FDA-OH")
SETTINGS = ("infant_max_age_years", "egfr_renal_flag_below")


def _injectable(order: Order) -> bool:
    return order.route.parenteral or order.medication.product_route is Route.PARENTERAL


def evaluate(facts: Facts) -> list[Card]:
    """Return one card per focused cyanocobalamin draft and branch that holds."""
    if not facts.is_order_hook:
        return []
    drafts = [
        d
        for d in facts.focused_drafts()
        if d.medication.b12 is B12Product.CYANOCOBALAMIN and not d.medication.cyanide_antidote
    ]
    cards: list[Card] = []
    for draft in drafts:
        if draft.route is Route.IV:
            cards.append(_intravenous(facts, draft))
        if facts.optic_atrophy:
            cards.append(_optic_atrophy(facts, draft))
        infant = (
            facts.age_years is not None and facts.age_years < facts.settings.infant_max_age_years
        )
        if _injectable(draft) and (infant or facts.renal_flag):
            cards.append(_excipients(facts, draft, infant))
    return cards


def _order_line(facts: Facts, draft: Order) -> str:
    return say(facts, f"{RULE_ID}.evidence.order", order=draft.describe())


def _intravenous(facts: Facts, draft: Order) -> Card:
    name = draft.medication.name
    offers = [compose.delete(say(facts, f"{RULE_ID}.label.remove_iv", name=name), draft.ref, True)]
    actions = [say(facts, f"{RULE_ID}.action.iv_lost")]
    if facts.optic_atrophy:
        # Cyanocobalamin by any route is cautioned in Leber's disease: no IM copy is offered.
        actions.append(say(facts, f"{RULE_ID}.action.see_leber"))
    elif draft.raw is not None:
        resource = orders.with_route_im(draft.raw, facts.patient_id)
        offers.append(compose.create(say(facts, f"{RULE_ID}.label.order_im"), resource, True))
    return compose.card(
        facts,
        RULE_ID,
        TITLE,
        Indicator.WARNING,
        say(facts, f"{RULE_ID}.summary.iv"),
        compose.detail(facts, [_order_line(facts, draft)], actions, [], ["S-FDA-CN"]),
        [draft.ref, "iv"],
        "S-FDA-CN",
        offers,
    )


def _optic_atrophy(facts: Facts, draft: Order) -> Card:
    name = draft.medication.name
    offers = [compose.delete(say(facts, f"{RULE_ID}.label.remove", name=name), draft.ref, True)]
    actions = [say(facts, f"{RULE_ID}.action.leber")]
    if facts.profile is Profile.UK:
        kind = "neuro" if facts.neuro_findings else "standard"
        chosen = compose.regimen(facts, kind)
        words = compose.regimen_words(facts, chosen)
        actions.append(say(facts, f"{RULE_ID}.action.hydroxocobalamin", regimen=words))
        offers.append(compose.treatment(facts, kind, [f.ref for f in facts.optic_atrophy]))
    else:
        actions.append(say(facts, f"{RULE_ID}.action.us_hydroxocobalamin"))
    return compose.card(
        facts,
        RULE_ID,
        TITLE,
        Indicator.WARNING,
        say(facts, f"{RULE_ID}.summary.optic"),
        compose.detail(
            facts,
            [_order_line(facts, draft)]
            + [
                say(facts, f"{RULE_ID}.evidence.optic", finding=f.describe())
                for f in facts.optic_atrophy
            ],
            actions,
            [],
            ["S-FDA-CN", "S-FDA-OH"],
        ),
        [draft.ref, "optic", *(f.ref for f in facts.optic_atrophy)],
        "S-FDA-CN",
        offers,
    )


def _excipients(facts: Facts, draft: Order, infant: bool) -> Card:
    evidence = [_order_line(facts, draft)]
    actions = []
    if infant:
        evidence.append(say(facts, f"{RULE_ID}.evidence.age", age=facts.age_years))
        actions.append(say(facts, f"{RULE_ID}.action.benzyl_alcohol"))
    if facts.renal_flag:
        if facts.egfr is not None:
            evidence.append(facts.egfr.describe())
        actions.append(say(facts, f"{RULE_ID}.action.aluminium"))
    return compose.card(
        facts,
        RULE_ID,
        TITLE,
        Indicator.INFO,
        say(facts, f"{RULE_ID}.summary.excipients"),
        compose.detail(facts, evidence, actions, [], ["S-FDA-CN"]),
        [draft.ref, "excipients"],
        "S-FDA-CN",
    )
