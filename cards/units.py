"""Laboratory units: aliases, conversion to one canonical unit per analyte, plausibility.

Follows clinical-rules §3. A unit string is first looked up in an explicit alias table
(case-insensitive, on the listed spellings only), then `mcg` is rewritten to `ug`, and what is
left must equal a UCUM code in the analyte's table exactly (UCUM is case-sensitive). Anything
else is an unknown unit: `to_canonical` answers None and the caller falls back to the lab's
interpretation or to a reference range in the same unit string (§3 "Unknown or missing unit").

Source tags are those of clinical-rules §10.1: S-LOINC2 (miracum/loinc-conversion factors),
S-MAYO-MMA, S-UHN, UCUM-HL7, S-K, S-HOLO; "arithmetic" marks a factor that follows from the
units alone (powers of ten, a molecular weight).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType


UCUM_SYSTEM = "http://unitsofmeasure.org"


class Analyte(StrEnum):
    """A laboratory quantity the rules read, one per value set of clinical-rules §2.2."""

    B12 = "b12"
    HOLOTC = "holotc"
    MMA = "mma"
    HOMOCYSTEINE = "homocysteine"
    FOLATE_SERUM = "folate-serum"
    FOLATE_RBC = "folate-rbc"
    FOLATE_BLOOD = "folate-blood"
    POTASSIUM = "potassium"
    HAEMOGLOBIN = "haemoglobin"
    HAEMATOCRIT = "haematocrit"
    MCV = "mcv"
    RETICULOCYTES_PCT = "reticulocytes-pct"
    RETICULOCYTES_ABS = "reticulocytes-abs"
    EGFR = "egfr"
    MMA_URINE = "mma-urine"
    INTRINSIC_FACTOR_AB = "intrinsic-factor-ab"


EGFR_UNIT = "mL/min/{1.73_m2}"

# Canonical unit per analyte (§3). Whole-blood folate, urine MMA and intrinsic factor antibodies
# have no default band and no canonical unit: only the lab's flag or same-unit range reads them.
CANONICAL_UNIT: Mapping[Analyte, str] = MappingProxyType(
    {
        Analyte.B12: "pg/mL",
        Analyte.HOLOTC: "pmol/L",
        Analyte.MMA: "umol/L",
        Analyte.HOMOCYSTEINE: "umol/L",
        Analyte.FOLATE_SERUM: "ng/mL",
        Analyte.FOLATE_RBC: "nmol/L",
        Analyte.POTASSIUM: "mmol/L",
        Analyte.HAEMOGLOBIN: "g/dL",
        Analyte.HAEMATOCRIT: "%",
        Analyte.MCV: "fL",
        Analyte.RETICULOCYTES_PCT: "%",
        Analyte.RETICULOCYTES_ABS: "10*9/L",
        Analyte.EGFR: EGFR_UNIT,
    }
)

# Factor that turns a value in the given UCUM unit into the canonical unit (§3), per analyte.
CONVERSION_FACTOR: Mapping[Analyte, Mapping[str, float]] = MappingProxyType(
    {
        Analyte.B12: MappingProxyType(
            {
                "pg/mL": 1.0,
                "ng/L": 1.0,  # arithmetic: 1 ng/L = 1 pg/mL
                "pmol/L": 1.3554,  # S-LOINC2 (MW 1355.4, S-FDA-CN); pmol/L = pg/mL x 0.738
                "ng/mL": 1000.0,  # arithmetic
            }
        ),
        Analyte.HOLOTC: MappingProxyType({"pmol/L": 1.0}),  # S-HOLO
        Analyte.MMA: MappingProxyType(
            {
                "umol/L": 1.0,
                "nmol/mL": 1.0,  # S-MAYO-MMA: Mayo reports nmol/mL, numerically µmol/L
                "nmol/L": 0.001,  # S-UHN, UCUM-HL7: 400 nmol/L = 0.40 µmol/L
            }
        ),
        Analyte.HOMOCYSTEINE: MappingProxyType(
            {
                "umol/L": 1.0,
                "nmol/mL": 1.0,  # S-LOINC2
                "mg/L": 7.40,  # S-LOINC2: mg/L = µmol/L x 0.135
            }
        ),
        Analyte.FOLATE_SERUM: MappingProxyType(
            {
                "ng/mL": 1.0,
                "ug/L": 1.0,  # S-LOINC2
                "nmol/L": 0.4413,  # S-LOINC2
            }
        ),
        Analyte.FOLATE_RBC: MappingProxyType(
            {
                "nmol/L": 1.0,
                "ng/mL": 2.266,  # S-LOINC2
            }
        ),
        Analyte.POTASSIUM: MappingProxyType(
            {
                "mmol/L": 1.0,
                "meq/L": 1.0,  # S-K: potassium is monovalent
                "mg/dL": 0.2558,  # arithmetic: MW 39.10, 10 / 39.10
            }
        ),
        Analyte.HAEMOGLOBIN: MappingProxyType(
            {
                "g/dL": 1.0,
                "g/L": 0.1,  # S-LOINC2
                "mmol/L": 1.61,  # S-LOINC2
            }
        ),
        Analyte.HAEMATOCRIT: MappingProxyType(
            {
                "%": 1.0,
                "L/L": 100.0,  # arithmetic: volume fraction
                "1": 100.0,  # arithmetic: UCUM unity, a fraction
            }
        ),
        Analyte.MCV: MappingProxyType(
            {
                "fL": 1.0,
                "um3": 1.0,  # arithmetic: 1 µm³ = 1 fL
            }
        ),
        # §3: percentage and absolute count are separate tests; no conversion between the two.
        Analyte.RETICULOCYTES_PCT: MappingProxyType({"%": 1.0}),
        Analyte.RETICULOCYTES_ABS: MappingProxyType({"10*9/L": 1.0}),
        Analyte.EGFR: MappingProxyType({EGFR_UNIT: 1.0}),  # as given
    }
)

# §3 alias table, keyed by the lower-cased spelling; matched case-insensitively on these only.
# The eGFR rows are common spellings of the UCUM annotation (clinical-rules §3 "as given").
UNIT_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "pg/ml": "pg/mL",
        "ng/l": "ng/L",
        "pmol/l": "pmol/L",
        "µmol/l": "umol/L",  # U+00B5 micro sign
        "μmol/l": "umol/L",  # U+03BC Greek mu
        "umol/l": "umol/L",
        "mcmol/l": "umol/L",
        "micromol/l": "umol/L",
        "nmol/ml": "nmol/mL",
        "nmol/l": "nmol/L",
        "ng/ml": "ng/mL",
        "mcg/l": "ug/L",
        "meq/l": "meq/L",
        "mmol/l": "mmol/L",
        "g/dl": "g/dL",
        "g/l": "g/L",
        "fl": "fL",
        "ml/min/{1.73_m2}": EGFR_UNIT,
        "ml/min/1.73_m2": EGFR_UNIT,
        "ml/min/{1.73m2}": EGFR_UNIT,
        "ml/min/1.73m2": EGFR_UNIT,
        "ml/min/1.73 m2": EGFR_UNIT,
        "ml/min/1.73m^2": EGFR_UNIT,
        "ml/min/1.73 m^2": EGFR_UNIT,
        "ml/min/1.73m²": EGFR_UNIT,
        "ml/min/1.73 m²": EGFR_UNIT,
    }
)

# Plausibility guard (§3): engineering defaults [U], overridable as `plausible.*` settings.
# Inclusive bounds in the canonical unit. Analytes without a row are not guarded.
PLAUSIBLE_RANGE: Mapping[Analyte, tuple[float, float]] = MappingProxyType(
    {
        Analyte.B12: (10.0, 100_000.0),  # pg/mL
        Analyte.HOLOTC: (1.0, 1000.0),  # pmol/L
        Analyte.MMA: (0.02, 100.0),  # umol/L
        Analyte.HOMOCYSTEINE: (1.0, 500.0),  # umol/L
        Analyte.FOLATE_SERUM: (0.1, 100.0),  # ng/mL
        Analyte.FOLATE_RBC: (20.0, 5000.0),  # nmol/L
        Analyte.POTASSIUM: (1.0, 10.0),  # mmol/L
        Analyte.HAEMOGLOBIN: (2.0, 25.0),  # g/dL
        Analyte.HAEMATOCRIT: (5.0, 80.0),  # %
        Analyte.MCV: (40.0, 160.0),  # fL
    }
)

_KNOWN_UNITS = frozenset(unit for table in CONVERSION_FACTOR.values() for unit in table)


def normalise_unit(unit: str | None) -> str | None:
    """Return the UCUM spelling of a unit string, or None when it is missing or blank.

    Args:
        unit: a unit as sent (`valueQuantity.code` or `.unit`).

    An alias (§3) is replaced by its UCUM code; otherwise `mcg` becomes `ug` and the rest is
    returned unchanged, to be matched case-sensitively. The answer may still be unknown.
    """
    if unit is None:
        return None
    text = unit.strip()
    if not text:
        return None
    alias = UNIT_ALIASES.get(text.lower())
    if alias is not None:
        return alias
    return text.replace("mcg", "ug")


def is_known_unit(unit: str | None) -> bool:
    """Return True when the unit, after aliasing, appears in any analyte's conversion table."""
    return normalise_unit(unit) in _KNOWN_UNITS


def unit_of(quantity_code: str | None, quantity_unit: str | None, system: str | None) -> str | None:
    """Return the unit string to read a FHIR Quantity by, as sent (stripped), or None.

    Args:
        quantity_code: `Quantity.code`, a UCUM code when `system` is UCUM.
        quantity_unit: `Quantity.unit`, free text.
        system: `Quantity.system`.

    The UCUM code is preferred when the system is UCUM; otherwise the free text comes first (a
    code from another system is local). The first candidate this module recognises wins, else
    the first non-blank one.
    """
    if system == UCUM_SYSTEM:
        candidates = (quantity_code, quantity_unit)
    else:
        candidates = (quantity_unit, quantity_code)
    present = [c.strip() for c in candidates if c is not None and c.strip()]
    for candidate in present:
        if is_known_unit(candidate):
            return candidate
    return present[0] if present else None


def to_canonical(analyte: Analyte, value: float | Decimal | int, unit: str | None) -> float | None:
    """Return the value in the analyte's canonical unit, or None when it cannot be converted.

    Args:
        analyte: what was measured.
        value: the number as sent (fhir.resources gives Decimal).
        unit: the unit string (see `unit_of`); aliases are resolved here.

    None means the unit is missing, unknown, or not one §3 lists for this analyte (e.g. B12 in
    "mIU/L"), or the value is not a finite number.
    """
    factor = CONVERSION_FACTOR.get(analyte, {}).get(normalise_unit(unit) or "")
    if factor is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return number * factor


def plausible(
    analyte: Analyte,
    canonical_value: float,
    ranges: Mapping[Analyte, tuple[float, float]] = PLAUSIBLE_RANGE,
) -> bool:
    """Return False when a canonical value lies outside the analyte's plausible range.

    Args:
        analyte: what was measured.
        canonical_value: the value already in `CANONICAL_UNIT[analyte]`.
        ranges: inclusive (low, high) bounds; defaults to `PLAUSIBLE_RANGE` (§3, [U]).

    Analytes without a range are always plausible; a non-finite value never is.
    """
    if not math.isfinite(canonical_value):
        return False
    bounds = ranges.get(analyte)
    if bounds is None:
        return True
    low, high = bounds
    return low <= canonical_value <= high


def same_unit(a: str | None, b: str | None) -> bool:
    """Return True when two unit strings name the same unit, or both are missing.

    Used by §3 "unknown unit", step 2: a reference range is comparable with a value in an
    unconvertible unit only when both carry the same unit string. Aliases and surrounding
    blanks are resolved first ("umol/l" equals "umol/L"); otherwise the match is exact.
    """
    return normalise_unit(a) == normalise_unit(b)


def from_canonical(analyte: Analyte, canonical_value: float, unit: str | None) -> float | None:
    """Return a canonical value expressed in `unit`, or None when `unit` cannot be converted.

    The inverse of `to_canonical`, for showing a band or limit in the unit the lab sent
    (clinical-rules §11.3: "a B12 in pg/mL gets 'below the default 180 pg/mL'").
    """
    factor = CONVERSION_FACTOR.get(analyte, {}).get(normalise_unit(unit) or "")
    if not factor or not math.isfinite(canonical_value):
        return None
    return canonical_value / factor
