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


RULE_ID = "cyanocobalamin-safety"
TITLE = "Cyanocobalamin order cautions"
HOOKS = ("order-select", "order-sign")
TRIGGER = (
    "A focused cyanocobalamin draft (hydroxocobalamin and cyanide antidotes excluded) with "
    "(a) the IV route, (b) optic atrophy or Leber's disease on record, or (c) an injectable "
    "product for a patient under `infant_max_age_years` or with the renal flag."
)
INDICATOR = "warning for (a) and (b); info for (c)."
SUGGESTS = (
    "(a) delete the IV draft and, for adults, create the same order given IM; (b) delete the "
    "draft and, for adults in uk, create the hydroxocobalamin regimen (us: the detail names the "
    "US hydroxocobalamin label regimen)."
)
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


def _intravenous(facts: Facts, draft: Order) -> Card:
    offers = [compose.delete(f"Remove the IV draft {draft.medication.name}", draft.ref, True)]
    actions = [
        "Most of an intravenous cyanocobalamin dose is lost in the urine: give it "
        "intramuscularly or by deep subcutaneous injection.",
    ]
    if facts.optic_atrophy:
        # Cyanocobalamin by any route is cautioned in Leber's disease: no IM copy is offered.
        actions.append("Optic atrophy is on record: see the card on Leber's disease.")
    elif draft.raw is not None:
        resource = orders.with_route_im(draft.raw, facts.patient_id)
        offers.append(
            compose.create("Order the same cyanocobalamin intramuscularly", resource, True)
        )
    return compose.card(
        facts,
        RULE_ID,
        TITLE,
        Indicator.WARNING,
        "Cyanocobalamin ordered IV: most of an IV dose is lost in the urine; use IM or deep SC",
        compose.detail(
            facts, [f"Cyanocobalamin order: {draft.describe()}"], actions, [], ["S-FDA-CN"]
        ),
        [draft.ref, "iv"],
        "S-FDA-CN",
        offers,
    )


def _optic_atrophy(facts: Facts, draft: Order) -> Card:
    offers = [compose.delete(f"Remove the draft {draft.medication.name}", draft.ref, True)]
    actions = [
        "Severe and rapid optic atrophy has been reported in early Leber's disease treated with "
        "cyanocobalamin: consider hydroxocobalamin instead.",
    ]
    if facts.profile is Profile.UK:
        kind = "neuro" if facts.neuro_findings else "standard"
        chosen = compose.regimen(facts, kind)
        actions.append(f"Hydroxocobalamin: {compose.regimen_words(facts, chosen)}")
        offers.append(compose.treatment(facts, kind, [f.ref for f in facts.optic_atrophy]))
    else:
        actions.append(
            "The US hydroxocobalamin label regimen is 30 micrograms daily for 5-10 days, then "
            "100-200 micrograms monthly (FDA label); the prescriber writes it."
        )
    return compose.card(
        facts,
        RULE_ID,
        TITLE,
        Indicator.WARNING,
        "Cyanocobalamin with optic atrophy or Leber's disease on record: consider hydroxocobalamin",
        compose.detail(
            facts,
            [f"Cyanocobalamin order: {draft.describe()}"]
            + [f"Optic atrophy: {f.describe()}" for f in facts.optic_atrophy],
            actions,
            [],
            ["S-FDA-CN", "S-FDA-OH"],
        ),
        [draft.ref, "optic", *(f.ref for f in facts.optic_atrophy)],
        "S-FDA-CN",
        offers,
    )


def _excipients(facts: Facts, draft: Order, infant: bool) -> Card:
    evidence = [f"Cyanocobalamin order: {draft.describe()}"]
    actions = []
    if infant:
        evidence.append(f"Age {facts.age_years} years")
        actions.append(
            "Benzyl alcohol in some cyanocobalamin injections has been linked to a fatal "
            '"gasping syndrome" in premature infants: check the product\'s excipients.'
        )
    if facts.renal_flag:
        if facts.egfr is not None:
            evidence.append(facts.egfr.describe())
        actions.append(
            "Aluminium in the injection can accumulate when renal function is impaired: check "
            "the product and monitor."
        )
    return compose.card(
        facts,
        RULE_ID,
        TITLE,
        Indicator.INFO,
        "Cyanocobalamin injection: check excipient cautions (benzyl alcohol in infants, "
        "aluminium in renal impairment)",
        compose.detail(facts, evidence, actions, [], ["S-FDA-CN"]),
        [draft.ref, "excipients"],
        "S-FDA-CN",
    )
