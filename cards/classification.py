"""Classifying one laboratory result: the precedence of clinical-rules §4.2.

The lab's interpretation flag first, then its reference range, then the configured default bands
of §5 (with the first-line refinement of §4.2); `cards.labs` reads results and calls `classify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import partial
from typing import Any

from cards import units
from cards.resources import codings
from cards.resources import texts
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


def _unusable(settings: Settings, reason: str, **values: Any) -> str:
    """Return why a result could not be used, in the site's wording (common.evidence_parts)."""
    return render(settings.profile, f"common.evidence_parts.unusable.{reason}", **values)


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
    implausible = False
    if value is not None and canonical is None:
        note = (
            _unusable(settings, "unit_unknown", unit=unit)
            if unit
            else _unusable(settings, "no_unit")
        )
    elif (
        canonical is not None
        and settings.plausibility_guard
        and not units.plausible(analyte, canonical)
    ):
        note = _unusable(settings, "implausible")
        implausible = True
        canonical = None
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
        return (
            Klass.UNUSABLE,
            None,
            critical,
            canonical,
            note or _unusable(settings, "unclassified"),
        )
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


def _range_as_sent(
    obs: Any,
    analyte: Analyte,
    value: float | None,
    comparator: str | None,
    unit: str | None,
    canonical: float | None,
    patient: Patient,
    when: date,
) -> tuple[float | None, float | None, str | None] | None:
    """Return the reference range that decided (§4.2 step 2) as the lab sent it (§11.3).

    The same entry `_range_class` uses: its low and high as sent, and their unit as sent (the
    value's unit when the range names none).
    """
    if value is None:
        return None
    use_canonical = canonical is not None
    for entry in _applicable_ranges(obs, patient, patient.age_on(when)):
        low = _limit(entry.low, analyte, unit, use_canonical)
        high = _limit(entry.high, analyte, unit, use_canonical)
        if (low if analyte in _LOW_SIDE else high) is None:
            continue
        sent = [
            (float(Decimal(q.value)), units.unit_of(q.code, q.unit, q.system))
            if q is not None and q.value is not None
            else (None, None)
            for q in (entry.low, entry.high)
        ]
        range_unit = sent[0][1] or sent[1][1] or unit
        return sent[0][0], sent[1][0], range_unit
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
