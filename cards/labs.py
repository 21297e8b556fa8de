"""Laboratory results: which Observations count, unit normalisation and classification.

Implements clinical-rules §3 (units, plausibility, unknown units) and §4.1 (which results count,
superseding, the current result); §4.2 (classification precedence: the lab's interpretation, then
its reference range, then the configured default bands of §5) is `cards.classification.classify`.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from decimal import Decimal
from typing import Any

from cards import terminology as vs
from cards import units
from cards.classification import _FIRST_LINE
from cards.classification import _FLAG_INDETERMINATE
from cards.classification import Basis as Basis
from cards.classification import Klass as Klass
from cards.classification import Patient as Patient
from cards.classification import _flags
from cards.classification import _instant
from cards.classification import _range_side
from cards.classification import _reported_result
from cards.classification import classify as classify
from cards.resources import as_date
from cards.resources import codings
from cards.resources import concept_name
from cards.resources import has_unreadable_value
from cards.resources import ref
from cards.settings import Profile
from cards.settings import Settings
from cards.units import Analyte
from cards.wording import render


_USABLE_STATUSES = {"final": 2, "amended": 3, "corrected": 3, "preliminary": 1, "unknown": 0}
_LABELLED_STATUSES = {"preliminary", "unknown"}  # named on the card (common.evidence_parts.status)
_PARTS = "common.evidence_parts."

# Which analyte a LOINC code measures; order matters only for readability.
_ANALYTE_SETS: tuple[tuple[Analyte, vs.ValueSet], ...] = (
    (Analyte.B12, vs.SERUM_B12),
    (Analyte.HOLOTC, vs.HOLOTC),
    (Analyte.MMA, vs.MMA),
    (Analyte.MMA_URINE, vs.MMA_URINE),
    (Analyte.HOMOCYSTEINE, vs.HOMOCYSTEINE),
    (Analyte.FOLATE_SERUM, vs.FOLATE_SERUM),
    (Analyte.FOLATE_RBC, vs.FOLATE_RBC),
    (Analyte.FOLATE_BLOOD, vs.FOLATE_BLOOD),
    (Analyte.POTASSIUM, vs.POTASSIUM),
    (Analyte.HAEMOGLOBIN, vs.HAEMOGLOBIN),
    (Analyte.HAEMATOCRIT, vs.HAEMATOCRIT),
    (Analyte.MCV, vs.MCV),
    (Analyte.RETICULOCYTES_PCT, vs.RETICULOCYTES),
    (Analyte.EGFR, vs.EGFR),
    (Analyte.INTRINSIC_FACTOR_AB, vs.INTRINSIC_FACTOR_AB),
)
_RETIC_ABSOLUTE_LOINC = "14196-0"  # Reticulocytes [#/volume]: no conversion to % (§3)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_DISPLAY_UNITS = {"umol/L": "µmol/L", "mL/min/{1.73_m2}": "mL/min/1.73 m²", "ug/L": "µg/L"}


_SAME_NUMBER = ({"pg/mL", "ng/L"}, {"ng/mL", "ug/L"})  # different words, same number


def _same_number(a: str | None, b: str) -> bool:
    return any({a, b} <= pair for pair in _SAME_NUMBER)


def display_unit(unit: str, settings: Settings | None = None) -> str:
    """Return a unit as clinicians read it: µmol/L for umol/L; ng/L for pg/mL in uk (§8)."""
    if unit == "pg/mL" and settings is not None and settings.profile.value == "uk":
        return "ng/L"  # numerically equal
    return _DISPLAY_UNITS.get(unit, unit)


def fmt_date(day: date) -> str:
    """Return a date as card text shows it: 19 Nov 2026."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def fmt_number(value: float) -> str:
    """Return a number without float noise: 0.55, 142, 129."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    text = f"{value:.3g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")  # 2.50 -> 2.5, never 40 -> 4
    return text


@dataclass(frozen=True, slots=True)
class LabResult:
    """One usable-or-not laboratory result, normalised and classified."""

    analyte: Analyte
    ref: str
    code: str
    when: date
    issued: datetime | None
    status: str
    value: float | None  # as reported
    comparator: str | None
    unit: str | None  # as reported
    canonical: float | None  # in units.CANONICAL_UNIT[analyte]
    klass: Klass
    basis: Basis | None
    critical: bool = False
    lab_high: float | None = None  # upper reference limit, canonical (reticulocyte response)
    note: str = ""  # why a result is unusable
    basis_text: str = ""  # the flag, range or band that decided, for the card
    canonical_label: str = ""  # the canonical unit as the site reads it (ng/L in uk)
    at: float = 0.0  # effective time of day as a timestamp, for same-day ordering (§4.1)
    unreadable_value: bool = False  # NaN, Infinity or out of range as sent (§11.3)
    profile: Profile = Profile.UK  # the site's card language, for the test's name

    @property
    def usable(self) -> bool:
        """Return whether the result can drive a rule."""
        return self.klass is not Klass.UNUSABLE

    @property
    def name(self) -> str:
        """Return the test's short name in the site's wording (`cards/wording/common.toml`)."""
        return render(self.profile, f"common.lab.{self.analyte.value}")

    def value_text(self) -> str:
        """Return the value as reported, then normalised: 95 pmol/L (= 129 pg/mL)."""
        say = self._say
        if self.unreadable_value:
            return say("value.unreadable")
        if self.value is None:
            return say("value.none")
        unit = display_unit(self.unit) if self.unit else say("value.no_unit")
        shown = say(
            "value.reported",
            comparator=self.comparator or "",
            value=fmt_number(self.value),
            unit=unit,
        )
        canonical_unit = units.CANONICAL_UNIT.get(self.analyte)
        if (
            self.canonical is not None
            and canonical_unit is not None
            and units.normalise_unit(self.unit or "") != canonical_unit
            and not _same_number(units.normalise_unit(self.unit or ""), canonical_unit)
        ):
            label = self.canonical_label or display_unit(canonical_unit)
            if units.normalise_unit(self.unit or "") != units.normalise_unit(label):
                shown = say(
                    "value.converted",
                    reported=shown,
                    value=fmt_number(self.canonical),
                    unit=label,
                )
        return shown

    def describe(self) -> str:
        """Return the evidence line a card shows: test, value, unit, date, basis and status."""
        details = []
        if self.basis is not None and self.klass is not Klass.UNUSABLE:
            basis = self.basis_text or self.basis.value
            details.append(self._say("lab_class", klass=self.klass.value, basis=basis))
        if self.note:
            details.append(self.note)
        if self.status in _LABELLED_STATUSES:
            details.append(self._say(f"status.{self.status}"))
        return self._say(
            "lab_line",
            name=self.name,
            value=self.value_text(),
            date=fmt_date(self.when),
            details=details,
        )

    def _say(self, key: str, **values: Any) -> str:
        return render(self.profile, _PARTS + key, **values)


def analyte_of(code_concept: Any) -> tuple[Analyte, str] | None:
    """Return the analyte a LOINC-coded Observation measures and the matching code, if any."""
    pairs = [(system, code) for system, code, _ in codings(code_concept)]
    for analyte, value_set in _ANALYTE_SETS:
        for system, code in pairs:
            if value_set.contains(system, code):
                if analyte is Analyte.RETICULOCYTES_PCT and code == _RETIC_ABSOLUTE_LOINC:
                    return Analyte.RETICULOCYTES_ABS, code
                return analyte, code
    return None


def read_results(
    observations: Iterable[Any], patient: Patient, today: date, settings: Settings
) -> list[LabResult]:
    """Return every countable laboratory result, superseded ones removed, oldest first."""
    candidates: list[tuple[LabResult, tuple[str, ...]]] = []
    for obs in observations:
        result = _read_one(obs, patient, today, settings)
        if result is not None:
            candidates.append(result)
    return _drop_superseded(candidates)


def _read_one(
    obs: Any, patient: Patient, today: date, settings: Settings
) -> tuple[LabResult, tuple[str, ...]] | None:
    status = str(obs.status or "")
    if status not in _USABLE_STATUSES or obs.dataAbsentReason is not None:
        return None
    found = analyte_of(obs.code)
    if found is None:
        return None
    analyte, code = found
    when = (
        as_date(obs.effectiveDateTime)
        or as_date(getattr(obs.effectivePeriod, "start", None))
        or as_date(obs.issued)
    )
    if when is None or when > today:
        return None
    quantity = obs.valueQuantity
    value = (
        float(Decimal(quantity.value))
        if quantity is not None and quantity.value is not None
        else None
    )
    unit = (
        units.unit_of(quantity.code, quantity.unit, quantity.system)
        if quantity is not None
        else None
    )
    comparator = str(quantity.comparator) if quantity is not None and quantity.comparator else None
    unreadable_value = has_unreadable_value(quantity)
    klass, basis, critical, canonical, note = (
        (
            Klass.UNUSABLE,
            None,
            False,
            None,
            render(settings.profile, _PARTS + "unusable.unreadable"),
        )
        if unreadable_value  # no flag or range can vouch for a value that cannot be read
        else classify(
            obs, analyte, value, comparator, unit, patient.age_on(when), patient, settings
        )
    )
    if analyte is Analyte.INTRINSIC_FACTOR_AB and klass is Klass.UNUSABLE:
        reported = _reported_result(obs)  # positive/negative as a coded or text value (§4.1)
        if reported is not None:
            klass, basis, note = reported, Basis.LAB_FLAG, ""
    lab_high = _range_side(obs, analyte, unit, patient, when, "high")
    lab_low = _range_side(obs, analyte, unit, patient, when, "low")
    basis_text = _basis_text(
        analyte, klass, basis, _flags(obs), lab_low, lab_high, patient, when, settings
    )
    result = LabResult(
        analyte=analyte,
        ref=ref(obs),
        code=code,
        when=when,
        issued=obs.issued if isinstance(obs.issued, datetime) else None,
        status=status,
        value=value,
        comparator=comparator,
        unit=unit or (quantity.unit if quantity is not None else None),
        canonical=canonical,
        klass=klass,
        basis=basis,
        critical=critical,
        lab_high=lab_high,
        note=note,
        basis_text=basis_text,
        at=_instant(obs.effectiveDateTime),
        canonical_label=display_unit(units.CANONICAL_UNIT.get(analyte, ""), settings),
        unreadable_value=unreadable_value,
        profile=settings.profile,
    )
    identifiers = tuple(sorted(f"{i.system}|{i.value}" for i in obs.identifier or () if i.value))
    key = identifiers or (code, str(obs.effectiveDateTime or when))
    return result, key


def _drop_superseded(candidates: list[tuple[LabResult, tuple[str, ...]]]) -> list[LabResult]:
    """Keep one result per identifier (or code and time): amended/corrected win (§4.1)."""
    best: dict[tuple[str, ...], LabResult] = {}
    for result, key in candidates:
        current = best.get(key)
        if current is None or _rank(result) > _rank(current):
            best[key] = result
    return sorted(best.values(), key=_order_key)


def _rank(result: LabResult) -> tuple[int, float]:
    issued = result.issued.timestamp() if result.issued is not None else 0.0
    return (_USABLE_STATUSES[result.status], issued)


_ABNORMALITY = {Klass.LOW: 2, Klass.HIGH: 2, Klass.POSITIVE: 2, Klass.INDETERMINATE: 1}


def _order_key(result: LabResult) -> tuple[date, float, float, int, int]:
    """Sort key for "the current result": effective time, later issued, status, more abnormal."""
    issued = result.issued.timestamp() if result.issued is not None else 0.0
    return (
        result.when,
        result.at,
        issued,
        _USABLE_STATUSES[result.status],
        _ABNORMALITY.get(result.klass, 0),
    )


def current(
    results: Sequence[LabResult],
    analytes: Iterable[Analyte],
    since: date | None = None,
    until: date | None = None,
) -> LabResult | None:
    """Return the latest usable result of the analytes within [since, until], or None."""
    wanted = set(analytes)
    chosen = None
    for result in results:  # oldest first, so the last match is the current one
        if result.analyte not in wanted or not result.usable:
            continue
        if since is not None and result.when < since:
            continue
        if until is not None and result.when > until:
            continue
        chosen = result
    return chosen


def concept_text(obs: Any) -> str:
    """Return the Observation's code name (for logs and cards)."""
    return concept_name(obs.code)


def _basis_text(
    analyte: Analyte,
    klass: Klass,
    basis: Basis | None,
    flags: set[str],
    lab_low: float | None,
    lab_high: float | None,
    patient: Patient,
    when: date,
    settings: Settings,
) -> str:
    """Return what decided the class, in words a card can show."""
    unit = display_unit(units.CANONICAL_UNIT.get(analyte, ""), settings)
    words = settings.profile
    if basis is Basis.LAB_FLAG:
        text = render(words, _PARTS + "basis.lab_flag", flags=", ".join(sorted(flags)))
    elif basis is Basis.LAB_RANGE:
        limits = "–".join(fmt_number(x) for x in (lab_low, lab_high) if x is not None)
        text = (
            render(words, _PARTS + "basis.lab_range", limits=limits, unit=unit)
            if limits
            else render(words, _PARTS + "basis.lab_reference_range")
        )
    elif basis is Basis.DEFAULT_BAND:
        band = _band_words(analyte, klass, patient, settings, unit)
        return render(words, _PARTS + "basis.default_band", band=band)
    else:
        return ""
    if analyte in _FIRST_LINE and klass is Klass.INDETERMINATE and not flags & _FLAG_INDETERMINATE:
        upper = (
            settings.b12_indeterminate_max_pg_ml
            if analyte is Analyte.B12
            else settings.holotc_indeterminate_max_pmol_l
        )
        text = render(
            words, _PARTS + "basis.grey_zone", basis=text, upper=fmt_number(upper), unit=unit
        )
    return text


def _band_words(
    analyte: Analyte, klass: Klass, patient: Patient, settings: Settings, unit: str
) -> str:
    """Return the default band that applied, e.g. '< 180 pg/mL'."""
    s = settings
    bands = {
        Analyte.B12: (s.b12_deficient_below_pg_ml, s.b12_indeterminate_max_pg_ml),
        Analyte.HOLOTC: (s.holotc_deficient_below_pmol_l, s.holotc_indeterminate_max_pmol_l),
    }
    if analyte in bands:
        low, upper = bands[analyte]
        return {
            Klass.LOW: f"< {fmt_number(low)} {unit}",
            Klass.INDETERMINATE: f"{fmt_number(low)}–{fmt_number(upper)} {unit}",
        }.get(klass, f"> {fmt_number(upper)} {unit}")
    high = {
        Analyte.MMA: s.mma_raised_above_umol_l,
        Analyte.HOMOCYSTEINE: s.homocysteine_raised_above_umol_l,
        Analyte.MCV: s.mcv_high_above_fl,
    }.get(analyte)
    if high is not None:
        sign = ">" if klass is Klass.HIGH else "≤"
        return f"{sign} {fmt_number(high)} {unit}"
    if analyte is Analyte.HAEMOGLOBIN:
        if patient.pregnant:
            low_limit: float | None = s.hb_low_pregnant_g_dl
        elif patient.sex == "male":
            low_limit = s.hb_low_male_g_dl
        else:
            low_limit = s.hb_low_female_g_dl
    else:
        low_limit = {
            Analyte.FOLATE_SERUM: s.folate_serum_low_below_ng_ml,
            Analyte.FOLATE_RBC: s.folate_rbc_low_below_nmol_l,
            Analyte.POTASSIUM: s.potassium_low_below_mmol_l,
            Analyte.HAEMATOCRIT: s.hct_response_below_pct,
            Analyte.EGFR: s.egfr_renal_flag_below,
        }.get(analyte)
    if low_limit is None:
        return ""
    sign = "<" if klass is Klass.LOW else "≥"
    return f"{sign} {fmt_number(low_limit)} {unit}"
