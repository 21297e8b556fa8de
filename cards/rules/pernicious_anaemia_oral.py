"""R16 `pernicious-anaemia-oral`: pernicious anaemia or gastrectomy on oral (or nasal) B12 only.

clinical-rules §7.16. US labels call oral therapy not dependable in pernicious anaemia and keep
nasal cyanocobalamin for maintenance without nervous-system involvement [V] S-FDA-CN, S-FDA-OH;
UK guidance allows high-dose oral maintenance in selected adherent patients [V] S-BSH rec 5
(setting `allow_oral_in_PA`); maintenance regimens [V2] S-US-DOSE, S-BNF.
"""

from __future__ import annotations

from cards import compose
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Order
from cards.medications import Route
from cards.model import Card
from cards.model import Indicator


RULE_ID = "pernicious-anaemia-oral"
TITLE = "Pernicious anaemia treated with oral or nasal B12 only"
HOOKS = ("patient-view", "order-select", "order-sign")
SOURCES = ("S-FDA-CN", "S-FDA-OH", "S-US-DOSE", "S-BSH")
OVERRIDE_REASONS = (
    "treatment-choice-deliberate",
    "specialist-managing",
    "record-incorrect",
    "patient-declined",
    "will-review-later",
)
SETTINGS = ("allow_oral_in_PA", "allow_oral_min_daily_mg", "folate_regimen")


def _flagged(facts: Facts, current: list[Order]) -> list[Order]:
    """Return the oral (or nasal, with neuro history) orders when nothing parenteral is current."""
    if not current or facts.on_parenteral_b12_record:
        return []
    if any(o.route.parenteral or o.route is Route.UNKNOWN for o in current):
        return []
    flagged = [
        o
        for o in current
        if o.route is Route.ORAL or (o.route is Route.NASAL and facts.neuro_history)
    ]
    s = facts.settings
    if s.allow_oral_in_PA and all(
        o.route is Route.ORAL and o.daily_mg is not None and o.daily_mg >= s.allow_oral_min_daily_mg
        for o in flagged
    ):
        return []
    return flagged


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning when a lifelong malabsorption cause is treated by mouth or nose only."""
    if not (facts.pernicious_anaemia or facts.gastrectomy) or facts.is_child:
        return []
    drafts = facts.drafts if facts.is_order_hook else ()  # current: active, and drafts in orders
    current = [o for o in (*facts.orders, *drafts) if o.is_b12 and (o.active or o.draft)]
    if facts.is_order_hook and not any(o.focus for o in current):
        return []
    flagged = _flagged(facts, current)
    if not flagged:
        return []
    c = Draft(facts, RULE_ID, TITLE)
    c.each("pernicious_anaemia", facts.pernicious_anaemia)
    c.each("gastrectomy", facts.gastrectomy)
    c.evidence += [c.say("evidence.current_b12", order=o.describe()) for o in flagged]
    c.each("neuro_history", facts.neuro_history)
    chosen = compose.maintenance_regimen(facts)
    c.act("im_maintenance", regimen=compose.regimen_words(facts, chosen))
    c.act("lifelong", "uk_oral")
    c.cite([*facts.pernicious_anaemia, *facts.gastrectomy])
    c.cite(flagged)
    c.offers.append(compose.offer_regimen(facts, chosen, c.refs))
    c.folate_part()  # §11.6: low folate as well, as the B12 owner card
    cause = c.say("cause.pernicious_anaemia" if facts.pernicious_anaemia else "cause.gastrectomy")
    nasal = all(o.route is Route.NASAL for o in flagged)
    key = "summary.nasal" if nasal else "summary.oral"
    sources = ["S-FDA-CN", "S-FDA-OH", "S-BSH"]
    return [c.card(Indicator.WARNING, key, sources, cause=cause)]
