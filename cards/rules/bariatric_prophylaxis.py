"""R13 `bariatric-prophylaxis`: lifelong B12 after bariatric surgery.

clinical-rules §7.13. Oral 1000 micrograms daily indefinitely, or 350-1000 micrograms daily, or
1000 micrograms IM monthly [V] S-AAFP17, [V2] S-ASMBS. An oral supplement on record below
`bariatric_min_daily_ug` is named on the card as too little (clinical-rules §11.12). S-NG239
[V2] names bariatric surgery among the causes of B12 deficiency: the uk card's first source (§11.4).
"""

from __future__ import annotations

from cards import compose
from cards import orders
from cards.draft import Draft
from cards.facts import Facts
from cards.facts import Hook
from cards.facts import Order
from cards.labs import fmt_number
from cards.model import Card
from cards.model import Indicator
from cards.settings import Profile


RULE_ID = "bariatric-prophylaxis"
TITLE = "Bariatric surgery and lifelong vitamin B12"
HOOKS = ("patient-view",)
SOURCES = ("S-AAFP17", "S-ASMBS", "S-NG239")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "record-incorrect",
    "specialist-managing",
    "patient-declined",
    "will-review-later",
)
SETTINGS = ("bariatric_regimen", "bariatric_min_daily_ug")


def supplement(facts: Facts) -> Order | None:
    """Return an oral single-ingredient B12 order that counts as a supplement (§2.7), if any."""
    least_mg = facts.settings.bariatric_min_daily_ug / 1000
    for order in facts.orders:
        if order.draft or not order.active or not order.is_b12 or order.route.parenteral:
            continue
        if order.daily_mg is None or order.daily_mg >= least_mg:
            return order
    return None


def inadequate(facts: Facts) -> list[Order]:
    """Return the oral B12 orders on record that give less than the least daily dose (§11.12)."""
    least_mg = facts.settings.bariatric_min_daily_ug / 1000
    return [
        order
        for order in facts.orders
        if not order.draft
        and order.active
        and order.is_b12
        and not order.route.parenteral
        and order.daily_mg is not None
        and order.daily_mg < least_mg
    ]


def regimen(facts: Facts) -> orders.Regimen:
    """Return the supplement template the site chose (§7.13, §8)."""
    if facts.settings.bariatric_regimen == "im-monthly":
        return orders.REGIMENS["MR-US-MAINT" if facts.profile is Profile.US else "MR-UK-MAINT"]
    return orders.REGIMENS["MR-ORAL-1000"]


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning when bariatric surgery meets no B12 supplement."""
    if facts.hook is not Hook.PATIENT_VIEW or not facts.bariatric or facts.b12_deficient:
        return []
    if facts.is_child or facts.on_parenteral_b12 or supplement(facts) is not None:
        return []
    chosen = regimen(facts)
    c = Draft(facts, RULE_ID, TITLE)
    c.cite(facts.bariatric)
    c.each("surgery", facts.bariatric)
    for o in facts.orders:
        if o.active and o.medication.b12_in_combination:
            c.line("multivitamin", order=o.describe())
    least = fmt_number(facts.settings.bariatric_min_daily_ug)
    too_little = inadequate(facts)
    for o in too_little:  # §11.12: name the supplement that does not count, and why
        daily = fmt_number(round((o.daily_mg or 0.0) * 1000))
        c.line("inadequate", order=o.describe(), daily=daily, least=least)
    c.cite(too_little)
    if facts.b12_first_line is not None:
        c.evidence.append(facts.b12_first_line.describe())
    c.act("lifelong", "check", regimen=chosen.words, least=least)
    c.offers.append(compose.offer_regimen(facts, chosen, c.refs))
    summary = "summary.inadequate" if too_little else "summary.none"
    sources = ["S-AAFP17", "S-ASMBS", "S-NG239"]
    return [c.card(Indicator.WARNING, summary, sources, least=least)]
