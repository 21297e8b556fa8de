"""The words of what decided a result's class, in the unit the lab sent (clinical-rules §11.3).

`cards.labs` reads results; this module writes the flag, the lab's range as sent, or the default
band converted to the value's own unit ("< 180 pg/mL" for a B12 in pg/mL, never "180 ng/L"),
and the number and unit forms every evidence line uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from cards import units
from cards.classification import _FIRST_LINE
from cards.classification import _FLAG_INDETERMINATE
from cards.classification import Basis
from cards.classification import Klass
from cards.classification import Patient
from cards.classification import _flags
from cards.classification import _range_as_sent
from cards.settings import Settings
from cards.units import Analyte
from cards.wording import render


_PARTS = "common.evidence_parts."


_DISPLAY_UNITS = {"umol/L": "µmol/L", "mL/min/{1.73_m2}": "mL/min/1.73 m²", "ug/L": "µg/L"}


_SAME_NUMBER = ({"pg/mL", "ng/L"}, {"ng/mL", "ug/L"})  # different words, same number


def _same_number(a: str | None, b: str) -> bool:
    return any({a, b} <= pair for pair in _SAME_NUMBER)


def display_unit(unit: str, settings: Settings | None = None) -> str:
    """Return a unit as clinicians read it: µmol/L for umol/L; ng/L for pg/mL in uk (§8)."""
    if unit == "pg/mL" and settings is not None and settings.profile.value == "uk":
        return "ng/L"  # numerically equal
    return _DISPLAY_UNITS.get(unit, unit)


def fmt_number(value: float) -> str:
    """Return a number without float noise: 0.55, 142, 129."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    text = f"{value:.3g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")  # 2.50 -> 2.5, never 40 -> 4
    return text


def _basis_text(
    obs: Any,
    analyte: Analyte,
    klass: Klass,
    basis: Basis | None,
    unit: str | None,
    value: float | None,
    comparator: str | None,
    canonical: float | None,
    patient: Patient,
    when: date,
    settings: Settings,
) -> str:
    """Return what decided the class, in words a card can show, in the unit the lab sent.

    clinical-rules §11.3: the band that decided is shown in the value's own unit (a B12 in
    pg/mL gets "< 180 pg/mL", never "180 ng/L"); a lab range is shown as the lab sent it.
    """
    shown = units.normalise_unit(unit)
    if shown is None or units.from_canonical(analyte, 1.0, shown) is None:
        shown = units.CANONICAL_UNIT.get(analyte, "")
        label = display_unit(shown, settings)
    else:
        label = display_unit(shown)

    def in_unit(x: float) -> str:
        converted = units.from_canonical(analyte, x, shown)
        return fmt_number(converted if converted is not None else x)

    words = settings.profile
    flags = _flags(obs)
    if basis is Basis.LAB_FLAG:
        text = render(words, _PARTS + "basis.lab_flag", flags=", ".join(sorted(flags)))
    elif basis is Basis.LAB_RANGE:
        sent = _range_as_sent(obs, analyte, value, comparator, unit, canonical, patient, when)
        limits = ""
        if sent is not None:
            low, high, range_unit = sent
            limits = "–".join(fmt_number(x) for x in (low, high) if x is not None)
        text = (
            render(
                words,
                _PARTS + "basis.lab_range",
                limits=limits,
                unit=display_unit(range_unit) if range_unit else "",
            )
            if sent is not None and limits
            else render(words, _PARTS + "basis.lab_reference_range")
        )
    elif basis is Basis.DEFAULT_BAND:
        band = _band_words(analyte, klass, patient, settings, label, in_unit)
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
            words, _PARTS + "basis.grey_zone", basis=text, upper=in_unit(upper), unit=label
        )
    return text


def _band_words(
    analyte: Analyte,
    klass: Klass,
    patient: Patient,
    settings: Settings,
    unit: str,
    in_unit: Callable[[float], str],
) -> str:
    """Return the default band that applied in the value's unit, e.g. '< 180 pg/mL' (§11.3)."""
    s = settings
    bands = {
        Analyte.B12: (s.b12_deficient_below_pg_ml, s.b12_indeterminate_max_pg_ml),
        Analyte.HOLOTC: (s.holotc_deficient_below_pmol_l, s.holotc_indeterminate_max_pmol_l),
    }
    if analyte in bands:
        low, upper = bands[analyte]
        return {
            Klass.LOW: f"< {in_unit(low)} {unit}",
            Klass.INDETERMINATE: f"{in_unit(low)}–{in_unit(upper)} {unit}",
        }.get(klass, f"> {in_unit(upper)} {unit}")
    high = {
        Analyte.MMA: s.mma_raised_above_umol_l,
        Analyte.HOMOCYSTEINE: s.homocysteine_raised_above_umol_l,
        Analyte.MCV: s.mcv_high_above_fl,
    }.get(analyte)
    if high is not None:
        sign = ">" if klass is Klass.HIGH else "≤"
        return f"{sign} {in_unit(high)} {unit}"
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
    return f"{sign} {in_unit(low_limit)} {unit}"
