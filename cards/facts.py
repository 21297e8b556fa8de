"""Derived facts: everything the rules read, computed once per request (clinical-rules §6).

`facts_from_fhir` is the only code that knows FHIR shapes; rules read the frozen `Facts` only.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from cards import labs
from cards import terminology as vs
from cards import text
from cards.labs import Klass
from cards.labs import LabResult
from cards.labs import fmt_date
from cards.medications import B12Product
from cards.medications import Medication
from cards.medications import Route
from cards.medications import describe
from cards.medications import dose_unit
from cards.medications import quantity_mg
from cards.resources import as_date
from cards.resources import codings
from cards.resources import concept_name
from cards.resources import parse_all
from cards.resources import raw_codes
from cards.resources import ref
from cards.resources import status_code
from cards.resources import texts
from cards.settings import Profile
from cards.settings import Settings
from cards.units import Analyte


class Hook(StrEnum):
    """The CDS Hooks this service answers."""

    PATIENT_VIEW = "patient-view"
    ORDER_SELECT = "order-select"
    ORDER_SIGN = "order-sign"


class B12Status(StrEnum):
    """Refined B12 status (§6.2)."""

    DEFICIENT = "deficient"
    INDETERMINATE = "indeterminate"
    NORMAL = "normal"
    UNKNOWN = "unknown"


class Marker(StrEnum):
    """State of a functional marker (MMA, homocysteine)."""

    RAISED = "raised"
    NORMAL = "normal"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Chart:
    """What a hook request gives the rules: the resources, the drafts and the focus."""

    patient_id: str
    hook: Hook
    resources: tuple[Mapping[str, Any], ...] = ()
    draft_orders: tuple[Mapping[str, Any], ...] = ()
    selections: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """A coded (or text-matched) Condition, Observation or Procedure used as evidence."""

    ref: str
    name: str
    when: date | None
    active: bool = True
    provisional: bool = False
    by_text: bool = False

    def describe(self) -> str:
        """Return the evidence line: name, date, and how sure the record is."""
        parts = [self.name]
        if self.when is not None:
            parts.append(f"recorded {fmt_date(self.when)}")
        if not self.active:
            parts.append("no longer active")
        if self.provisional:
            parts.append("provisional")
        if self.by_text:
            parts.append("identified from the record text")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Dose:
    """One B12 dose from the dose history (§6.1)."""

    when: date
    product: B12Product
    route: Route
    ref: str
    source: str = "administration"  # administration | statement | request event | completed request

    def describe(self) -> str:
        """Return the dose as card text: product, route, date and where the date comes from."""
        route = "" if self.route is Route.UNKNOWN else f" {self.route.value}"
        return f"{self.product.value}{route} on {fmt_date(self.when)} (from {self.source} record)"


@dataclass(frozen=True, slots=True)
class Order:
    """A medication request, statement, administration or draft, with what it contains."""

    ref: str
    kind: str  # MedicationRequest | MedicationStatement | MedicationAdministration
    medication: Medication
    route: Route
    active: bool
    start: date | None
    daily_mg: float | None
    draft: bool = False
    focus: bool = False
    dose_text: str = ""
    end: date | None = None  # end of supply or validity, when the record says
    raw: Mapping[str, Any] | None = None  # the draft resource as sent (drafts only)

    @property
    def is_b12(self) -> bool:
        """Return whether the order is B12 treatment (not an antidote or a multivitamin)."""
        return self.medication.b12 is not None

    def describe(self) -> str:
        """Return the order as card text: name, dose, route."""
        parts = [self.medication.name]
        if self.dose_text:
            parts.append(self.dose_text)
        elif self.daily_mg is not None:
            parts.append(f"{labs.fmt_number(self.daily_mg)} mg/day")
        if self.route is not Route.UNKNOWN:
            parts.append(self.route.value)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Exposure:
    """A run of records of one drug class (metformin, acid suppressants): how long, which drugs."""

    start: date
    months: float
    names: tuple[str, ...]
    refs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TestDraft:
    """A drafted laboratory ServiceRequest."""

    ref: str
    test: str  # b12 | holotc | mma | homocysteine | potassium | ifab | blood_count | folate
    focus: bool
    name: str


@dataclass(frozen=True, slots=True)
class Facts:
    """Every derived fact of §6.2 for one patient at time T."""

    patient_id: str
    hook: Hook
    today: date
    settings: Settings
    age_years: int | None = None
    sex: str = "unknown"
    deceased: bool = False
    pregnant: bool = False
    pregnancy: tuple[Finding, ...] = ()
    results: tuple[LabResult, ...] = ()
    b12_first_line: LabResult | None = None
    unusable_first_line: tuple[LabResult, ...] = ()
    b12_status: B12Status = B12Status.UNKNOWN
    b12_status_basis: str = ""
    holotc_used: LabResult | None = None
    mma: LabResult | None = None
    homocysteine: LabResult | None = None
    mma_state: Marker = Marker.NONE
    homocysteine_state: Marker = Marker.NONE
    egfr: LabResult | None = None
    renal_flag: bool = False
    mma_renal_confounded: bool = False
    homocysteine_confounded: bool = False
    deficiency_conditions: tuple[Finding, ...] = ()
    pernicious_anaemia: tuple[Finding, ...] = ()
    gastrectomy: tuple[Finding, ...] = ()
    dietary_cause: bool = False
    b12_deficient: bool = False
    neuro_findings: tuple[Finding, ...] = ()
    neuro_history: tuple[Finding, ...] = ()
    haemoglobin: LabResult | None = None
    mcv: LabResult | None = None
    anaemia_conditions: tuple[Finding, ...] = ()
    anaemia: bool = False
    macrocytosis: bool = False
    folate: LabResult | None = None
    folate_low: bool = False
    orders: tuple[Order, ...] = ()
    drafts: tuple[Order, ...] = ()
    test_drafts: tuple[TestDraft, ...] = ()
    b12_doses: tuple[Dose, ...] = ()
    on_parenteral_b12: bool = False
    on_any_b12: bool = False
    parenteral_drafted: bool = False
    b12_drafted: bool = False
    first_parenteral_dose: bool = False
    therapy_start_date: date | None = None
    any_therapy_start_date: date | None = None
    anaemia_at_start: bool = False
    baseline: tuple[LabResult, ...] = ()
    deficient_at_start: bool = False
    methotrexate_active: bool = False
    pemetrexed_active: bool = False
    unreadable_resources: int = 0
    on_parenteral_b12_record: bool = False  # as on_parenteral_b12, ignoring draft orders
    on_any_b12_record: bool = False  # as on_any_b12, ignoring draft orders
    breastfeeding: tuple[Finding, ...] = ()
    bariatric: tuple[Finding, ...] = ()
    ileal_resection: tuple[Finding, ...] = ()
    ileal_resection_cm: float | None = None
    crohns_ileum: tuple[Finding, ...] = ()
    vegan: tuple[Finding, ...] = ()
    n2o_exposure: tuple[Finding, ...] = ()
    optic_atrophy: tuple[Finding, ...] = ()
    metformin: Exposure | None = None
    acid_suppression: Exposure | None = None
    b12_recent: LabResult | None = None  # latest usable B12/holoTC within b12_recent_days
    mma_recent: LabResult | None = None  # latest usable MMA within b12_recent_days
    last_b12_request: Dose | None = None  # the latest B12 request, dated by its authoredOn

    @property
    def is_child(self) -> bool:
        """Return whether the patient is under the adult age (NG239 scope: 16)."""
        return self.age_years is not None and self.age_years < self.settings.age_min_adult

    @property
    def age_unknown(self) -> bool:
        """Return whether no birth date was available."""
        return self.age_years is None

    @property
    def profile(self) -> Profile:
        """Return the site profile."""
        return self.settings.profile

    @property
    def is_order_hook(self) -> bool:
        """Return whether the hook is order-select or order-sign."""
        return self.hook is not Hook.PATIENT_VIEW

    def latest(self, *analytes: Analyte, since: date | None = None) -> LabResult | None:
        """Return the current usable result of the analytes, optionally on or after a date."""
        return labs.current(self.results, analytes, since=since)

    def focused_drafts(self) -> tuple[Order, ...]:
        """Return the medication drafts this hook is about (selections, or all for order-sign)."""
        return tuple(d for d in self.drafts if d.focus)

    def drafted_tests(self, *tests: str, focus_only: bool = False) -> tuple[TestDraft, ...]:
        """Return drafted lab tests of the given kinds."""
        return tuple(t for t in self.test_drafts if t.test in tests and (t.focus or not focus_only))

    @property
    def metformin_months(self) -> float:
        """Return months of the current metformin run (0 when none, or only drafted)."""
        return self.metformin.months if self.metformin is not None else 0.0

    @property
    def acid_suppressant_months(self) -> float:
        """Return months of the current PPI/H2RA run (0 when none, or only drafted)."""
        return self.acid_suppression.months if self.acid_suppression is not None else 0.0

    @property
    def lifelong_indication(self) -> tuple[Finding, ...]:
        """Return the causes that make B12 lifelong (§6.2 `on_maintenance_regimen`)."""
        return (
            self.pernicious_anaemia
            + self.gastrectomy
            + self.bariatric
            + self.ileal_resection
            + self.deficiency_conditions
        )

    @property
    def on_maintenance_regimen(self) -> bool:
        """Return whether a lifelong regimen is running: a B12 dose in the maintenance history
        window and a lifelong indication or an active B12 request (§6.2)."""
        recent = any(
            (self.today - d.when).days <= self.settings.maintenance_history_days
            for d in self.b12_doses
        )
        return recent and bool(
            self.lifelong_indication or any(o.is_b12 and o.active for o in self.orders)
        )

    def maintenance_interval(self, dose: Dose) -> tuple[int, int]:
        """Return (interval, grace) in days for the last dose's product (§7.17 table)."""
        return maintenance_interval(dose, self.settings, bool(self.neuro_history))

    def adult_view(self) -> Facts:
        """Return these facts as the adult cards would see them at chart open (§7.19).

        Used by `paediatric-specialist` to learn which adult-dose cards a child's record would
        raise: the age is set to the adult minimum and draft orders do not count as treatment.
        """
        return replace(
            self,
            hook=Hook.PATIENT_VIEW,
            age_years=max(self.age_years or 0, self.settings.age_min_adult),
            on_parenteral_b12=self.on_parenteral_b12_record,
            on_any_b12=self.on_any_b12_record,
        )


# --- Conditions, findings, procedures -------------------------------------------------------

_ACTIVE_CLINICAL = {"active", "recurrence", "relapse"}
_EXCLUDED_VERIFICATION = {"refuted", "entered-in-error"}
_PROVISIONAL_VERIFICATION = {"provisional", "differential", "unconfirmed"}
# Anaemia members of b12-deficiency-conditions: every row except these (clinical-rules §2.4).
# A dietary cause of deficiency, for the oral option of b12-deficiency-untreated (§7.2, S-CKS):
# 267517008 "Vitamin B12 deficiency anaemia due to dietary causes" [V] S-PEDS, plus the diet set.
_DIETARY_B12 = vs.ValueSet(
    "dietary-b12-deficiency",
    tuple(c for c in vs.B12_DEFICIENCY_CONDITIONS.codes if c.code == "267517008"),
)
_NOT_ANAEMIA = frozenset({"190634004", "237934001", "1186880002", "420920007", "E538"})


@dataclass(frozen=True, slots=True)
class _Condition:
    model: Any
    active: bool
    provisional: bool
    when: date | None


def _conditions(models: Iterable[Any]) -> list[_Condition]:
    out = []
    for model in models:
        verification = status_code(model.verificationStatus)
        if verification in _EXCLUDED_VERIFICATION:
            continue
        clinical = status_code(model.clinicalStatus)
        abated = (
            model.abatementDateTime is not None
            or model.abatementPeriod is not None
            or (model.abatementAge is not None or model.abatementString is not None)
        )
        active = clinical in _ACTIVE_CLINICAL or (not clinical and not abated)
        when = (
            as_date(model.onsetDateTime)
            or as_date(getattr(model.onsetPeriod, "start", None))
            or as_date(model.recordedDate)
        )
        out.append(_Condition(model, active, verification in _PROVISIONAL_VERIFICATION, when))
    return out


def _who_as_cm(pairs: list[tuple[str, str]], settings: Settings) -> list[tuple[str, str]]:
    """Read WHO ICD-10 codes as ICD-10-CM when the site allows it (`match_icd10_who`, [U])."""
    if not settings.match_icd10_who:
        return pairs
    return [(vs.ICD10CM if s == vs.ICD10_WHO else s, c) for s, c in pairs]


def _in_set(
    concept: Any, value_set: vs.ValueSet, settings: Settings, extra_text: Sequence[str] = ()
) -> bool:
    """Return whether a concept has a coding in the set, honouring E53.8's text rule."""
    pairs = _who_as_cm([(s, c) for s, c, _ in codings(concept)], settings)
    for system, code in pairs:
        if not value_set.contains(system, code):
            continue
        normalised = code.replace(".", "").upper()
        if system == vs.ICD10CM and normalised == "E538" and settings.e53_8_requires_b12_text:
            if not text.has_phrase(
                text.normalise(" ".join([*texts(concept), *extra_text])), text.B12_TEXT_WORDS
            ):
                continue
        return True
    return False


def _finding(cond: _Condition, by_text: bool = False) -> Finding:
    model = cond.model
    return Finding(
        ref=ref(model),
        name=concept_name(model.code) or "condition",
        when=cond.when,
        active=cond.active,
        provisional=cond.provisional,
        by_text=by_text,
    )


def _match_conditions(
    conditions: Sequence[_Condition],
    value_set: vs.ValueSet,
    settings: Settings,
    words: Sequence[str] = (),
    active_only: bool = True,
) -> tuple[Finding, ...]:
    found = []
    for cond in conditions:
        if active_only and not cond.active:
            continue
        if _in_set(cond.model.code, value_set, settings):
            found.append(_finding(cond))
        elif words and text.has_phrase(text.normalise(" ".join(texts(cond.model.code))), words):
            found.append(_finding(cond, by_text=True))
    return tuple(found)


# --- Medications --------------------------------------------------------------------------

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
_UNIT_DOSE_FORMS = {"tablet", "tab", "capsule", "{tbl}", "ampoule", "ml", "vial"}


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
    if any(vs.ROUTE_INTRAVENOUS.contains(s, c) for s, c in pairs) or text.has_phrase(
        said, text.IV_WORDS
    ):
        return Route.IV
    if any(vs.ROUTE_PARENTERAL.contains(s, c) for s, c in pairs) or text.has_phrase(
        said, text.PARENTERAL_WORDS
    ):
        return Route.PARENTERAL
    if any(vs.ROUTE_NASAL.contains(s, c) for s, c in pairs) or text.has_phrase(
        said, text.NASAL_WORDS
    ):
        return Route.NASAL
    if any(vs.ROUTE_ORAL.contains(s, c) for s, c in pairs) or text.has_phrase(
        said, text.ORAL_WORDS
    ):
        return Route.ORAL
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
    if dose_unit(quantity).rstrip("s") in _UNIT_DOSE_FORMS and medication.strength_mg is not None:
        return float(Decimal(quantity.value)) * medication.strength_mg
    return None


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
            raw=raw_drafts.get(reference) if draft else None,
        )
        if draft or active:
            orders.append(order)
        if medication.cyanide_antidote:
            history.antidote_dates.extend(d for d, _ in dose_dates)
        if medication.b12 is not None:
            history.doses.extend(
                Dose(d, medication.b12, route, reference, source) for d, source in dose_dates
            )
            if (
                kind == "MedicationRequest"
                and not draft
                and start is not None
                and status in ("active", "completed", "stopped", "on-hold")
            ):
                history.b12_requests.append(
                    Dose(start, medication.b12, route, reference, "prescription")
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


def maintenance_interval(dose: Dose, settings: Settings, neuro_history: bool) -> tuple[int, int]:
    """Return (interval, grace) in days after a dose of this product (§7.17 table)."""
    s = settings
    if dose.route in (Route.ORAL, Route.NASAL):
        return s.oral_b12_window_days, 0  # §6.2: oral/nasal doses count for 35 days
    if s.profile is Profile.UK and dose.product is B12Product.HYDROXOCOBALAMIN:
        # [V2] S-BNF: 2-monthly with neurological involvement, else 2-3-monthly; + 14 days grace
        interval = s.maint_uk_hydroxo_neuro_days if neuro_history else s.maint_uk_hydroxo_days
        return interval, s.maint_uk_hydroxo_grace_days
    # cyanocobalamin, and every IM product in us: monthly + 7 days [V] S-FDA-OH
    return s.maint_monthly_days, s.maint_monthly_grace_days


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


# --- Putting it together ------------------------------------------------------------------


def _patient(models: Sequence[Any], today: date) -> tuple[str, date | None, bool]:
    for model in models:
        if model.get_resource_type() != "Patient":
            continue
        sex = model.gender if model.gender in ("male", "female") else "unknown"
        born = as_date(model.birthDate)
        raw = str(model.birthDate) if model.birthDate is not None else ""
        if born is not None and len(raw) < 10:
            # A partial birth date gives the youngest possible age (§6.2): the period's last day.
            born = date(born.year, 12, 31) if len(raw) == 4 else _month_end(born)
        deceased = bool(model.deceasedBoolean) or (
            (d := as_date(model.deceasedDateTime)) is not None and d <= today
        )
        return sex, born, deceased
    return "unknown", None, False


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def facts_from_fhir(chart: Chart, today: date, settings: Settings | None = None) -> Facts:
    """Return the derived facts of a chart at date `today`.

    Args:
        chart: the resolved resources, draft orders and selections of one hook request.
        today: the evaluation date T.
        settings: clinical settings; the defaults of clinical-rules.md when omitted.
    """
    s = settings or Settings()
    oldest = today - timedelta(days=s.review_max_days + s.b12_status_days)
    parsed, unreadable = parse_all(chart.resources, _Wanted(oldest.isoformat(), s))
    drafted, draft_unreadable = parse_all(chart.draft_orders)
    raw_drafts = {
        f"{r.get('resourceType')}/{r.get('id')}": r
        for r in chart.draft_orders
        if isinstance(r, Mapping) and r.get("id")
    }
    models: list[Any] = list(parsed)
    draft_models: list[Any] = list(drafted)
    draft_refs = {ref(m) for m in draft_models if ref(m)}
    if chart.hook is Hook.ORDER_SELECT:
        focus_refs = {_selection_ref(sel) for sel in chart.selections}
    elif chart.hook is Hook.ORDER_SIGN:
        focus_refs = set(draft_refs)
    else:
        focus_refs = set()
    # A draft the EHR also put in a prefetch search is read once, as a draft.
    models = [m for m in models if not (ref(m) and ref(m) in draft_refs)]
    by_type: dict[str, list[Any]] = {}
    for model in models:
        by_type.setdefault(model.get_resource_type(), []).append(model)
    bundle = {ref(m): m for m in [*models, *draft_models] if m.get_resource_type() == "Medication"}

    sex, born, deceased = _patient(by_type.get("Patient", []), today)
    age = labs.Patient(sex, born).age_on(today)
    conditions = _conditions(by_type.get("Condition", []))
    pregnancy = tuple(
        _finding(c)
        for c in conditions
        if sex != "male"
        and c.active
        and _in_set(c.model.code, vs.PREGNANCY, s)
        and (c.when is None or c.when >= today - timedelta(weeks=s.pregnancy_max_weeks))
    )
    pregnant = bool(pregnancy)
    patient = labs.Patient(sex, born, pregnant)

    orders, history = _read_orders(
        [
            *by_type.get("MedicationRequest", []),
            *by_type.get("MedicationStatement", []),
            *by_type.get("MedicationAdministration", []),
            *draft_models,
        ],
        bundle,
        draft_refs,
        focus_refs,
        today,
        s,
        raw_drafts,
    )
    doses = history.doses
    drafts = tuple(o for o in orders if o.draft)
    current_orders = tuple(o for o in orders if not o.draft)
    parenteral_dose_dates = [d.when for d in doses if d.route.parenteral]
    # A result drawn after any injected cobalamin, the 5 g cyanide antidote included, reflects
    # the injection, not the patient's stores (§4.1 [V] S-MAYO-B12, S-MAYO-IF).
    injection_dates = parenteral_dose_dates + history.antidote_dates

    results = tuple(labs.read_results(by_type.get("Observation", []), patient, today, s))
    neuro_words = text.NEURO_FINDING_WORDS
    neuro_set = (
        vs.NEURO_FINDINGS | vs.DEPRESSION_CONDITIONS
        if s.neuro_include_depression
        else (vs.NEURO_FINDINGS)
    )
    neuro = _match_conditions(conditions, neuro_set, s, neuro_words) + _finding_observations(
        by_type.get("Observation", []), neuro_set, neuro_words, today, s
    )
    neuro_history = neuro + tuple(
        f
        for f in _match_conditions(conditions, neuro_set, s, neuro_words, active_only=False)
        if not f.active
    )
    dietary = bool(
        _match_conditions(conditions, vs.VEGAN_VEGETARIAN_DIET | _DIETARY_B12, s)
    ) or any(c.active and text.mentions_vegan(" ".join(texts(c.model.code))) for c in conditions)

    status = _b12_status(results, injection_dates, today, s, current_orders, drafts)
    pa = _match_conditions(conditions, vs.PERNICIOUS_ANAEMIA_CONDITIONS, s, active_only=False)
    pa += _positive_ifab(results, injection_dates, s)
    gastrectomy = _match_conditions(conditions, vs.GASTRECTOMY, s, active_only=False) + _procedures(
        by_type.get("Procedure", []), vs.GASTRECTOMY, today
    )
    deficiency_conditions = tuple(
        f
        for f in _match_conditions(conditions, vs.B12_DEFICIENCY_CONDITIONS, s)
        if not _cancelled_by_normal(f, status.first_line)
    )
    b12_deficient = status.status is B12Status.DEFICIENT or bool(pa) or bool(deficiency_conditions)

    haemoglobin = labs.current(
        results, [Analyte.HAEMOGLOBIN], since=today - timedelta(days=s.blood_count_days)
    )
    mcv = labs.current(results, [Analyte.MCV], since=today - timedelta(days=s.blood_count_days))
    anaemia_conditions = tuple(
        f
        for f in _match_conditions(conditions, vs.ANAEMIA_CONDITIONS, s)
        if not _is_non_anaemia(f, conditions)
    )
    folate = _low_folate(results, today, s)

    neuro_hist_flag = bool(neuro_history)
    on_parenteral = any(
        o.is_b12 and o.route.parenteral and o.active for o in current_orders
    ) or any(
        d.route.parenteral
        and (today - d.when).days <= sum(maintenance_interval(d, s, neuro_hist_flag))
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
    parenteral_drafted = any(d.is_b12 and d.route.parenteral for d in drafts)
    b12_drafted = any(d.is_b12 for d in drafts)

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
    baseline_day = start or any_start
    baseline, anaemia_at_start = _baseline(results, baseline_day, anaemia_conditions, s, patient)
    deficient_at_start = bool(pa or deficiency_conditions) or (
        baseline_day is not None
        and _b12_status(
            [r for r in results if r.when <= baseline_day],
            injection_dates,
            baseline_day,
            s,
            (),
            (),
        ).status
        is B12Status.DEFICIENT
    )

    methotrexate = any(o.medication.methotrexate for o in orders)
    pemetrexed = any(o.medication.pemetrexed for o in orders)
    observations = by_type.get("Observation", [])
    procedures = by_type.get("Procedure", [])
    # Surgical history counts whatever the Condition's clinical status (§6.1).
    bariatric = _match_conditions(conditions, vs.BARIATRIC_SURGERY, s, active_only=False)
    bariatric += _procedures(procedures, vs.BARIATRIC_SURGERY, today)
    ileal = tuple(
        f
        for f in _match_conditions(conditions, vs.ILEAL_RESECTION, s, active_only=False)
        if _ileal_specific(f, conditions, s)
    ) + _procedures(procedures, vs.ILEAL_RESECTION, today)
    vegan = _vegan(conditions, observations, today, s)
    recent_since = today - timedelta(days=s.b12_recent_days)
    renal = status.renal_flag
    hcy_confounded = status.homocysteine_raised and (
        renal or folate is not None and folate.klass is Klass.LOW or methotrexate
    )
    return Facts(
        patient_id=chart.patient_id,
        hook=chart.hook,
        today=today,
        settings=s,
        age_years=age,
        sex=sex,
        deceased=deceased,
        pregnant=pregnant,
        pregnancy=pregnancy,
        results=results,
        b12_first_line=status.first_line,
        unusable_first_line=status.unusable,
        b12_status=status.status,
        b12_status_basis=status.basis,
        holotc_used=status.holotc,
        mma=status.mma,
        homocysteine=status.homocysteine,
        mma_state=status.mma_state,
        homocysteine_state=status.homocysteine_state,
        egfr=status.egfr,
        renal_flag=renal,
        mma_renal_confounded=status.mma_renal_confounded,
        homocysteine_confounded=hcy_confounded,
        deficiency_conditions=deficiency_conditions,
        pernicious_anaemia=pa,
        gastrectomy=gastrectomy,
        dietary_cause=dietary,
        b12_deficient=b12_deficient,
        neuro_findings=neuro,
        neuro_history=neuro_history,
        haemoglobin=haemoglobin,
        mcv=mcv,
        anaemia_conditions=anaemia_conditions,
        anaemia=(haemoglobin is not None and haemoglobin.klass is Klass.LOW)
        or bool(anaemia_conditions),
        macrocytosis=mcv is not None and mcv.klass is Klass.HIGH,
        folate=folate,
        folate_low=folate is not None and folate.klass is Klass.LOW,
        orders=current_orders,
        drafts=drafts,
        test_drafts=tuple(_test_drafts(draft_models, focus_refs)),
        b12_doses=tuple(doses),
        on_parenteral_b12=on_parenteral
        or (chart.hook is not Hook.PATIENT_VIEW and parenteral_drafted),
        on_any_b12=on_any or (chart.hook is not Hook.PATIENT_VIEW and b12_drafted),
        parenteral_drafted=parenteral_drafted,
        b12_drafted=b12_drafted,
        first_parenteral_dose=first_dose_is_draft,
        therapy_start_date=start,
        any_therapy_start_date=any_start,
        anaemia_at_start=anaemia_at_start,
        baseline=baseline,
        deficient_at_start=deficient_at_start,
        methotrexate_active=methotrexate,
        pemetrexed_active=pemetrexed,
        unreadable_resources=unreadable + draft_unreadable,
        on_parenteral_b12_record=on_parenteral,
        on_any_b12_record=on_any,
        breastfeeding=_match_conditions(conditions, vs.BREASTFEEDING, s) if sex != "male" else (),
        bariatric=bariatric,
        ileal_resection=ileal,
        ileal_resection_cm=_ileal_length(observations, s),
        crohns_ileum=_match_conditions(conditions, vs.CROHNS_ILEUM_CONDITIONS, s),
        vegan=vegan,
        n2o_exposure=_match_conditions(
            conditions, vs.NITROUS_OXIDE_EXPOSURE, s, text.N2O_EXPOSURE_WORDS
        )
        + _finding_observations(
            observations, vs.NITROUS_OXIDE_EXPOSURE, text.N2O_EXPOSURE_WORDS, today, s
        ),
        optic_atrophy=_match_conditions(
            conditions, vs.OPTIC_ATROPHY_CONDITIONS, s, text.OPTIC_ATROPHY_WORDS, active_only=False
        ),
        metformin=_exposure(history.metformin, today, s.exposure_gap_days),
        acid_suppression=_exposure(history.acid_suppressants, today, s.exposure_gap_days),
        b12_recent=labs.current(results, [Analyte.B12, Analyte.HOLOTC], since=recent_since),
        mma_recent=labs.current(results, [Analyte.MMA], since=recent_since),
        last_b12_request=max(history.b12_requests, key=lambda d: d.when, default=None),
    )


def _ileal_specific(finding: Finding, conditions: Sequence[_Condition], s: Settings) -> bool:
    """Return whether an ileal-resection match counts: Z90.49 only with ileal text (§2.4)."""
    for cond in conditions:
        if ref(cond.model) != finding.ref or not finding.ref:
            continue
        codes = {c.replace(".", "").upper() for _, c, _ in codings(cond.model.code)}
        other = [
            (sy, c)
            for sy, c, _ in codings(cond.model.code)
            if vs.ILEAL_RESECTION.contains(sy, c) and c.replace(".", "").upper() != "Z9049"
        ]
        if "Z9049" not in codes or other or not s.z90_49_requires_ileal_text:
            return True
        return (
            text.has_phrase(text.normalise(" ".join(texts(cond.model.code))), text.ILEAL_WORDS)
            is not None
        )
    return True


def _vegan(
    conditions: Sequence[_Condition], observations: Sequence[Any], today: date, s: Settings
) -> tuple[Finding, ...]:
    """Return vegan/vegetarian diet evidence: codes, or text not negated ("non-vegetarian")."""
    coded = _match_conditions(conditions, vs.VEGAN_VEGETARIAN_DIET, s)
    seen = {f.ref for f in coded}
    by_text = tuple(
        _finding(c, by_text=True)
        for c in conditions
        if c.active
        and ref(c.model) not in seen
        and text.mentions_vegan(" ".join(texts(c.model.code)))
    )
    observed = tuple(
        f
        for f in _finding_observations(
            observations, vs.VEGAN_VEGETARIAN_DIET, text.VEGAN_WORDS, today, s
        )
        if not f.by_text or text.mentions_vegan(f.name)
    )
    return coded + by_text + observed


def _ileal_length(observations: Sequence[Any], s: Settings) -> float | None:
    """Return the resected ileal length in cm from the site's Observation code [U], if set."""
    if not s.ileal_length_code or "|" not in s.ileal_length_code:
        return None
    system, code = s.ileal_length_code.split("|", 1)
    latest: tuple[date, float] | None = None
    for obs in observations:
        if not any(sy == system and c == code for sy, c, _ in codings(obs.code)):
            continue
        quantity = obs.valueQuantity
        if quantity is None or quantity.value is None:
            continue
        factor = _CM_PER_UNIT.get(str(quantity.code or quantity.unit or "").strip().lower())
        when = as_date(obs.effectiveDateTime) or as_date(obs.issued) or date.min
        if factor is not None and (latest is None or when >= latest[0]):
            latest = (when, float(Decimal(quantity.value)) * factor)
    return latest[1] if latest is not None else None


_CM_PER_UNIT = {"cm": 1.0, "mm": 0.1, "m": 100.0}


_LAB_LOINC = frozenset(vs.OBSERVATION_LOINC_CODES)
# Every non-laboratory value set (a new one is included by being loaded); a Condition with none
# of these codes matters only through a text rule of §2.7, checked on its text.
_CONDITION_SETS = functools.reduce(
    operator.or_,
    (s for name, s in vs.VALUE_SETS.items() if not name.endswith("-loinc")),
)
_CONDITION_WORDS = (
    *text.NEURO_FINDING_WORDS,
    *text.VEGAN_WORDS,
    *text.N2O_EXPOSURE_WORDS,
    *text.OPTIC_ATROPHY_WORDS,
)


@dataclass(frozen=True, slots=True)
class _Wanted:
    """A cheap look at a raw resource: can it matter to any rule? (Observations, Conditions.)

    Validating a resource with fhir.resources costs about 0.1 ms; a chart's vital signs, years-old
    results and unrelated problems never reach a rule, so they are never validated.
    """

    oldest: str  # ISO date: results older than every lookback of §4.3 cannot matter
    settings: Settings

    def __call__(self, resource: Mapping[str, Any]) -> bool:
        kind = resource.get("resourceType")
        if kind == "Observation":
            return self._observation(resource)
        if kind == "Condition":
            return self._condition(resource)
        return True

    def _observation(self, resource: Mapping[str, Any]) -> bool:
        site_code = self.settings.ileal_length_code
        if site_code and any(
            f"{system}|{code}" == site_code for system, code in raw_codes(resource.get("code"))
        ):
            return True  # a resection length is read whatever its age (§7.14)
        when = resource.get("effectiveDateTime") or resource.get("issued")
        period = resource.get("effectivePeriod")
        if not when and isinstance(period, Mapping):
            when = period.get("start")
        if isinstance(when, str) and len(when) >= 10 and when[:10] < self.oldest:
            return False
        if resource.get("valueCodeableConcept"):
            return True  # a coded finding
        loinc = [code for system, code in raw_codes(resource.get("code")) if system == vs.LOINC]
        return not loinc or any(code in _LAB_LOINC for code in loinc)

    def _condition(self, resource: Mapping[str, Any]) -> bool:
        concept = resource.get("code")
        pairs = _who_as_cm(raw_codes(concept), self.settings)
        if any(_CONDITION_SETS.contains(system, code) for system, code in pairs):
            return True
        words: list[str] = []
        if isinstance(concept, Mapping):
            words.append(str(concept.get("text") or ""))
            words += [
                str(c.get("display") or "")
                for c in concept.get("coding") or ()
                if isinstance(c, Mapping)
            ]
        return text.has_phrase(text.normalise(" ".join(words)), _CONDITION_WORDS) is not None


def _selection_ref(selection: str) -> str:
    """Return 'Type/id' from a selection, which may be relative or absolute."""
    parts = selection.split("/_history")[0].rstrip("/").split("/")
    return "/".join(parts[-2:])


def _finding_observations(
    observations: Sequence[Any],
    value_set: vs.ValueSet,
    words: Sequence[str],
    today: date,
    settings: Settings,
) -> tuple[Finding, ...]:
    """Return finding Observations (code or value in the set) recorded in the last 365 days."""
    found = []
    for obs in observations:
        if str(obs.status or "") not in ("final", "amended", "corrected", "preliminary"):
            continue
        when = as_date(obs.effectiveDateTime) or as_date(obs.issued)
        if when is None or (today - when).days > settings.finding_max_days or when > today:
            continue
        concepts = [obs.code, obs.valueCodeableConcept]
        if any(_in_set(c, value_set, settings) for c in concepts if c is not None):
            found.append(
                Finding(
                    ref(obs), concept_name(obs.valueCodeableConcept) or concept_name(obs.code), when
                )
            )
        elif text.has_phrase(
            text.normalise(" ".join(t for c in concepts for t in texts(c))), words
        ):
            found.append(Finding(ref(obs), concept_name(obs.code), when, by_text=True))
    return tuple(found)


def _procedures(models: Sequence[Any], value_set: vs.ValueSet, today: date) -> tuple[Finding, ...]:
    found = []
    for model in models:
        if model.status != "completed":
            continue
        when = as_date(model.performedDateTime) or as_date(
            getattr(model.performedPeriod, "start", None)
        )
        if when is not None and when > today:
            continue
        if any(value_set.contains(s, c) for s, c, _ in codings(model.code)):
            found.append(Finding(ref(model), concept_name(model.code), when))
    return tuple(found)


def _is_non_anaemia(finding: Finding, conditions: Sequence[_Condition]) -> bool:
    """Return whether a matched anaemia Condition is only a non-anaemia B12 row (§2.4)."""
    for cond in conditions:
        if ref(cond.model) == finding.ref and finding.ref:
            codes = {c.replace(".", "").upper() for _, c, _ in codings(cond.model.code)}
            return bool(codes) and codes <= _NOT_ANAEMIA
    return False


def _cancelled_by_normal(finding: Finding, first_line: LabResult | None) -> bool:
    """A deficiency Condition is cancelled by a later normal first-line result (§6.2)."""
    return (
        first_line is not None
        and first_line.klass is Klass.NORMAL
        and finding.when is not None
        and first_line.when > finding.when
    )


def _positive_ifab(
    results: Sequence[LabResult], parenteral: Sequence[date], settings: Settings
) -> tuple[Finding, ...]:
    return tuple(
        Finding(r.ref, f"Intrinsic factor antibody positive ({fmt_date(r.when)})", r.when)
        for r in results
        if r.analyte is Analyte.INTRINSIC_FACTOR_AB
        and r.klass is Klass.POSITIVE
        and not _post_injection(r.when, parenteral, settings)
    )


def _post_injection(when: date, parenteral: Sequence[date], settings: Settings) -> bool:
    """Return whether a result was drawn ≤ 14 days after a parenteral B12 dose [V] S-MAYO-B12."""
    return any(0 <= (when - d).days <= settings.post_injection_exclusion_days for d in parenteral)


def _low_folate(results: Sequence[LabResult], today: date, settings: Settings) -> LabResult | None:
    """Return the low current folate (serum, red-cell, whole-blood; 90 days), else the latest."""
    since = today - timedelta(days=settings.folate_days)
    latest = [
        labs.current(results, [a], since=since)
        for a in (Analyte.FOLATE_SERUM, Analyte.FOLATE_RBC, Analyte.FOLATE_BLOOD)
    ]
    present = [r for r in latest if r is not None]
    low = [r for r in present if r.klass is Klass.LOW]
    if low:
        return max(low, key=lambda r: r.when)
    return max(present, key=lambda r: r.when) if present else None


def _baseline(
    results: Sequence[LabResult],
    start: date | None,
    anaemia_conditions: Sequence[Finding],
    settings: Settings,
    patient: labs.Patient,
) -> tuple[tuple[LabResult, ...], bool]:
    """Return the baseline blood count before therapy start and whether it showed anaemia (§6.2)."""
    if start is None:
        return (), False
    since = start - timedelta(days=settings.blood_count_days)
    found = [
        r
        for a in (Analyte.HAEMOGLOBIN, Analyte.MCV, Analyte.HAEMATOCRIT, Analyte.RETICULOCYTES_PCT)
        if (r := labs.current(results, [a], since=since, until=start)) is not None
    ]
    abnormal = any(
        (r.analyte is Analyte.HAEMOGLOBIN and r.klass is Klass.LOW)
        or (r.analyte is Analyte.MCV and r.klass is Klass.HIGH)
        for r in found
    )
    return tuple(found), abnormal or bool(anaemia_conditions)


@dataclass(frozen=True, slots=True)
class _Status:
    status: B12Status
    basis: str
    first_line: LabResult | None
    unusable: tuple[LabResult, ...]
    holotc: LabResult | None
    mma: LabResult | None
    homocysteine: LabResult | None
    mma_state: Marker
    homocysteine_state: Marker
    egfr: LabResult | None
    renal_flag: bool
    mma_renal_confounded: bool
    homocysteine_raised: bool


def _marker(result: LabResult | None) -> Marker:
    if result is None:
        return Marker.NONE
    return Marker.RAISED if result.klass is Klass.HIGH else Marker.NORMAL


def _b12_status(
    results: Sequence[LabResult],
    parenteral: Sequence[date],
    today: date,
    s: Settings,
    orders: Sequence[Order],
    drafts: Sequence[Order],
) -> _Status:
    """Return the first-line result and the refined B12 status (§4.1 post-injection, §6.2)."""
    since = today - timedelta(days=s.b12_status_days)
    first_line_results = [
        r
        for r in results
        if r.analyte in (Analyte.B12, Analyte.HOLOTC)
        and since <= r.when <= today
        and not _post_injection(r.when, parenteral, s)
    ]
    first = labs.current(first_line_results, [Analyte.B12, Analyte.HOLOTC])
    unusable = tuple(r for r in first_line_results if not r.usable)
    window = timedelta(days=s.functional_days)
    anchor = first.when if first is not None else today
    lo, hi = (anchor - window, anchor + window) if first is not None else (today - window, today)
    mma = labs.current(results, [Analyte.MMA, Analyte.MMA_URINE], since=lo, until=hi)
    if (
        mma is not None
        and mma.analyte is Analyte.MMA_URINE
        and mma.basis is labs.Basis.DEFAULT_BAND
    ):
        mma = None  # urine MMA only through the lab's flag or range (§2.2)
    hcy = labs.current(results, [Analyte.HOMOCYSTEINE], since=lo, until=hi)
    egfr = labs.current(results, [Analyte.EGFR], since=today - timedelta(days=s.egfr_days))
    renal = egfr is not None and egfr.klass is Klass.LOW
    mma_state, hcy_state = _marker(mma), _marker(hcy)
    renal_confounded = (
        renal
        and mma_state is Marker.RAISED
        and mma is not None
        and mma.canonical is not None
        and mma.canonical <= s.mma_renal_ceiling_umol_l
    )
    status, basis = B12Status.UNKNOWN, "no usable B12 or holoTC result in the past year"
    holotc_used = None
    if first is not None:
        status = {
            Klass.LOW: B12Status.DEFICIENT,
            Klass.INDETERMINATE: B12Status.INDETERMINATE,
        }.get(first.klass, B12Status.NORMAL)
        basis = f"{first.name} {first.klass.value}"
    if status is B12Status.INDETERMINATE and first is not None and first.analyte is Analyte.B12:
        holotc = labs.current(
            results, [Analyte.HOLOTC], since=first.when - window, until=first.when + window
        )
        if holotc is not None and holotc.canonical is not None:
            holotc_used = holotc
            if holotc.canonical < s.holotc_deficient_below_pmol_l:
                status, basis = B12Status.DEFICIENT, "holoTC low"
            elif holotc.canonical > s.holotc_indeterminate_max_pmol_l:
                status, basis = B12Status.NORMAL, "deficiency not supported: holoTC normal"
    if status is B12Status.INDETERMINATE and mma_state is not Marker.NONE:
        if mma_state is Marker.RAISED and not renal_confounded:
            status, basis = B12Status.DEFICIENT, "confirmed: MMA raised"
        elif mma_state is Marker.NORMAL:
            status, basis = B12Status.NORMAL, "deficiency not supported: MMA normal"
    elif status is B12Status.INDETERMINATE and hcy_state is not Marker.NONE:
        folate = _low_folate(results, today, s)
        methotrexate = any(o.medication.methotrexate for o in (*orders, *drafts))
        confounded = renal or (folate is not None and folate.klass is Klass.LOW) or methotrexate
        if hcy_state is Marker.RAISED and not confounded:
            status, basis = B12Status.DEFICIENT, "probable: homocysteine raised"
        elif hcy_state is Marker.NORMAL:
            status, basis = B12Status.NORMAL, "deficiency not supported: homocysteine normal"
    return _Status(
        status=status,
        basis=basis,
        first_line=first,
        unusable=unusable,
        holotc=holotc_used,
        mma=mma,
        homocysteine=hcy,
        mma_state=mma_state,
        homocysteine_state=hcy_state,
        egfr=egfr,
        renal_flag=renal,
        mma_renal_confounded=renal_confounded,
        homocysteine_raised=hcy_state is Marker.RAISED,
    )
