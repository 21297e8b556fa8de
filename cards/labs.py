"""Laboratory results: which Observations count, unit normalisation and classification.

Implements clinical-rules §3 (units, plausibility, unknown units), §4.1 (which results count,
superseding, the current result) and §4.2 (classification precedence: the lab's interpretation,
then its reference range, then the configured default bands of §5).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any

from cards import terminology as vs
from cards import units
from cards.resources import as_date
from cards.resources import codings
from cards.resources import concept_name
from cards.resources import has_unreadable_value
from cards.resources import ref
from cards.resources import texts
from cards.settings import Profile
from cards.settings import Settings
from cards.units import Analyte
from cards.wording import render


class Klass(StrEnum):
    """What a result says."""

    LOW = "low"
    HIGH = "high"
    NORMAL = "normal"
    INDETERMINATE = "indeterminate"
    POSITIVE = "positive"
    NEGATIVE = "negative"
    UNUSABLE = "unusable"


class Basis(StrEnum):
    """Which step of §4.2 decided the class."""

    LAB_FLAG = "lab flag"
    LAB_RANGE = "lab reference range"
    DEFAULT_BAND = "default band"


# Observation.interpretation codes (v3-ObservationInterpretation), §4.2 step 1.
_FLAG_LOW = frozenset({"L", "LL", "LU", "<"})
_FLAG_HIGH = frozenset({"H", "HH", "HU", ">"})
_FLAG_NORMAL = frozenset({"N"})
_FLAG_INDETERMINATE = frozenset({"IND", "E"})
_FLAG_ABNORMAL = frozenset({"A", "AA"})
_FLAG_POSITIVE = frozenset({"POS", "DET"})
_FLAG_NEGATIVE = frozenset({"NEG", "ND"})
_FLAG_CRITICAL = frozenset({"LL", "HH"})
_INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

_UNREADABLE_NOTE = "could not be interpreted: the value is not a readable number"
_USABLE_STATUSES = {"final": 2, "amended": 3, "corrected": 3, "preliminary": 1, "unknown": 0}
_STATUS_LABEL = {"preliminary": "preliminary", "unknown": "status unknown"}

# Analytes whose low side matters (a range giving only the high side falls through, §4.2 step 2).
_LOW_SIDE = frozenset(
    {
        Analyte.B12,
        Analyte.HOLOTC,
        Analyte.FOLATE_SERUM,
        Analyte.FOLATE_RBC,
        Analyte.FOLATE_BLOOD,
        Analyte.POTASSIUM,
        Analyte.HAEMOGLOBIN,
        Analyte.HAEMATOCRIT,
        Analyte.EGFR,
    }
)
_FIRST_LINE = frozenset({Analyte.B12, Analyte.HOLOTC})

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
class Patient:
    """What classification needs to know of the patient."""

    sex: str  # male | female | unknown
    birth_date: date | None
    pregnant: bool = False

    def age_on(self, day: date) -> int | None:
        """Return whole years of age on a day, or None without a birth date."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


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
        if self.unreadable_value:
            return "with a value that is not a readable number"
        if self.value is None:
            return "no numeric value"
        unit = display_unit(self.unit) if self.unit else "(no unit)"
        shown = f"{self.comparator or ''}{fmt_number(self.value)} {unit}"
        canonical_unit = units.CANONICAL_UNIT.get(self.analyte)
        if (
            self.canonical is not None
            and canonical_unit is not None
            and units.normalise_unit(self.unit or "") != canonical_unit
            and not _same_number(units.normalise_unit(self.unit or ""), canonical_unit)
        ):
            label = self.canonical_label or display_unit(canonical_unit)
            if units.normalise_unit(self.unit or "") != units.normalise_unit(label):
                shown += f" (= {fmt_number(self.canonical)} {label})"
        return shown

    def describe(self) -> str:
        """Return the evidence line a card shows: test, value, unit, date, basis and status."""
        parts = [f"{self.name} {self.value_text()} on {fmt_date(self.when)}"]
        if self.basis is not None and self.klass is not Klass.UNUSABLE:
            parts.append(f"{self.klass.value}: {self.basis_text or self.basis.value}")
        if self.note:
            parts.append(self.note)
        label = _STATUS_LABEL.get(self.status)
        if label:
            parts.append(label)
        return parts[0] + (f" ({'; '.join(parts[1:])})" if len(parts) > 1 else "")


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
        (Klass.UNUSABLE, None, False, None, _UNREADABLE_NOTE)
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


def classify(
    obs: Any,
    analyte: Analyte,
    value: float | None,
    comparator: str | None,
    unit: str | None,
    age: int | None,
    patient: Patient,
    settings: Settings,
) -> tuple[Klass, Basis | None, bool, float | None, str]:
    """Return (class, basis, critical, canonical value, note) by the precedence of §4.2."""
    canonical = units.to_canonical(analyte, value, unit) if value is not None and unit else None
    note = ""
    if value is not None and canonical is None:
        note = (
            f"could not be interpreted: unit '{unit}' not recognised"
            if unit
            else ("could not be interpreted: no unit")
        )
    elif (
        canonical is not None
        and settings.plausibility_guard
        and not units.plausible(analyte, canonical)
    ):
        note = "could not be interpreted: value implausible for its unit"
        canonical = None
    implausible = note.endswith("implausible for its unit")
    flags = _flags(obs) if settings.use_lab_reference_first else set()
    critical = bool(flags & _FLAG_CRITICAL)
    flag_class: Klass | None = _flag_class(flags)
    if flag_class in (Klass.POSITIVE, Klass.NEGATIVE):
        return flag_class, Basis.LAB_FLAG, critical, canonical, ""
    range_class = None
    if settings.use_lab_reference_first and value is not None and not implausible:
        range_class = _range_class(obs, analyte, value, comparator, unit, canonical, patient, age)
    band_class = (
        _band_class(analyte, canonical, comparator, patient, age, settings)
        if canonical is not None
        else None
    )
    if flag_class is Klass.INDETERMINATE and flags & _FLAG_ABNORMAL:
        direction = range_class or band_class
        if direction in (Klass.LOW, Klass.HIGH):
            flag_class = direction
    klass: Klass
    if flag_class is not None:
        klass, basis = flag_class, Basis.LAB_FLAG
    elif range_class is not None:
        klass, basis = range_class, Basis.LAB_RANGE
    elif band_class is not None:
        return band_class, Basis.DEFAULT_BAND, critical, canonical, ""
    else:
        return Klass.UNUSABLE, None, critical, canonical, note or "could not be classified"
    if analyte in _FIRST_LINE:
        klass = _first_line_refinement(analyte, klass, flags, canonical, settings)
    return klass, basis, critical, canonical, ""


# SNOMED CT qualifiers for a reported antibody result [V] (SNOMED CT core qualifier values).
_POSITIVE_VALUES = frozenset({"10828004", "52101004", "pos", "positive", "detected", "present"})
_NEGATIVE_VALUES = frozenset(
    {"260385009", "2667000", "neg", "negative", "not detected", "absent", "none detected"}
)


def _reported_result(obs: Any) -> Klass | None:
    """Return positive/negative from a coded or text value with no interpretation flag."""
    words: list[str] = []
    if obs.valueCodeableConcept is not None:
        words += [code.lower() for _, code, _ in codings(obs.valueCodeableConcept)]
        words += [t.strip().lower() for t in texts(obs.valueCodeableConcept)]
    if isinstance(obs.valueString, str):
        words.append(obs.valueString.strip().lower())
    if any(w in _NEGATIVE_VALUES for w in words):
        return Klass.NEGATIVE
    if any(w in _POSITIVE_VALUES for w in words):
        return Klass.POSITIVE
    return None


def _instant(value: Any) -> float:
    """Return a dateTime with a time of day as a timestamp, 0.0 for a date or nothing."""
    if isinstance(value, datetime):
        return value.timestamp()
    return 0.0


def _flags(obs: Any) -> set[str]:
    found: set[str] = set()
    for concept in obs.interpretation or ():
        for system, code, _display in codings(concept):
            if code and system in ("", _INTERPRETATION_SYSTEM, "http://hl7.org/fhir/v2/0078"):
                found.add(code)
    return found


def _flag_class(flags: set[str]) -> Klass | None:
    if flags & _FLAG_POSITIVE:
        return Klass.POSITIVE
    if flags & _FLAG_NEGATIVE:
        return Klass.NEGATIVE
    if flags & _FLAG_LOW:
        return Klass.LOW
    if flags & _FLAG_HIGH:
        return Klass.HIGH
    if flags & (_FLAG_INDETERMINATE | _FLAG_ABNORMAL):
        return Klass.INDETERMINATE
    if flags & _FLAG_NORMAL:
        return Klass.NORMAL
    return None


def _first_line_refinement(
    analyte: Analyte, klass: Klass, flags: set[str], canonical: float | None, settings: Settings
) -> Klass:
    """Place a lab "not low" B12/holoTC against the default indeterminate band (§4.2)."""
    if klass in (Klass.LOW, Klass.INDETERMINATE):
        return klass
    if canonical is None or not settings.indeterminate_band_over_lab_normal:
        return Klass.NORMAL
    upper = (
        settings.b12_indeterminate_max_pg_ml
        if analyte is Analyte.B12
        else settings.holotc_indeterminate_max_pmol_l
    )
    return Klass.INDETERMINATE if canonical <= upper else Klass.NORMAL


# appliesTo may name sex by administrative-gender code or by SNOMED CT (FHIR's example value set
# referencerange-appliesto: 248153007 Male, 248152002 Female) [V] HL7 FHIR R4.
_SEX_CODES = {"248153007": "male", "248152002": "female"}


def _applicable_ranges(obs: Any, patient: Patient, age: int | None) -> list[Any]:
    chosen = []
    for entry in obs.referenceRange or ():
        kind = {code for _, code, _ in codings(entry.type)}
        if kind and not kind & {"normal", "recommended"}:
            continue  # treatment / therapeutic ranges are ignored
        applies = {
            _SEX_CODES.get(code.lower(), code.lower())
            for c in entry.appliesTo or ()
            for _, code, _ in codings(c)
        }
        if applies & {"male", "female"} and patient.sex not in applies:
            continue
        if entry.age is not None and age is not None:
            low = getattr(entry.age.low, "value", None)
            high = getattr(entry.age.high, "value", None)
            if (low is not None and age < low) or (high is not None and age > high):
                continue
        chosen.append(entry)
    return chosen


def _limit(
    quantity: Any, analyte: Analyte, value_unit: str | None, canonical: bool
) -> float | None:
    """Return a range limit, canonical when possible, else raw when the unit strings agree."""
    if quantity is None or quantity.value is None:
        return None
    unit = units.unit_of(quantity.code, quantity.unit, quantity.system) or value_unit
    raw = float(Decimal(quantity.value))
    if canonical:
        return units.to_canonical(analyte, raw, unit) if unit else None
    return raw if units.same_unit(unit, value_unit) else None


def _range_side(
    obs: Any, analyte: Analyte, unit: str | None, patient: Patient, when: date, side: str
) -> float | None:
    for entry in _applicable_ranges(obs, patient, patient.age_on(when)):
        limit = _limit(getattr(entry, side), analyte, unit, canonical=True)
        if limit is not None:
            return limit
    return None


def _range_class(
    obs: Any,
    analyte: Analyte,
    value: float,
    comparator: str | None,
    unit: str | None,
    canonical: float | None,
    patient: Patient,
    age: int | None,
) -> Klass | None:
    """§4.2 step 2: classify against the lab's own normal range, if it decides."""
    use_canonical = canonical is not None
    x = canonical if use_canonical else value
    point: float = x if x is not None else value
    for entry in _applicable_ranges(obs, patient, age):
        low = _limit(entry.low, analyte, unit, use_canonical)
        high = _limit(entry.high, analyte, unit, use_canonical)
        needed = low if analyte in _LOW_SIDE else high
        if needed is None:
            continue  # a range giving only the side not needed falls through

        return _censored(partial(_against, low=low, high=high), point, comparator)
    return None


def _censored(klass_at: Any, x: float, comparator: str | None) -> Klass | None:
    """Classify a value, or a censored interval only when it lies inside one band (§4.1)."""
    at_value: Klass = klass_at(x)
    if comparator in ("<", "<="):
        edge: Klass = klass_at(0.0)
    elif comparator in (">", ">="):
        edge = klass_at(1e12)
    else:
        return at_value
    if comparator in ("<", ">") and at_value is not edge:
        # The interval is open at the reported value: nudge inside it before comparing.
        at_value = klass_at(x * (0.999999 if comparator == "<" else 1.000001))
    return at_value if at_value is edge else None


def _band_class(
    analyte: Analyte,
    canonical: float,
    comparator: str | None,
    patient: Patient,
    age: int | None,
    settings: Settings,
) -> Klass | None:
    """§4.2 step 3: the configured default bands of §5."""
    s = settings
    low_below: float | None = None
    high_above: float | None = None
    if analyte is Analyte.B12:
        return _censored(
            lambda v: _three_band(v, s.b12_deficient_below_pg_ml, s.b12_indeterminate_max_pg_ml),
            canonical,
            comparator,
        )
    if analyte is Analyte.HOLOTC:
        return _censored(
            lambda v: _three_band(
                v, s.holotc_deficient_below_pmol_l, s.holotc_indeterminate_max_pmol_l
            ),
            canonical,
            comparator,
        )
    if analyte is Analyte.MMA:
        high_above = s.mma_raised_above_umol_l
    elif analyte is Analyte.HOMOCYSTEINE:
        high_above = s.homocysteine_raised_above_umol_l
    elif analyte is Analyte.FOLATE_SERUM:
        low_below = s.folate_serum_low_below_ng_ml
    elif analyte is Analyte.FOLATE_RBC:
        low_below = s.folate_rbc_low_below_nmol_l
    elif analyte is Analyte.POTASSIUM:
        low_below = s.potassium_low_below_mmol_l
    elif analyte is Analyte.HAEMOGLOBIN:
        if age is not None and age < s.age_min_adult:
            return None  # no default under 16: lab flag or range only (§5)
        if patient.pregnant:
            low_below = s.hb_low_pregnant_g_dl
        elif patient.sex == "male":
            low_below = s.hb_low_male_g_dl
        else:
            low_below = s.hb_low_female_g_dl
    elif analyte is Analyte.MCV:
        high_above = s.mcv_high_above_fl
    elif analyte is Analyte.HAEMATOCRIT:
        low_below = s.hct_response_below_pct
    elif analyte is Analyte.EGFR:
        low_below = s.egfr_renal_flag_below
    else:
        return None

    return _censored(partial(_against, low=low_below, high=high_above), canonical, comparator)


def _against(value: float, low: float | None, high: float | None) -> Klass:
    """Return low below `low`, high above `high`, else normal (limits themselves are normal)."""
    if low is not None and value < low:
        return Klass.LOW
    if high is not None and value > high:
        return Klass.HIGH
    return Klass.NORMAL


def _three_band(value: float, deficient_below: float, indeterminate_max: float) -> Klass:
    if value < deficient_below:
        return Klass.LOW
    if value <= indeterminate_max:
        return Klass.INDETERMINATE
    return Klass.NORMAL


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
    if basis is Basis.LAB_FLAG:
        text = "lab flag " + ", ".join(sorted(flags))
    elif basis is Basis.LAB_RANGE:
        limits = "–".join(fmt_number(x) for x in (lab_low, lab_high) if x is not None)
        text = f"lab range {limits} {unit}" if limits else "lab reference range"
    elif basis is Basis.DEFAULT_BAND:
        return "default band " + _band_words(analyte, klass, patient, settings, unit)
    else:
        return ""
    if analyte in _FIRST_LINE and klass is Klass.INDETERMINATE and not flags & _FLAG_INDETERMINATE:
        upper = (
            settings.b12_indeterminate_max_pg_ml
            if analyte is Analyte.B12
            else settings.holotc_indeterminate_max_pmol_l
        )
        text += f"; not low, but at or below {fmt_number(upper)} {unit} (NICE NG239 grey zone)"
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
