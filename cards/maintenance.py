"""Whether a lifelong B12 regimen has lapsed, and what continues it (clinical-rules §7.17, §11.8).

`overdue` is read by `maintenance-overdue` (its card), `nitrous-oxide` (is the patient up to date
on injections, §11.9) and `paediatric-specialist` (a lapsed course replaces the adult cards).
§11.8 (second edition): a current request's own 1-3 month interval (`Order.interval_days`) sets
the due date, plus the table's grace, in both profiles; the continuation is the current product's
maintenance template and never a switch of product.
"""

from __future__ import annotations

from datetime import date

from cards import compose
from cards import orders
from cards.facts import Dose
from cards.facts import Facts
from cards.facts import Hook
from cards.facts import Order
from cards.medications import B12Product
from cards.medications import Route
from cards.settings import Profile


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


def _ordered_interval(current: list[Order]) -> int | None:
    """Return the interval the latest current parenteral B12 request states (§11.8), if any."""
    requests = [o for o in current if o.kind == "MedicationRequest" and o.route.parenteral]
    latest = max(requests, key=lambda o: o.start or date.min, default=None)
    return latest.interval_days if latest is not None else None


def template(facts: Facts, product: B12Product, oral: bool) -> orders.Regimen | None:
    """Return the current product's maintenance template in the profile, or None (§11.8).

    No template means no create: the card never switches the product by itself.
    """
    if oral:
        known = product in (B12Product.CYANOCOBALAMIN, B12Product.UNSPECIFIED)
        return orders.REGIMENS["MR-ORAL-1000"] if known else None
    if product is B12Product.HYDROXOCOBALAMIN and facts.profile is Profile.UK:
        return compose.maintenance_regimen(facts)  # MR-UK-MAINT[-NEURO] [V2] S-BNF
    if product is B12Product.CYANOCOBALAMIN and facts.profile is Profile.US:
        return compose.maintenance_regimen(facts)  # MR-US-MAINT [V2] S-US-DOSE
    return None


def current_product(facts: Facts, last: Dose) -> B12Product:
    """Return the product of the latest current parenteral B12 request or statement, else of the
    last dose (a lapsed oral or nasal regimen has no current order)."""
    current = [o for o in facts.orders if o.active and o.is_b12 and o.route.parenteral]
    latest = max(current, key=lambda o: o.start or date.min, default=None)
    if latest is not None and latest.medication.b12 is not None:
        return latest.medication.b12
    return last.product


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
    ordered = _ordered_interval(current)
    if ordered is not None and last.route.parenteral:  # §11.8: the order's interval + grace
        interval = ordered
    if last.route in (Route.ORAL, Route.NASAL):  # lapsed once the last supply has run out
        ended = max((o.end for o in facts.orders if o.is_b12 and o.end), default=last.when)
        since = (facts.today - max(ended, last.when)).days
        covered = since <= facts.settings.maint_oral_supply_days
    else:
        covered = days <= interval + grace
    return None if covered else (last, prescribed, days, interval)
