"""The medications family: orders, drafts, the dose history, exposures and drafted tests (§6.1)."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from typing import TypedDict

from cards import terminology as vs
from cards import text
from cards.facts.course import ordered_interval_days
from cards.facts.model import Dose
from cards.facts.model import Exposure
from cards.facts.model import Hook
from cards.facts.model import Order
from cards.facts.model import TestDraft
from cards.facts.model import maintenance_interval
from cards.facts.reading import ChartResources
from cards.medications import B12Product
from cards.medications import Medication
from cards.medications import Route
from cards.medications import describe
from cards.medications import dose_unit
from cards.medications import quantity_mg
from cards.resources import as_date
from cards.resources import codings
from cards.resources import concept_name
from cards.resources import ref
from cards.resources import texts
from cards.settings import Settings


class MedicationFacts(TypedDict):
    """The facts of medication records, drafts and drafted tests."""

    orders: tuple[Order, ...]
    drafts: tuple[Order, ...]
    test_drafts: tuple[TestDraft, ...]
    b12_doses: tuple[Dose, ...]
    parenteral_drafted: bool
    b12_drafted: bool
    first_parenteral_dose: bool
    therapy_start_date: date | None
    any_therapy_start_date: date | None
    methotrexate_active: bool
    pemetrexed_active: bool
    metformin: Exposure | None
    acid_suppression: Exposure | None
    last_b12_request: Dose | None
    first_b12_request: Dose | None


@dataclass(frozen=True, slots=True)
class Medications:
    """The medication facts, with the dates of injected cobalamin that results are read against."""

    facts: MedicationFacts
    # A result drawn after any injected cobalamin, the 5 g cyanide antidote included, reflects
    # the injection, not the patient's stores (§4.1 [V] S-MAYO-B12, S-MAYO-IF).
    injection_dates: Sequence[date]


def read_medications(chart: ChartResources, today: date, s: Settings) -> Medications:
    """Return the medication facts of a chart's records and drafts."""
    orders, history = _read_orders(
        [
            *chart.of("MedicationRequest"),
            *chart.of("MedicationStatement"),
            *chart.of("MedicationAdministration"),
            *chart.draft_models,
        ],
        chart.bundle,
        chart.draft_refs,
        chart.focus_refs,
        today,
        s,
        chart.raw_drafts,
    )
    doses = history.doses
    drafts = tuple(o for o in orders if o.draft)
    current_orders = tuple(o for o in orders if not o.draft)
    parenteral_dose_dates = [d.when for d in doses if d.route.parenteral]
    parenteral_drafted = any(d.is_b12 and d.route.parenteral for d in drafts)
    start = _course_start(parenteral_dose_dates, s.first_course_gap_days)
    if start is None:
        starts = [o.start for o in current_orders if o.is_b12 and o.route.parenteral and o.start]
        start = min(starts) if starts else None
    any_start = _course_start([d.when for d in doses], s.first_course_gap_days)
    if any_start is None:
        starts = [o.start for o in current_orders if o.is_b12 and o.start]
        any_start = min(starts) if starts else None
    first_dose_is_draft = parenteral_drafted and not any(
        (today - d).days <= s.first_course_gap_days for d in parenteral_dose_dates
    )
    if first_dose_is_draft:
        start = today
    return Medications(
        facts={
            "orders": current_orders,
            "drafts": drafts,
            "test_drafts": tuple(_test_drafts(chart.draft_models, chart.focus_refs)),
            "b12_doses": tuple(doses),
            "parenteral_drafted": parenteral_drafted,
            "b12_drafted": any(d.is_b12 for d in drafts),
            "first_parenteral_dose": first_dose_is_draft,
            "therapy_start_date": start,
            "any_therapy_start_date": any_start,
            "methotrexate_active": any(o.medication.methotrexate for o in orders),
            "pemetrexed_active": any(o.medication.pemetrexed for o in orders),
            "metformin": _exposure(history.metformin, today, s.exposure_gap_days),
            "acid_suppression": _exposure(history.acid_suppressants, today, s.exposure_gap_days),
            "last_b12_request": max(history.b12_requests, key=lambda d: d.when, default=None),
            "first_b12_request": min(history.b12_requests, key=lambda d: d.when, default=None),
        },
        injection_dates=parenteral_dose_dates + history.antidote_dates,
    )


class TreatmentFacts(TypedDict):
    """Whether B12 treatment is running, on the record and counting this hook's drafts."""

    on_parenteral_b12: bool
    on_any_b12: bool
    on_parenteral_b12_record: bool
    on_any_b12_record: bool


def read_treatment(
    meds: Medications, neuro_history: bool, hook: Hook, today: date, s: Settings
) -> TreatmentFacts:
    """Return whether B12 is running: an active order or a dose still covering today (§6.2)."""
    current_orders, doses = meds.facts["orders"], meds.facts["b12_doses"]
    on_parenteral = any(
        o.is_b12 and o.route.parenteral and o.active for o in current_orders
    ) or any(
        d.route.parenteral
        and (today - d.when).days <= sum(maintenance_interval(d, s, neuro_history))
        for d in doses
    )
    on_any = (
        any(o.is_b12 and o.active for o in current_orders)
        or on_parenteral
        or any(
            not d.route.parenteral and (today - d.when).days <= s.oral_b12_window_days
            for d in doses
        )
    )
    drafting = hook is not Hook.PATIENT_VIEW
    return {
        "on_parenteral_b12": on_parenteral or (drafting and meds.facts["parenteral_drafted"]),
        "on_any_b12": on_any or (drafting and meds.facts["b12_drafted"]),
        "on_parenteral_b12_record": on_parenteral,
        "on_any_b12_record": on_any,
    }


_ORDER_INTENTS = {"order", "original-order", "reflex-order", "filler-order", "instance-order"}
_PERIOD_DAYS = {
    "s": 1 / 86400,
    "min": 1 / 1440,
    "h": 1 / 24,
    "d": 1,
    "wk": 7,
    "mo": 30.44,
    "a": 365.25,
}
# Dose units that count units of the product (§11.1): "1 tablet", "2 tablets", UCUM annotations
# {tbl} and {pill} (the CDS Hooks Sandbox sends {pill} with no unit text: /work/shared/conformance
# /sandbox), the v3 orderable drug form TAB, "capsule"; compared lower-case, without braces and a
# plural "s". An ampoule or vial is one unit of an injectable; "ml" is kept for a contained
# Medication's ingredient.strength, whose numerator has always multiplied it (§2.7).
_UNIT_DOSE_FORMS = frozenset(
    {"tablet", "tab", "tbl", "pill", "capsule", "cap", "caplet", "ampoule", "ampul", "vial"}
)
_ML = frozenset({"ml"})


def _route(dosages: Sequence[Any], medication: Medication) -> Route:
    """Return the route class from the dosage route/text, else from the product (§2.7)."""
    pairs: list[tuple[str, str]] = []
    words: list[str] = []
    for dosage in dosages:
        pairs.extend((s, c) for s, c, _ in codings(getattr(dosage, "route", None)))
        words.extend(texts(getattr(dosage, "route", None)))
        if getattr(dosage, "text", None):
            words.append(dosage.text)
    said = text.normalise(" ".join(words))
    for route, codes, phrases in (  # first match wins: IV before any other parenteral route
        (Route.IV, vs.ROUTE_INTRAVENOUS, text.IV_WORDS),
        (Route.PARENTERAL, vs.ROUTE_PARENTERAL, text.PARENTERAL_WORDS),
        (Route.NASAL, vs.ROUTE_NASAL, text.NASAL_WORDS),
        (Route.ORAL, vs.ROUTE_ORAL, text.ORAL_WORDS),
    ):
        if any(codes.contains(s, c) for s, c in pairs) or text.has_phrase(said, phrases):
            return route
    if medication.product_route is not Route.UNKNOWN:
        return medication.product_route
    if medication.b12 is B12Product.HYDROXOCOBALAMIN:
        return Route.PARENTERAL  # injection-only product (§2.7)
    return Route.UNKNOWN


def _single_dose_mg(dosage: Any, medication: Medication) -> float | None:
    """Return one dose in mg from doseAndRate.doseQuantity (or MedicationAdministration.dose)."""
    quantity = None
    for dose_rate in getattr(dosage, "doseAndRate", None) or ():
        quantity = dose_rate.doseQuantity or quantity
    quantity = quantity or getattr(dosage, "dose", None)
    if quantity is None or quantity.value is None:
        return None
    mg = quantity_mg(quantity)
    if mg is not None:
        return mg
    if medication.strength_mg is None:
        return None
    # The UCUM code, else the unit text; a code that names no form ("1", the UCUM unity) leaves
    # the unit text to say what was counted ({"code": "1", "unit": "tablet"}).
    units = {
        _form(said)
        for said in (dose_unit(quantity), str(quantity.unit or "").lower())
        if said.strip()
    }
    forms = {
        "ingredient": _UNIT_DOSE_FORMS | _ML,  # (a) ingredient.strength, as before
        "unit": _UNIT_DOSE_FORMS,  # (b)/(c) one tablet, capsule or ampoule holds the strength
        "mL": _ML,  # (b)/(c) a concentration multiplies an mL dose only
    }[medication.strength_basis]
    if units & forms:
        return float(Decimal(str(quantity.value)) * Decimal(str(medication.strength_mg)))
    return None


def _form(unit: str) -> str:
    """Return a dose unit as a form name: "{Tablets}" and "tablet(s)" are "tablet"."""
    return unit.strip().strip("{}").removesuffix("(s)").removesuffix("s")


def _antidote_dose(dosages: Sequence[Any], medication: Medication, settings: Settings) -> bool:
    """Return whether hydroxocobalamin is dosed as the cyanide antidote (≥ 1 g, §2.5 (b))."""
    if medication.b12 is not B12Product.HYDROXOCOBALAMIN:
        return False
    doses = [_single_dose_mg(d, medication) for d in dosages]
    return any(d is not None and d >= settings.cyanokit_min_dose_mg for d in doses)


def _daily_mg(dosage: Any, medication: Medication) -> float | None:
    """Return the daily amount in mg: dose × frequency ÷ period in days (§2.7 "Daily dose")."""
    if dosage is None:
        return None
    mg = _single_dose_mg(dosage, medication)
    if mg is None:
        return None
    repeat = getattr(getattr(dosage, "timing", None), "repeat", None)
    if repeat is None or repeat.period is None:
        return mg  # a single dose, or "daily" only in the text: read as once daily
    days = float(Decimal(repeat.period)) * _PERIOD_DAYS.get(str(repeat.periodUnit or "d"), 1.0)
    frequency = repeat.frequency or 1
    return mg * frequency / days if days > 0 else None


def _dose_text(dosages: Sequence[Any]) -> str:
    return "; ".join(str(d.text) for d in dosages if getattr(d, "text", None))


@dataclass(slots=True)
class _OrderHistory:
    """What `_read_orders` finds besides current orders: doses, exposures, prescriptions."""

    doses: list[Dose] = field(default_factory=list)
    metformin: list[Order] = field(default_factory=list)
    acid_suppressants: list[Order] = field(default_factory=list)
    b12_requests: list[Dose] = field(default_factory=list)
    antidote_dates: list[date] = field(default_factory=list)  # Cyanokit: not treatment (§2.5)


def _read_orders(
    models: Sequence[Any],
    bundle: Mapping[str, Any],
    draft_refs: set[str],
    focus_refs: set[str],
    today: date,
    settings: Settings,
    raw_drafts: Mapping[str, Mapping[str, Any]],
) -> tuple[list[Order], _OrderHistory]:
    """Return medication orders (current or drafted) and the history of §6.1."""
    orders: list[Order] = []
    history = _OrderHistory()
    for model in models:
        kind = model.get_resource_type()
        if kind not in ("MedicationRequest", "MedicationStatement", "MedicationAdministration"):
            continue
        reference = ref(model)
        draft = reference in draft_refs
        status = str(model.status or "")
        medication = describe(model, bundle, settings)
        if kind == "MedicationRequest":
            dosages = list(model.dosageInstruction or ())
        elif kind == "MedicationStatement":
            dosages = list(model.dosage or ())
        else:
            dosages = [model.dosage] if model.dosage is not None else []
        if _antidote_dose(dosages, medication, settings):
            medication = replace(medication, b12=None, cyanide_antidote=True)
        route = _route(dosages, medication)
        dose_dates, active, start, end = _dose_dates(model, kind, status, draft, today)
        order = Order(
            ref=reference,
            kind=kind,
            medication=medication,
            route=route,
            active=active,
            start=start,
            daily_mg=_daily_mg(dosages[0] if dosages else None, medication),
            draft=draft,
            focus=draft and reference in focus_refs,
            dose_text=_dose_text(dosages),
            end=end,
            interval_days=ordered_interval_days(dosages) if kind == "MedicationRequest" else None,
            raw=raw_drafts.get(reference) if draft else None,
            profile=settings.profile,
        )
        if draft or active:
            orders.append(order)
        if medication.cyanide_antidote:
            history.antidote_dates.extend(d for d, _ in dose_dates)
        if medication.b12 is not None:
            history.doses.extend(
                Dose(d, medication.b12, route, reference, source, settings.profile)
                for d, source in dose_dates
            )
            if (
                kind == "MedicationRequest"
                and not draft
                and start is not None
                and status in ("active", "completed", "stopped", "on-hold")
            ):
                history.b12_requests.append(
                    Dose(start, medication.b12, route, reference, "prescription", settings.profile)
                )
        if not draft and start is not None and (active or dose_dates or status == "stopped"):
            if medication.metformin:
                history.metformin.append(order)
            if medication.acid_suppressant:
                history.acid_suppressants.append(order)
    history.doses.sort(key=lambda d: d.when)
    return orders, history


_DoseDates = tuple[list[tuple[date, str]], bool, date | None, date | None]


def _dose_dates(model: Any, kind: str, status: str, draft: bool, today: date) -> _DoseDates:
    """Return (dose dates with their source, active, start, end) by the table of §6.1."""
    if draft:
        return [], False, today, None
    if kind == "MedicationRequest":
        if status == "draft" or model.intent not in _ORDER_INTENTS and status != "completed":
            return [], False, None, None
        validity_end = as_date(
            getattr(getattr(model.dispenseRequest, "validityPeriod", None), "end", None)
        )
        active = status == "active" and (validity_end is None or validity_end >= today)
        dates: list[tuple[date, str]] = []
        if status == "completed" and (authored := as_date(model.authoredOn)):
            dates.append((authored, "completed request"))
        if status in ("active", "completed", "stopped"):
            for dosage in model.dosageInstruction or ():
                events = getattr(getattr(dosage, "timing", None), "event", None) or ()
                dates.extend(
                    (d, "request event") for e in events if (d := as_date(e)) and d <= today
                )
        bounds = None
        for dosage in model.dosageInstruction or ():
            repeat = getattr(getattr(dosage, "timing", None), "repeat", None)
            bounds = bounds or as_date(
                getattr(getattr(repeat, "boundsPeriod", None), "start", None)
            )
        return dates, active, as_date(model.authoredOn) or bounds, validity_end
    if kind == "MedicationStatement":
        if status not in ("active", "completed", "stopped"):
            return [], False, None, None
        period = model.effectivePeriod
        end = as_date(getattr(period, "end", None))
        start = as_date(model.effectiveDateTime) or as_date(getattr(period, "start", None))
        active = status == "active" and (end is None or end >= today)
        days = [d for d in (start, end) if d is not None and d <= today]
        if active and not days:
            days = [today]
        return [(d, "statement") for d in days], active, start, end
    if status not in ("completed", "in-progress"):
        return [], False, None, None
    when = as_date(model.effectiveDateTime) or as_date(
        getattr(model.effectivePeriod, "start", None)
    )
    dated = [(when, "administration")] if when is not None and when <= today else []
    return dated, False, when, None


def _exposure(records: Sequence[Order], today: date, gap_days: int) -> Exposure | None:
    """Return the run of records (start dates at most `gap_days` apart) holding an active one.

    §6.2 `metformin_months`, `acid_suppressant_months`: months = days from the run's first start
    to T, divided by 30.44. A record's known end (validity or statement period) extends its cover.
    """
    dated = sorted((r for r in records if r.start is not None), key=lambda r: r.start or today)
    runs: list[list[Order]] = []
    covered: date | None = None
    for record in dated:
        start = record.start or today
        if covered is None or (start - covered).days > gap_days:
            runs.append([])
        runs[-1].append(record)
        end = max(start, record.end or start)
        covered = end if covered is None else max(covered, end)
    for run in reversed(runs):
        if any(r.active for r in run):
            first = run[0].start or today
            return Exposure(
                start=first,
                months=round(max((today - first).days, 0) / 30.44, 1),
                names=tuple(dict.fromkeys(r.medication.name for r in run if r.active)),
                refs=tuple(r.ref for r in run if r.ref),
            )
    return None


def _course_start(dates: Iterable[date], gap_days: int) -> date | None:
    """Return the first dose after the last gap of at least `gap_days` (§6.2)."""
    start: date | None = None
    previous: date | None = None
    for day in sorted(set(dates)):
        if previous is None or (day - previous).days >= gap_days:
            start = day
        previous = day
    return start


# --- Tests in draftOrders -----------------------------------------------------------------

_TEST_SETS: tuple[tuple[str, vs.ValueSet], ...] = (
    ("b12", vs.SERUM_B12),
    ("holotc", vs.HOLOTC),
    ("mma", vs.MMA),
    ("homocysteine", vs.HOMOCYSTEINE),
    ("potassium", vs.POTASSIUM),
    ("ifab", vs.INTRINSIC_FACTOR_AB),
    ("folate", vs.FOLATE_SERUM | vs.FOLATE_RBC | vs.FOLATE_BLOOD),
    ("haematocrit", vs.HAEMATOCRIT),
    ("reticulocytes", vs.RETICULOCYTES),
)
_BLOOD_COUNT_ORDER = vs.ORDER_CODES["blood_count"]


def _test_drafts(models: Sequence[Any], focus_refs: set[str]) -> list[TestDraft]:
    found = []
    for model in models:
        if model.get_resource_type() != "ServiceRequest":
            continue
        pairs = [(s, c) for s, c, _ in codings(model.code)]
        reference = ref(model)
        for name, value_set in _TEST_SETS:
            if any(value_set.contains(s, c) for s, c in pairs):
                found.append(
                    TestDraft(reference, name, reference in focus_refs, concept_name(model.code))
                )
        if (_BLOOD_COUNT_ORDER.system, _BLOOD_COUNT_ORDER.code) in pairs:
            found.append(
                TestDraft(
                    reference, "blood_count", reference in focus_refs, concept_name(model.code)
                )
            )
    return found
