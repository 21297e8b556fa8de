"""R17 `maintenance-overdue`: a lifelong B12 regimen whose next dose is overdue.

clinical-rules §7.17. Intervals: hydroxocobalamin every 2 months after neurological involvement,
else every 2-3 months [V2] S-BNF; monthly in the US label [V] S-FDA-OH; stopping treatment in
deficiency can cause irreversible neurological damage [V] S-FDA-CN.
"""

from __future__ import annotations

from cards import compose
from cards import orders
from cards.draft import Draft
from cards.facts import Dose
from cards.facts import Facts
from cards.facts import Hook
from cards.labs import fmt_date
from cards.medications import Route
from cards.model import Card
from cards.model import Indicator


RULE_ID = "maintenance-overdue"
TITLE = "Vitamin B12 maintenance overdue"
HOOKS = ("patient-view",)
SOURCES = ("S-BNF", "S-FDA-OH", "S-FDA-CN")
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


_GIVEN = ("administration", "statement", "request event")  # dose records, not prescriptions


def _last_dose(facts: Facts, parenteral: bool | None) -> tuple[Dose, bool] | None:
    """Return the last dose (of the route class asked for) and whether it is a prescription date.

    §7.17: the last dose comes from administrations, statements or request events; with none of
    these, from the latest request's authoredOn, and the card says it is a prescription date.
    """

    def wanted(dose: Dose) -> bool:
        return parenteral is None or dose.route.parenteral == parenteral

    given = [d for d in facts.b12_doses if d.source in _GIVEN and wanted(d)]
    if given:
        return given[-1], False
    prescribed = [d for d in facts.b12_doses if d.source not in _GIVEN and wanted(d)]
    if facts.last_b12_request is not None and wanted(facts.last_b12_request):
        prescribed.append(facts.last_b12_request)
    if not prescribed:
        return None
    return max(prescribed, key=lambda d: d.when), True


def overdue(facts: Facts) -> tuple[Dose, bool, int, int] | None:
    """Return (last dose, prescription date only, days since, interval) when maintenance lapsed.

    The current product decides the interval: an active request or statement names it (an active
    oral or nasal one is current supply, so nothing is overdue); else the last dose does.
    """
    if facts.hook is not Hook.PATIENT_VIEW or not facts.on_maintenance_regimen or facts.b12_drafted:
        return None
    current = [o for o in facts.orders if o.active and o.is_b12]
    if current and not any(o.route.parenteral for o in current):
        return None  # current oral or nasal supply
    found = _last_dose(facts, True if current else None)
    if found is None:
        return None
    last, prescribed = found
    days = (facts.today - last.when).days
    interval, grace = facts.maintenance_interval(last)
    if last.route in (Route.ORAL, Route.NASAL):  # lapsed once the last supply has run out
        ended = max((o.end for o in facts.orders if o.is_b12 and o.end), default=last.when)
        since = (facts.today - max(ended, last.when)).days
        covered = since <= facts.settings.maint_oral_supply_days
    else:
        covered = days <= interval + grace
    return None if covered else (last, prescribed, days, interval)


def evaluate(facts: Facts) -> list[Card]:
    """Return a warning (critical with neuro history and a long lapse) for lapsed maintenance."""
    found = overdue(facts)
    if found is None:
        return []
    last, prescribed, days, interval = found
    lapse = days - interval
    critical = bool(facts.neuro_history) and lapse > facts.settings.maint_critical_lapse_days
    oral = last.route in (Route.ORAL, Route.NASAL)
    chosen = orders.REGIMENS["MR-ORAL-1000"] if oral else compose.maintenance_regimen(facts)
    c = Draft(facts, RULE_ID, TITLE, refs=[last.ref])  # the last dose's ref, even when empty
    c.cite(facts.lifelong_indication)
    c.line("last_dose", dose=last.describe())
    if prescribed:
        c.line("prescription_date")
    c.line("interval", interval=interval, lapse=lapse)
    c.each("lifelong", facts.lifelong_indication)
    c.each("neuro_history", facts.neuro_history)
    c.act("resume", "adherence", "record", regimen=compose.regimen_words(facts, chosen))
    c.offers.append(compose.offer_regimen(facts, chosen, c.refs))
    c.folate_part()  # §11.6: low folate as well, as the B12 owner card
    indicator = Indicator.CRITICAL if critical else Indicator.WARNING
    tag = "S-BNF" if facts.profile.value == "uk" else "S-FDA-OH"
    sources = ["S-BNF", "S-FDA-OH", "S-FDA-CN"]
    return [c.card(indicator, "summary", sources, tag, date=fmt_date(last.when), days=days)]
