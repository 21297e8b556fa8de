"""Units of clinical-rules §3: every conversion row, the two traps, aliases, plausibility."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cards.units import CANONICAL_UNIT
from cards.units import CONVERSION_FACTOR
from cards.units import PLAUSIBLE_RANGE
from cards.units import UCUM_SYSTEM
from cards.units import Analyte
from cards.units import normalise_unit
from cards.units import plausible
from cards.units import same_unit
from cards.units import to_canonical
from cards.units import unit_of


A = Analyte

# (analyte, value, unit as sent, expected canonical value): one row per §3 "accepted" entry.
CONVERSIONS = [
    pytest.param(A.B12, 250, "pg/mL", 250.0, id="b12-pg/mL"),
    pytest.param(A.B12, 250, "ng/L", 250.0, id="b12-ng/L"),
    pytest.param(A.B12, 100, "pmol/L", 135.54, id="b12-pmol/L"),
    pytest.param(A.B12, Decimal("0.25"), "ng/mL", 250.0, id="b12-ng/mL"),
    pytest.param(A.HOLOTC, 40, "pmol/L", 40.0, id="holotc-pmol/L"),
    pytest.param(A.MMA, Decimal("0.40"), "umol/L", 0.40, id="mma-umol/L"),
    pytest.param(A.MMA, Decimal("0.40"), "nmol/mL", 0.40, id="mma-nmol/mL"),
    pytest.param(A.MMA, 400, "nmol/L", 0.40, id="mma-nmol/L"),
    pytest.param(A.HOMOCYSTEINE, 12, "umol/L", 12.0, id="homocysteine-umol/L"),
    pytest.param(A.HOMOCYSTEINE, 12, "nmol/mL", 12.0, id="homocysteine-nmol/mL"),
    pytest.param(A.HOMOCYSTEINE, 2, "mg/L", 14.8, id="homocysteine-mg/L"),
    pytest.param(A.FOLATE_SERUM, 5, "ng/mL", 5.0, id="folate-serum-ng/mL"),
    pytest.param(A.FOLATE_SERUM, 5, "ug/L", 5.0, id="folate-serum-ug/L"),
    pytest.param(A.FOLATE_SERUM, 10, "nmol/L", 4.413, id="folate-serum-nmol/L"),
    pytest.param(A.FOLATE_RBC, 400, "nmol/L", 400.0, id="folate-rbc-nmol/L"),
    pytest.param(A.FOLATE_RBC, 150, "ng/mL", 339.9, id="folate-rbc-ng/mL"),
    pytest.param(A.POTASSIUM, Decimal("3.4"), "mmol/L", 3.4, id="potassium-mmol/L"),
    pytest.param(A.POTASSIUM, Decimal("3.4"), "meq/L", 3.4, id="potassium-meq/L"),
    pytest.param(A.POTASSIUM, 14, "mg/dL", 3.5812, id="potassium-mg/dL"),
    pytest.param(A.HAEMOGLOBIN, Decimal("12.5"), "g/dL", 12.5, id="haemoglobin-g/dL"),
    pytest.param(A.HAEMOGLOBIN, 125, "g/L", 12.5, id="haemoglobin-g/L"),
    pytest.param(A.HAEMOGLOBIN, 8, "mmol/L", 12.88, id="haemoglobin-mmol/L"),
    pytest.param(A.HAEMATOCRIT, 42, "%", 42.0, id="haematocrit-%"),
    pytest.param(A.HAEMATOCRIT, Decimal("0.42"), "L/L", 42.0, id="haematocrit-L/L"),
    pytest.param(A.HAEMATOCRIT, Decimal("0.42"), "1", 42.0, id="haematocrit-unity"),
    pytest.param(A.MCV, 104, "fL", 104.0, id="mcv-fL"),
    pytest.param(A.MCV, 104, "um3", 104.0, id="mcv-um3"),
    pytest.param(A.RETICULOCYTES_PCT, Decimal("1.5"), "%", 1.5, id="retics-%"),
    pytest.param(A.RETICULOCYTES_ABS, 60, "10*9/L", 60.0, id="retics-10*9/L"),
    pytest.param(A.EGFR, 55, "mL/min/{1.73_m2}", 55.0, id="egfr-ucum"),
    pytest.param(A.EGFR, 55, "mL/min/1.73m2", 55.0, id="egfr-mL/min/1.73m2"),
    pytest.param(A.EGFR, 55, "mL/min/1.73 m2", 55.0, id="egfr-mL/min/1.73 m2"),
    pytest.param(A.EGFR, 55, "ml/min/1.73m^2", 55.0, id="egfr-ml/min/1.73m^2"),
]

# §3 "the two traps the tests must cover".
TRAPS = [
    pytest.param(A.MMA, Decimal("0.55"), "nmol/mL", 0.55, id="mma-nmol/mL-is-umol/L"),
    pytest.param(A.B12, 120, "pmol/L", 163.0, id="b12-120-pmol/L-deficient"),
    pytest.param(A.B12, 300, "pmol/L", 407.0, id="b12-300-pmol/L-normal"),
]

# (analyte, value, alias as sent, expected canonical value).
ALIASES = [
    pytest.param(A.MMA, Decimal("0.3"), "µmol/L", 0.3, id="micro-sign"),
    pytest.param(A.MMA, Decimal("0.3"), "μmol/L", 0.3, id="greek-mu"),
    pytest.param(A.MMA, Decimal("0.3"), "umol/l", 0.3, id="umol/l"),
    pytest.param(A.MMA, Decimal("0.3"), "mcmol/L", 0.3, id="mcmol/L"),
    pytest.param(A.MMA, Decimal("0.3"), "micromol/L", 0.3, id="micromol/L"),
    pytest.param(A.MMA, Decimal("0.3"), "nmol/ml", 0.3, id="nmol/ml"),
    pytest.param(A.MMA, 300, "nmol/l", 0.3, id="nmol/l"),
    pytest.param(A.B12, 200, "PG/ML", 200.0, id="PG/ML"),
    pytest.param(A.B12, 200, "pg/ml", 200.0, id="pg/ml"),
    pytest.param(A.B12, 200, "ng/l", 200.0, id="ng/l"),
    pytest.param(A.B12, 100, "pmol/l", 135.54, id="pmol/l"),
    pytest.param(A.FOLATE_SERUM, 5, "ng/ml", 5.0, id="ng/ml"),
    pytest.param(A.FOLATE_SERUM, 5, "mcg/L", 5.0, id="mcg/L"),
    pytest.param(A.FOLATE_SERUM, 5, "MCG/L", 5.0, id="MCG/L"),
    pytest.param(A.POTASSIUM, Decimal("3.1"), "mEq/L", 3.1, id="mEq/L"),
    pytest.param(A.POTASSIUM, Decimal("3.1"), "meq/l", 3.1, id="meq/l"),
    pytest.param(A.POTASSIUM, Decimal("3.1"), "mmol/l", 3.1, id="mmol/l"),
    pytest.param(A.HAEMOGLOBIN, 11, "g/dl", 11.0, id="g/dl"),
    pytest.param(A.HAEMOGLOBIN, 11, "G/DL", 11.0, id="G/DL-case-insensitive"),
    pytest.param(A.HAEMOGLOBIN, 110, "g/l", 11.0, id="g/l"),
    pytest.param(A.MCV, 99, "fl", 99.0, id="fl"),
    pytest.param(A.MCV, 99, "FL", 99.0, id="FL"),
    pytest.param(A.MMA, Decimal("0.3"), " umol/L ", 0.3, id="surrounding-blanks"),
]

# Units that must not convert: unknown, wrong analyte, or not an alias (UCUM is case-sensitive).
UNCONVERTIBLE = [
    pytest.param(A.B12, "mIU/L", id="b12-mIU/L"),
    pytest.param(A.B12, "U/L", id="b12-U/L"),
    pytest.param(A.B12, "umol/L", id="b12-molar-unit-of-another-analyte"),
    pytest.param(A.B12, None, id="b12-no-unit"),
    pytest.param(A.B12, "", id="b12-empty-unit"),
    pytest.param(A.B12, "   ", id="b12-blank-unit"),
    pytest.param(A.HAEMOGLOBIN, "g/100mL", id="hb-g/100mL-not-an-alias"),
    pytest.param(A.HAEMOGLOBIN, "GM/DL", id="hb-GM/DL-not-an-alias"),
    pytest.param(A.RETICULOCYTES_PCT, "10*9/L", id="retics-pct-given-absolute"),
    pytest.param(A.RETICULOCYTES_ABS, "%", id="retics-abs-given-pct"),
    pytest.param(A.HOLOTC, "pg/mL", id="holotc-mass-unit"),
    pytest.param(A.FOLATE_BLOOD, "ng/mL", id="folate-blood-no-canonical"),
    pytest.param(A.MMA_URINE, "mmol/mol{creat}", id="mma-urine-no-canonical"),
    pytest.param(A.INTRINSIC_FACTOR_AB, "U/mL", id="if-ab-no-canonical"),
]

# (analyte, canonical value, expected plausibility): both ends of each §3 range, and outside.
PLAUSIBILITY = [
    pytest.param(A.B12, 10.0, True, id="b12-low-edge"),
    pytest.param(A.B12, 100_000.0, True, id="b12-high-edge"),
    pytest.param(A.B12, 9.9, False, id="b12-too-low"),
    pytest.param(A.B12, 100_001.0, False, id="b12-too-high"),
    pytest.param(A.HOLOTC, 0.5, False, id="holotc-too-low"),
    pytest.param(A.HOLOTC, 1000.0, True, id="holotc-high-edge"),
    pytest.param(A.MMA, 0.02, True, id="mma-low-edge"),
    pytest.param(A.MMA, 0.019, False, id="mma-too-low"),
    pytest.param(A.MMA, 101.0, False, id="mma-too-high"),
    pytest.param(A.HOMOCYSTEINE, 500.0, True, id="homocysteine-high-edge"),
    pytest.param(A.HOMOCYSTEINE, 0.9, False, id="homocysteine-too-low"),
    pytest.param(A.FOLATE_SERUM, 0.1, True, id="folate-serum-low-edge"),
    pytest.param(A.FOLATE_SERUM, 150.0, False, id="folate-serum-too-high"),
    pytest.param(A.FOLATE_RBC, 19.0, False, id="folate-rbc-too-low"),
    pytest.param(A.FOLATE_RBC, 5000.0, True, id="folate-rbc-high-edge"),
    pytest.param(A.POTASSIUM, 1.0, True, id="potassium-low-edge"),
    pytest.param(A.POTASSIUM, 10.5, False, id="potassium-too-high"),
    pytest.param(A.HAEMOGLOBIN, 125.0, False, id="hb-g/L-read-as-g/dL"),
    pytest.param(A.HAEMOGLOBIN, 2.0, True, id="hb-low-edge"),
    pytest.param(A.HAEMATOCRIT, 0.42, False, id="hct-fraction-read-as-percent"),
    pytest.param(A.HAEMATOCRIT, 80.0, True, id="hct-high-edge"),
    pytest.param(A.MCV, 39.0, False, id="mcv-too-low"),
    pytest.param(A.MCV, 160.0, True, id="mcv-high-edge"),
    pytest.param(A.EGFR, 250.0, True, id="egfr-unguarded"),
    pytest.param(A.RETICULOCYTES_PCT, 30.0, True, id="retics-unguarded"),
    pytest.param(A.B12, float("nan"), False, id="nan-never-plausible"),
]

# (code, unit, system, expected choice).
UNIT_CHOICE = [
    pytest.param("umol/L", "µmol/L", UCUM_SYSTEM, "umol/L", id="ucum-code-preferred"),
    pytest.param(None, "µmol/L", UCUM_SYSTEM, "µmol/L", id="ucum-without-code-uses-text"),
    pytest.param("{ratio}", "pg/mL", UCUM_SYSTEM, "pg/mL", id="unknown-ucum-code-known-text"),
    pytest.param("{ratio}", "ratio", UCUM_SYSTEM, "{ratio}", id="nothing-known-ucum-code"),
    pytest.param("PGML", "pg/mL", "urn:oid:1.2.3", "pg/mL", id="local-system-text-first"),
    pytest.param("PGML", "picograms", "urn:oid:1.2.3", "picograms", id="local-nothing-known"),
    pytest.param("pg/mL", None, None, "pg/mL", id="code-without-system"),
    pytest.param(" ", " ", UCUM_SYSTEM, None, id="blank-both"),
    pytest.param(None, None, None, None, id="missing-both"),
]


@pytest.mark.parametrize(("analyte", "value", "unit", "expected"), CONVERSIONS)
def test_each_accepted_unit_converts_to_canonical(analyte, value, unit, expected):
    """Each §3 accepted unit converts to the canonical unit by its factor."""
    assert pytest.approx(expected, rel=1e-4) == to_canonical(analyte, value, unit)


@pytest.mark.parametrize(("analyte", "value", "unit", "expected"), TRAPS)
def test_unit_traps_give_clinically_right_value(analyte, value, unit, expected):
    """MMA nmol/mL reads as µmol/L and B12 pmol/L is multiplied by 1.3554."""
    assert pytest.approx(expected, abs=0.5) == to_canonical(analyte, value, unit)


def test_mma_nmol_per_ml_trap_stays_plausible_and_raised():
    """MMA 0.55 nmol/mL is a plausible raised value, not 0.00055 µmol/L."""
    value = to_canonical(A.MMA, Decimal("0.55"), "nmol/mL")
    assert value is not None
    assert plausible(A.MMA, value)
    assert value > 0.40


@pytest.mark.parametrize(("analyte", "value", "unit", "expected"), ALIASES)
def test_aliases_convert_like_their_ucum_code(analyte, value, unit, expected):
    """A listed alias spelling converts as its UCUM code does."""
    assert pytest.approx(expected, rel=1e-4) == to_canonical(analyte, value, unit)


@pytest.mark.parametrize(("analyte", "unit"), UNCONVERTIBLE)
def test_unconvertible_unit_gives_none(analyte, unit):
    """An unknown, missing or foreign unit gives no canonical value."""
    assert None is to_canonical(analyte, 150, unit)


def test_non_finite_value_gives_none():
    """An infinite value is not converted."""
    assert None is to_canonical(A.B12, float("inf"), "pg/mL")


@pytest.mark.parametrize(("analyte", "value", "expected"), PLAUSIBILITY)
def test_plausibility_guard(analyte, value, expected):
    """A canonical value outside the §3 plausible range is rejected."""
    assert expected is plausible(analyte, value)


def test_mma_in_nmol_per_l_fails_plausibility():
    """MMA 0.35 nmol/L (0.00035 µmol/L) fails the guard: it was almost certainly µmol/L."""
    value = to_canonical(A.MMA, Decimal("0.35"), "nmol/L")
    assert pytest.approx(0.00035) == value
    assert False is plausible(A.MMA, value)


def test_plausibility_ranges_can_be_overridden():
    """A site's `plausible.*` setting replaces the default range."""
    assert True is plausible(A.B12, 5.0, ranges={A.B12: (1.0, 10.0)})


@pytest.mark.parametrize(("code", "unit", "system", "expected"), UNIT_CHOICE)
def test_unit_of_chooses_best_quantity_field(code, unit, system, expected):
    """The UCUM code is preferred, then a recognised spelling, then any text."""
    assert expected == unit_of(code, unit, system)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param("U/L", "U/L", True, id="identical"),
        pytest.param("U/L", " U/L", True, id="blanks-ignored"),
        pytest.param("umol/l", "µmol/L", True, id="aliases-resolved"),
        pytest.param(None, None, True, id="both-missing"),
        pytest.param(None, "", True, id="missing-and-empty"),
        pytest.param("U/L", None, False, id="one-missing"),
        pytest.param("U/L", "u/l", False, id="case-matters-outside-aliases"),
        pytest.param("mIU/L", "IU/L", False, id="different"),
    ],
)
def test_same_unit(a, b, expected):
    """Two unit strings match when equal after aliasing, or when both are missing."""
    assert expected is same_unit(a, b)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        pytest.param("mcg/dL", "ug/dL", id="mcg-inside-unit"),
        pytest.param("PG/ML", "pg/mL", id="alias"),
        pytest.param("mg/L", "mg/L", id="ucum-unchanged"),
        pytest.param("", None, id="empty"),
    ],
)
def test_normalise_unit(unit, expected):
    """Aliases map to UCUM, mcg becomes ug, other text is kept as is."""
    assert expected == normalise_unit(unit)


def test_every_canonical_unit_converts_with_factor_one():
    """Each analyte's canonical unit is in its own table with factor 1."""
    for analyte, unit in CANONICAL_UNIT.items():
        assert 1.0 == CONVERSION_FACTOR[analyte][unit]


def test_every_plausible_range_is_ordered_and_has_a_canonical_unit():
    """Each plausibility range is low < high for an analyte with a canonical unit."""
    for analyte, (low, high) in PLAUSIBLE_RANGE.items():
        assert analyte in CANONICAL_UNIT
        assert low < high


def test_tables_are_read_only():
    """The unit tables cannot be changed by a rule."""
    with pytest.raises(TypeError):
        CANONICAL_UNIT[A.B12] = "ng/L"  # type: ignore[index]  # proving it is read-only
