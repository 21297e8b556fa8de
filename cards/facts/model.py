"""The values the rules read: `Facts`, frozen, and the records it is made of (clinical-rules §6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import Any

from cards import labs
from cards.labs import Klass
from cards.labs import LabResult
from cards.labs import fmt_date
from cards.medications import B12Product
from cards.medications import Medication
from cards.medications import Route
from cards.settings import Profile
from cards.settings import Settings
from cards.units import Analyte
from cards.wording import render
from cards.wording import word


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


class StatusBasis(StrEnum):
    """What decided the refined B12 status (§6.2); words: common.evidence_parts.b12_status."""

    NO_RESULT = "no_result"
    FIRST_LINE = "first_line"
    HOLOTC_LOW = "holotc_low"
    HOLOTC_NORMAL = "holotc_normal"
    MMA_RAISED = "mma_raised"
    MMA_NORMAL = "mma_normal"
    HOMOCYSTEINE_RAISED = "homocysteine_raised"
    HOMOCYSTEINE_NORMAL = "homocysteine_normal"


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

    profile: Profile = Profile.UK  # the site's card language

    def describe(self) -> str:
        """Return the evidence line: name, date, and how sure the record is."""
        return render(
            self.profile,
            "common.evidence_parts.finding",
            name=self.name,
            date=fmt_date(self.when) if self.when is not None else "",
            inactive=not self.active,
            provisional=self.provisional,
            by_text=self.by_text,
        )


@dataclass(frozen=True, slots=True)
class Dose:
    """One B12 dose from the dose history (§6.1)."""

    when: date
    product: B12Product
    route: Route
    ref: str
    source: str = "administration"  # administration | statement | request event | completed request
    profile: Profile = Profile.UK  # the site's card language

    def describe(self) -> str:
        """Return the dose as card text: product, route, date and where the date comes from."""
        return render(
            self.profile,
            "common.evidence_parts.dose",
            product=word(self.profile, "product", self.product.name),
            route=""
            if self.route is Route.UNKNOWN
            else word(self.profile, "route", self.route.name),
            date=fmt_date(self.when),
            source=word(self.profile, "dose_source", self.source),
        )


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
    interval_days: int | None = None  # a request's own 1-3 month interval (§11.8), else None
    raw: Mapping[str, Any] | None = None  # the draft resource as sent (drafts only)
    profile: Profile = Profile.UK  # the site's card language

    @property
    def is_b12(self) -> bool:
        """Return whether the order is B12 treatment (not an antidote or a multivitamin)."""
        return self.medication.b12 is not None

    def describe(self) -> str:
        """Return the order as card text: name, dose, route."""
        return render(
            self.profile,
            "common.evidence_parts.order",
            name=self.medication.name,
            dose=self.dose_text,
            daily_mg="" if self.daily_mg is None else labs.fmt_number(self.daily_mg),
            route=""
            if self.route is Route.UNKNOWN
            else word(self.profile, "route", self.route.name),
        )


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
    age_months: int | None = None  # whole months of age (§11.12: under 2 shown in months)
    sex: str = "unknown"
    deceased: bool = False
    pregnant: bool = False
    pregnancy: tuple[Finding, ...] = ()
    results: tuple[LabResult, ...] = ()
    b12_first_line: LabResult | None = None
    unusable_first_line: tuple[LabResult, ...] = ()
    excluded_first_line: tuple[LabResult, ...] = ()  # drawn ≤ 14 days after an injection (§4.1)
    b12_status: B12Status = B12Status.UNKNOWN
    b12_status_basis: str = ""  # for display; logic reads b12_status_reason
    b12_status_reason: StatusBasis | None = None
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
    # §11.9: the exposures not found through an F18 (any inhalant) code alone
    n2o_exposure_specific: tuple[Finding, ...] = ()
    optic_atrophy: tuple[Finding, ...] = ()
    metformin: Exposure | None = None
    acid_suppression: Exposure | None = None
    b12_recent: LabResult | None = None  # latest usable B12/holoTC within b12_recent_days
    mma_recent: LabResult | None = None  # latest usable MMA within b12_recent_days
    last_b12_request: Dose | None = None  # the latest B12 request, dated by its authoredOn
    first_b12_request: Dose | None = None  # the earliest B12 request, dated by its authoredOn

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

    @property
    def course_start(self) -> date | None:
        """Return the start of the whole B12 course on record (§11.7), gaps not considered.

        The earliest of: the first recorded dose, the earliest authoredOn of a B12 request, and
        the earliest MedicationStatement start. Unlike `therapy_start_date` it does not restart
        after a long gap, so a lifelong course whose early doses were not recorded is known as
        established rather than new.
        """
        starts = [d.when for d in self.b12_doses[:1]]
        if self.first_b12_request is not None:
            starts.append(self.first_b12_request.when)
        starts += [
            o.start
            for o in self.orders
            if o.is_b12 and o.kind == "MedicationStatement" and o.start is not None
        ]
        return min(starts, default=None)

    @property
    def established_course(self) -> bool:
        """Return whether a lifelong course is established, not new (§11.7).

        On a maintenance regimen, with a lifelong indication recorded more than `review_max_days`
        (365) before T, and the course on record started more than that long ago.
        """
        start = self.course_start
        days = self.settings.review_max_days
        return (
            self.on_maintenance_regimen
            and start is not None
            and (self.today - start).days > days
            and any(f.when is not None and (self.today - f.when).days > days
                    for f in self.lifelong_indication)
        )  # fmt: skip

    @property
    def untreated_low_b12(self) -> LabResult | None:
        """Return the last B12/holoTC result when it was low and no B12 treatment followed (§11.12).

        Treatment followed when a B12 dose, or a B12 request or statement starting or ending on or
        after the result, is on record; an undated B12 record counts as treatment (the card cannot
        say none followed). Multivitamins never count (§2.7).
        """
        last = self.latest(Analyte.B12, Analyte.HOLOTC)
        if last is None or last.klass is not Klass.LOW:
            return None
        if any(dose.when >= last.when for dose in self.b12_doses):
            return None
        for order in self.orders:
            if order.draft or not order.is_b12:
                continue
            dates = [d for d in (order.start, order.end) if d is not None]
            if not dates or max(dates) >= last.when:
                return None
        return last

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
