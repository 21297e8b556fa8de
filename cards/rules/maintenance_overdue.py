"""R17 `maintenance-overdue`: a lifelong B12 regimen whose next dose is overdue.

clinical-rules §7.17. Intervals: hydroxocobalamin every 2 months after neurological involvement,
else every 2-3 months [V2] S-BNF; monthly in the US label [V] S-FDA-OH; stopping treatment in
deficiency can cause irreversible neurological damage [V] S-FDA-CN.

§11.8 (second edition): a current request's own 1-3 month interval (`Order.interval_days`) sets
the due date, plus the table's grace, in both profiles; the suggestion is the current product's
maintenance template and never a switch of product: none for hydroxocobalamin in us, none for
cyanocobalamin IM in uk (where the detail suggests considering hydroxocobalamin, fewer
injections [V2] S-BNF), and the card then says to give the next dose of the current regimen.
"""

from __future__ import annotations

from cards import compose
from cards import maintenance
from cards.draft import Draft
from cards.facts import Facts
from cards.labs import fmt_date
from cards.medications import B12Product
from cards.medications import Route
from cards.model import Card
from cards.model import Indicator
from cards.settings import Profile
from cards.wording import word


RULE_ID = "maintenance-overdue"
TITLE = "Vitamin B12 maintenance overdue"
HOOKS = ("patient-view",)
SOURCES = ("S-BNF", "S-PAS", "S-FDA-OH", "S-FDA-CN")
OVERRIDE_REASONS = (
    "already-treated-elsewhere",
    "treatment-choice-deliberate",
    "record-incorrect",
    "specialist-managing",
    "patient-declined",
)
SETTINGS = (
    "maintenance_history_days",
    "maint_uk_hydroxo_neuro_days",
    "maint_uk_hydroxo_days",
    "maint_uk_hydroxo_grace_days",
    "maint_monthly_days",
    "maint_monthly_grace_days",
    "maint_oral_supply_days",
    "maint_critical_lapse_days",
    "folate_regimen",
)


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning (critical with neuro history and a long lapse) for lapsed maintenance."""
    found = maintenance.overdue(facts)
    if found is None:
        return []
    last, prescribed, days, interval = found
    lapse = days - interval
    critical = bool(facts.neuro_history) and lapse > facts.settings.maint_critical_lapse_days
    oral = last.route in (Route.ORAL, Route.NASAL)
    product = maintenance.current_product(facts, last)
    chosen = maintenance.template(facts, product, oral)
    c = Draft(facts, RULE_ID, TITLE, refs=[last.ref])  # the last dose's ref, even when empty
    c.cite(facts.lifelong_indication)
    c.line("last_dose", dose=last.describe())
    if prescribed:
        c.line("prescription_date")
    c.line("interval", interval=interval, lapse=lapse)
    c.each("lifelong", facts.lifelong_indication)
    c.each("neuro_history", facts.neuro_history)
    if chosen is not None:
        c.act("resume", regimen=compose.regimen_words(facts, chosen))
        c.offers.append(compose.offer_regimen(facts, chosen, c.refs))
        c.folate_part()  # §11.6: low folate as well, as the B12 owner card
    else:
        c.act("next_dose", product=word(facts.profile, "product", product.name))
        if facts.profile is Profile.UK and product is B12Product.CYANOCOBALAMIN and not oral:
            c.act("switch_hydroxocobalamin")  # §11.8: uk cyanocobalamin IM [V2] S-BNF
    c.act("adherence", "record")
    indicator = Indicator.CRITICAL if critical else Indicator.WARNING
    sources = ["S-BNF", "S-FDA-OH", "S-FDA-CN"]
    return [c.card(indicator, "summary", sources, date=fmt_date(last.when), days=days)]
