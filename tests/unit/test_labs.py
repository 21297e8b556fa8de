"""Reading a result (clinical-rules §3 unknown units and plausibility, §4.1, §4.2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cards import labs
from cards.facts import B12Status
from cards.labs import Basis
from cards.labs import Klass
from cards.labs import LabResult
from cards.labs import fmt_number
from cards.resources import parse
from cards.settings import Settings
from cards.units import Analyte
from tests.unit.fhir import SNOMED
from tests.unit.fhir import TODAY
from tests.unit.fhir import ago
from tests.unit.fhir import facts
from tests.unit.fhir import observation
from tests.unit.fhir import patient


B12 = "2132-9"
B12_MOLAR = "14685-2"
HOLOTC = "72160-5"
MMA = "13964-2"
K = "2823-3"
HB = "718-7"
IFAB = "31444-3"
GENDER = "http://hl7.org/fhir/administrative-gender"
MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"


def _results(
    *observations: dict[str, Any],
    sex: str = "female",
    age: int | None = 60,
    settings: Settings | None = None,
) -> list[LabResult]:
    """Return the countable results of the observations for a patient of that sex and age."""
    born = TODAY.replace(year=TODAY.year - age) - timedelta(30) if age is not None else None
    models = [parse(o) for o in observations]
    return labs.read_results(models, labs.Patient(sex, born), TODAY, settings or Settings())


def _one(obs: dict[str, Any], **patient_data: Any) -> LabResult:
    """Return the single result read from one observation."""
    (result,) = _results(obs, **patient_data)
    return result


def _range(low: Any, high: Any, unit: str, **entry: Any) -> dict[str, Any]:
    """Return a referenceRange entry with low/high in `unit` and extra members."""
    found: dict[str, Any] = dict(entry)
    if low is not None:
        found["low"] = {"value": low, "unit": unit}
    if high is not None:
        found["high"] = {"value": high, "unit": unit}
    return found


# §4.2 precedence: (expected class, expected basis, observation).
PRECEDENCE = [
    pytest.param(
        Klass.LOW,
        Basis.LAB_FLAG,
        observation(B12, 200, "pg/mL", ago(14), interpretation="L", ref_range=(232, 1245)),
        id="example-10-flag-beats-band",
    ),
    pytest.param(
        Klass.LOW,
        Basis.LAB_FLAG,
        observation(B12, 400, "pg/mL", ago(14), interpretation="L"),
        id="flag-low-beats-normal-band",
    ),
    pytest.param(
        Klass.LOW,
        Basis.LAB_RANGE,
        observation(B12, 200, "pg/mL", ago(14), ref_range=(232, 1245)),
        id="range-low-beats-indeterminate-band",
    ),
    pytest.param(
        Klass.INDETERMINATE,
        Basis.LAB_RANGE,
        observation(B12, 165, "ng/L", ago(10), ref_range=(145, 900)),
        id="example-11-range-beats-band",
    ),
    pytest.param(
        Klass.LOW,
        Basis.DEFAULT_BAND,
        observation(B12, 165, "ng/L", ago(10)),
        id="band-without-flag-or-range",
    ),
    pytest.param(
        Klass.INDETERMINATE,
        Basis.LAB_FLAG,
        observation(B12, 250, "pg/mL", ago(15), interpretation="N", ref_range=(180, 914)),
        id="example-44-flag-normal-at-250",
    ),
    pytest.param(
        Klass.LOW,
        Basis.DEFAULT_BAND,
        observation(B12, 150, "pg/mL", ago(5), ref_range=(None, 900)),
        id="range-high-only-falls-through",
    ),
    pytest.param(
        Klass.NORMAL,
        Basis.LAB_FLAG,
        observation(K, 3.2, "mmol/L", ago(1), interpretation="N"),
        id="potassium-flag-beats-band",
    ),
    pytest.param(
        Klass.LOW,
        Basis.LAB_RANGE,
        observation(K, 3.6, "mmol/L", ago(1), ref_range=(3.8, 5.2)),
        id="potassium-range-beats-band",
    ),
    pytest.param(
        Klass.NORMAL,
        Basis.LAB_RANGE,
        observation(MMA, 0.45, "umol/L", ago(1), ref_range=(None, 0.5)),
        id="mma-range-beats-band",
    ),
    pytest.param(
        Klass.HIGH,
        Basis.DEFAULT_BAND,
        observation(MMA, 0.45, "umol/L", ago(1), ref_range=(0.05, None)),
        id="mma-range-low-only-falls-through",
    ),
]


@pytest.mark.parametrize(("klass", "basis", "obs"), PRECEDENCE)
def test_precedence(klass, basis, obs):
    """Classify by the lab flag, else the lab's range, else the default band (§4.2)."""
    result = _one(obs)

    assert (klass, basis) == (result.klass, result.basis)


def test_lab_reference_off_uses_bands():
    """Ignore the flag and range when use_lab_reference_first is off (testing only)."""
    obs = observation(B12, 200, "pg/mL", ago(14), interpretation="L", ref_range=(232, 1245))

    result = _one(obs, settings=Settings(use_lab_reference_first=False))

    assert (Klass.INDETERMINATE, Basis.DEFAULT_BAND) == (result.klass, result.basis)


@pytest.mark.parametrize(
    ("klass", "obs"),
    [
        pytest.param(
            Klass.LOW,
            observation(B12, 150, "pg/mL", ago(1), interpretation="A"),
            id="b12-a-band-low",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(B12, 500, "pg/mL", ago(1), interpretation="A"),
            id="b12-a-band-normal",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(B12, 250, "pg/mL", ago(1), interpretation="AA", ref_range=(180, 914)),
            id="b12-aa-range-normal",
        ),
        pytest.param(
            Klass.LOW,
            observation(B12, 200, "pg/mL", ago(1), interpretation="A", ref_range=(232, 914)),
            id="b12-a-range-low",
        ),
        pytest.param(
            Klass.HIGH,
            observation(MMA, 0.6, "umol/L", ago(1), interpretation="A"),
            id="mma-a-band-high",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(MMA, 0.2, "umol/L", ago(1), interpretation="A"),
            id="mma-a-band-normal",
        ),
        pytest.param(
            Klass.LOW,
            observation(K, 3.3, "mmol/L", ago(1), interpretation="AA", ref_range=(3.5, 5.1)),
            id="potassium-aa-range-low",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(K, 4.0, "mmol/L", ago(1), interpretation="AA", ref_range=(3.5, 5.1)),
            id="potassium-aa-range-normal",
        ),
    ],
)
def test_abnormal_flag_takes_direction_from_range_or_band(klass, obs):
    """Give A/AA the direction of the range or band; indeterminate when those say normal."""
    assert klass == _one(obs).klass


@pytest.mark.parametrize(
    ("klass", "obs"),
    [
        pytest.param(
            Klass.INDETERMINATE,
            observation(B12, 100, "pg/mL", ago(1), interpretation="IND"),
            id="b12-ind-despite-low-band",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(B12, 600, "pg/mL", ago(1), interpretation="E"),
            id="b12-equivocal-despite-normal-band",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(MMA, 0.9, "umol/L", ago(1), interpretation="E"),
            id="mma-equivocal-despite-high-band",
        ),
    ],
)
def test_indeterminate_flag(klass, obs):
    """Read IND and E (equivocal) as indeterminate, whatever the value (§4.2)."""
    assert klass == _one(obs).klass


def _ifab(flag: str | None = None, **value: Any) -> dict[str, Any]:
    """Return an intrinsic factor antibody Observation with a flag or a non-numeric value."""
    return observation(IFAB, None, None, ago(3), interpretation=flag, **value)


@pytest.mark.parametrize(
    ("klass", "obs"),
    [
        pytest.param(Klass.POSITIVE, _ifab("POS"), id="pos"),
        pytest.param(Klass.POSITIVE, _ifab("DET"), id="detected"),
        pytest.param(Klass.NEGATIVE, _ifab("NEG"), id="neg"),
        pytest.param(Klass.NEGATIVE, _ifab("ND"), id="not-detected"),
        pytest.param(
            Klass.POSITIVE,
            _ifab(valueCodeableConcept={"coding": [{"system": SNOMED, "code": "10828004"}]}),
            id="value-positive-no-flag",
        ),
        pytest.param(
            Klass.NEGATIVE,
            _ifab(valueCodeableConcept={"coding": [{"system": SNOMED, "code": "260385009"}]}),
            id="value-negative-no-flag",
        ),
        pytest.param(Klass.POSITIVE, _ifab(valueString="Positive"), id="value-string-positive"),
    ],
)
def test_intrinsic_factor_antibody_positive_or_negative(klass, obs):
    """Read an antibody result as positive or negative from its flag or its coded value (§4.1)."""
    assert klass == _one(obs).klass


@pytest.mark.parametrize(
    ("klass", "obs", "settings"),
    [
        pytest.param(
            Klass.INDETERMINATE,
            observation(B12, 300, "pg/mL", ago(1), interpretation="N"),
            Settings(),
            id="flag-n-300",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(B12, 350, "pg/mL", ago(1), interpretation="N"),
            Settings(),
            id="flag-n-350-inclusive",
        ),
        pytest.param(
            Klass.NORMAL,
            observation(B12, 351, "pg/mL", ago(1), interpretation="N"),
            Settings(),
            id="flag-n-351",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(B12, 300, "pg/mL", ago(1), ref_range=(150, 900)),
            Settings(),
            id="range-300",
        ),
        pytest.param(
            Klass.NORMAL,
            observation(B12, 400, "pg/mL", ago(1), ref_range=(150, 900)),
            Settings(),
            id="range-400",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(B12_MOLAR, 250, "pmol/L", ago(1), interpretation="N"),
            Settings(),
            id="flag-n-250-pmol-is-339-pg",
        ),
        pytest.param(
            Klass.NORMAL,
            observation(B12_MOLAR, 300, "pmol/L", ago(1), interpretation="N"),
            Settings(),
            id="flag-n-300-pmol-is-407-pg",
        ),
        pytest.param(
            Klass.INDETERMINATE,
            observation(HOLOTC, 60, "pmol/L", ago(1), interpretation="N"),
            Settings(),
            id="holotc-flag-n-60",
        ),
        pytest.param(
            Klass.NORMAL,
            observation(HOLOTC, 80, "pmol/L", ago(1), interpretation="N"),
            Settings(),
            id="holotc-flag-n-80",
        ),
        pytest.param(
            Klass.NORMAL,
            observation(B12, 300, "mIU/L", ago(1), interpretation="N"),
            Settings(),
            id="flag-n-unit-unknown-is-normal",
        ),
        pytest.param(
            Klass.NORMAL,
            observation(B12, 300, "pg/mL", ago(1), interpretation="N"),
            Settings(indeterminate_band_over_lab_normal=False),
            id="setting-off",
        ),
    ],
)
def test_b12_not_low_by_lab_placed_against_band(klass, obs, settings):
    """Make a lab-normal B12/holoTC at or below 350 pg/mL (70 pmol/L) indeterminate (§4.2)."""
    assert klass == _one(obs, settings=settings).klass


def test_unknown_unit_without_flag_is_unusable_with_note():
    """Mark a result in an unknown unit with no flag or range unusable, naming the unit (§3)."""
    result = _one(observation(B12, 150, "mIU/L", ago(8)))

    assert Klass.UNUSABLE == result.klass
    assert not result.usable
    assert "'mIU/L'" in result.note
    assert "'mIU/L'" in result.describe()


@pytest.mark.parametrize(
    ("klass", "basis", "obs"),
    [
        pytest.param(
            Klass.LOW,
            Basis.LAB_FLAG,
            observation(B12, 150, "mIU/L", ago(8), interpretation="L"),
            id="flag",
        ),
        pytest.param(
            Klass.LOW,
            Basis.LAB_RANGE,
            observation(B12, 150, "mIU/L", ago(8), ref_range=(200, 900)),
            id="same-unit-range-low",
        ),
        pytest.param(
            Klass.NORMAL,
            Basis.LAB_RANGE,
            observation(B12, 250, "mIU/L", ago(8), ref_range=(200, 900)),
            id="same-unit-range-within",
        ),
        pytest.param(
            Klass.UNUSABLE,
            None,
            observation(B12, 150, "mIU/L", ago(8), ref_range=[_range(200, 900, "pg/mL")]),
            id="other-unit-range",
        ),
        pytest.param(
            Klass.UNUSABLE,
            None,
            observation(B12, 150, None, ago(8)),
            id="no-unit",
        ),
    ],
)
def test_unknown_unit(klass, basis, obs):
    """Classify an unknown unit only by the flag or by a range in the same unit string (§3)."""
    result = _one(obs)

    assert (klass, basis) == (result.klass, result.basis)


@pytest.mark.parametrize(
    ("klass", "obs"),
    [
        pytest.param(
            Klass.LOW, observation(B12, 100, "pg/mL", ago(2), comparator="<"), id="lt-100"
        ),
        pytest.param(
            Klass.UNUSABLE, observation(B12, 200, "pg/mL", ago(2), comparator="<"), id="lt-200"
        ),
        pytest.param(
            Klass.LOW,
            observation(B12, 200, "pg/mL", ago(2), comparator="<", interpretation="L"),
            id="lt-200-flagged",
        ),
        pytest.param(
            Klass.NORMAL, observation(B12, 1000, "pg/mL", ago(2), comparator=">"), id="gt-1000"
        ),
        pytest.param(
            Klass.UNUSABLE, observation(B12, 300, "pg/mL", ago(2), comparator=">"), id="gt-300"
        ),
        pytest.param(
            Klass.LOW,
            observation(B12, 150, "pg/mL", ago(2), comparator="<", ref_range=(200, 900)),
            id="lt-150-range",
        ),
    ],
)
def test_censored_values(klass, obs):
    """Classify a censored value only when the whole interval lies in one band (§4.1)."""
    assert klass == _one(obs).klass


@pytest.mark.parametrize(
    ("klass", "obs"),
    [
        pytest.param(
            Klass.UNUSABLE, observation(MMA, 0.35, "nmol/L", ago(2)), id="mma-0.35-nmol/L"
        ),
        pytest.param(Klass.HIGH, observation(MMA, 0.55, "nmol/mL", ago(2)), id="mma-0.55-nmol/mL"),
        pytest.param(
            Klass.HIGH,
            observation(MMA, 0.35, "nmol/L", ago(2), interpretation="H"),
            id="mma-implausible-but-flagged",
        ),
        pytest.param(Klass.UNUSABLE, observation(B12, 5, "pg/mL", ago(2)), id="b12-5"),
        pytest.param(Klass.UNUSABLE, observation(K, 45, "mmol/L", ago(2)), id="potassium-45"),
    ],
)
def test_plausibility_guard(klass, obs):
    """Treat a value outside the plausible range as a unit error unless the lab flagged it (§3)."""
    assert klass == _one(obs).klass


def test_implausible_note():
    """Say why an implausible result could not be interpreted."""
    result = _one(observation(MMA, 0.35, "nmol/L", ago(2)))

    assert "implausible" in result.note


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "registered"])
def test_ignored_statuses(status):
    """Ignore registered, cancelled and entered-in-error results entirely (§4.1)."""
    assert [] == _results(observation(B12, 110, "pg/mL", ago(3), status=status))


@pytest.mark.parametrize(
    ("status", "label"),
    [
        pytest.param("final", None, id="final"),
        pytest.param("amended", None, id="amended"),
        pytest.param("corrected", None, id="corrected"),
        pytest.param("preliminary", "preliminary", id="preliminary"),
        pytest.param("unknown", "status unknown", id="unknown"),
    ],
)
def test_usable_statuses_and_labels(status, label):
    """Use final, amended, corrected, preliminary and unknown results; label the uncertain."""
    result = _one(observation(B12, 110, "pg/mL", ago(3), status=status))

    labels = [w for w in ("preliminary", "status unknown") if w in result.describe()]
    assert Klass.LOW == result.klass
    assert ([label] if label else []) == labels


def test_example_12_entered_in_error_leaves_older_result():
    """Fall back to the older result when the latest is entered-in-error (example 12)."""
    found = facts(
        patient(63, "male"),
        observation(B12, 110, "pg/mL", ago(3), status="entered-in-error"),
        observation(B12, 420, "pg/mL", ago(60)),
    )

    assert (B12Status.NORMAL, 420) == (found.b12_status, found.b12_first_line.value)


@pytest.mark.parametrize(
    ("expected", "first", "second"),
    [
        pytest.param(
            400,
            observation(B12, 150, "pg/mL", ago(5), identifier=[{"system": "lab", "value": "X"}]),
            observation(
                B12,
                400,
                "pg/mL",
                ago(5),
                status="amended",
                identifier=[{"system": "lab", "value": "X"}],
            ),
            id="amended-same-identifier",
        ),
        pytest.param(
            400,
            observation(
                B12,
                400,
                "pg/mL",
                ago(5),
                status="corrected",
                identifier=[{"system": "lab", "value": "X"}],
            ),
            observation(B12, 150, "pg/mL", ago(5), identifier=[{"system": "lab", "value": "X"}]),
            id="corrected-listed-first",
        ),
        pytest.param(
            400,
            observation(B12, 150, "pg/mL", ago(5), status="preliminary"),
            observation(B12, 400, "pg/mL", ago(5), status="amended"),
            id="amended-same-code-and-time",
        ),
    ],
)
def test_amended_supersedes(expected, first, second):
    """Keep only the amended or corrected version of a result (§4.1)."""
    (result,) = _results(first, second)

    assert expected == result.value


def test_different_identifiers_are_not_superseded():
    """Keep two results with different identifiers taken on the same day."""
    found = _results(
        observation(B12, 150, "pg/mL", ago(5), identifier=[{"system": "lab", "value": "X"}]),
        observation(B12, 400, "pg/mL", ago(5), identifier=[{"system": "lab", "value": "Y"}]),
    )

    assert 2 == len(found)


@pytest.mark.parametrize(
    ("obs", "count"),
    [
        pytest.param(observation(B12, 150, "pg/mL", None), 0, id="no-time-no-issued"),
        pytest.param(
            observation(B12, 150, "pg/mL", None, issued=f"{ago(4).isoformat()}T10:00:00Z"),
            1,
            id="issued-only",
        ),
        pytest.param(
            observation(
                B12,
                None,
                None,
                ago(4),
                dataAbsentReason={"coding": [{"code": "error"}]},
                interpretation="L",
            ),
            0,
            id="data-absent",
        ),
        pytest.param(
            observation(B12, 150, "pg/mL", None, effectivePeriod={"start": ago(4).isoformat()}),
            1,
            id="period-start",
        ),
        pytest.param(observation(B12, 150, "pg/mL", TODAY + timedelta(2)), 0, id="future"),
    ],
)
def test_which_results_count(obs, count):
    """Ignore results with no effective time and no issued, or with a dataAbsentReason (§4.1)."""
    assert count == len(_results(obs))


def test_issued_gives_the_date():
    """Date a result by issued when it has no effective time."""
    obs = observation(B12, 150, "pg/mL", None, issued=f"{ago(4).isoformat()}T10:00:00Z")

    assert ago(4) == _one(obs).when


def _lab_id(value: str) -> list[dict[str, str]]:
    """Return a lab identifier."""
    return [{"system": "lab", "value": value}]


@pytest.mark.parametrize(
    ("expected", "observations"),
    [
        pytest.param(
            420,
            [
                observation(B12, 420, "pg/mL", ago(5)),
                observation(B12, 150, "pg/mL", ago(10)),
            ],
            id="latest-date",
        ),
        pytest.param(
            420,
            [
                observation(
                    B12,
                    150,
                    "pg/mL",
                    ago(5),
                    issued=f"{ago(4).isoformat()}T08:00:00Z",
                    identifier=_lab_id("a"),
                ),
                observation(
                    B12,
                    420,
                    "pg/mL",
                    ago(5),
                    issued=f"{ago(3).isoformat()}T08:00:00Z",
                    identifier=_lab_id("b"),
                ),
            ],
            id="tie-later-issued",
        ),
        pytest.param(
            420,
            [
                observation(
                    B12, 150, "pg/mL", ago(5), status="preliminary", identifier=_lab_id("a")
                ),
                observation(B12, 420, "pg/mL", ago(5), identifier=_lab_id("b")),
            ],
            id="tie-final-over-preliminary",
        ),
        pytest.param(
            420,
            [
                observation(B12, 150, "pg/mL", ago(5), identifier=_lab_id("a")),
                observation(B12, 420, "pg/mL", ago(5), status="corrected", identifier=_lab_id("b")),
            ],
            id="tie-corrected-over-final",
        ),
        pytest.param(
            150,
            [
                observation(B12, 420, "pg/mL", ago(5), identifier=_lab_id("a")),
                observation(B12, 150, "pg/mL", ago(5), identifier=_lab_id("b")),
            ],
            id="tie-more-abnormal",
        ),
        pytest.param(
            420,
            [
                observation(
                    B12, 150, "pg/mL", None, effectiveDateTime=f"{ago(5).isoformat()}T08:00:00Z"
                ),
                observation(
                    B12, 420, "pg/mL", None, effectiveDateTime=f"{ago(5).isoformat()}T16:00:00Z"
                ),
            ],
            id="same-day-later-time",
        ),
    ],
)
def test_current_result(expected, observations):
    """Pick the latest result, breaking ties by issued, status, then abnormality (§4.1)."""
    for ordering in (observations, observations[::-1]):
        current = labs.current(_results(*ordering), [Analyte.B12])

        assert expected == current.value


def test_current_skips_unusable():
    """Pass over an unusable latest result to the latest usable one."""
    results = _results(
        observation(B12, 150, "mIU/L", ago(2)), observation(B12, 420, "pg/mL", ago(30))
    )

    assert 420 == labs.current(results, [Analyte.B12]).value


def _gender(code: str, system: str = GENDER) -> list[dict[str, Any]]:
    """Return an appliesTo list for one sex code."""
    return [{"coding": [{"system": system, "code": code}]}]


SEX_RANGES = [
    _range(13.5, 17.5, "g/dL", appliesTo=_gender("male")),
    _range(12.0, 15.5, "g/dL", appliesTo=_gender("female")),
]
SNOMED_SEX_RANGES = [
    _range(13.5, 17.5, "g/dL", appliesTo=_gender("248153007", SNOMED)),
    _range(12.0, 15.5, "g/dL", appliesTo=_gender("248152002", SNOMED)),
]
AGE_RANGES = [
    _range(11.0, 14.5, "g/dL", age={"low": {"value": 1}, "high": {"value": 15}}),
    _range(12.0, 15.5, "g/dL", age={"low": {"value": 16}, "high": {"value": 120}}),
]


@pytest.mark.parametrize(
    ("klass", "ranges", "sex", "age", "when"),
    [
        pytest.param(Klass.LOW, SEX_RANGES, "male", 50, ago(3), id="male"),
        pytest.param(Klass.NORMAL, SEX_RANGES, "female", 50, ago(3), id="female"),
        pytest.param(Klass.LOW, SNOMED_SEX_RANGES, "male", 50, ago(3), id="male-snomed"),
        pytest.param(Klass.NORMAL, SNOMED_SEX_RANGES, "female", 50, ago(3), id="female-snomed"),
        pytest.param(Klass.NORMAL, AGE_RANGES, "female", 10, ago(3), id="child-range"),
        pytest.param(Klass.LOW, AGE_RANGES, "female", 40, ago(3), id="adult-range"),
        pytest.param(
            Klass.NORMAL, AGE_RANGES, "female", 16, ago(700), id="age-when-the-result-was-taken"
        ),
    ],
)
def test_reference_range_applies_to(klass, ranges, sex, age, when):
    """Choose the range whose appliesTo matches the sex and whose age holds the patient (§4.2)."""
    obs = observation(HB, 11.5 if ranges is AGE_RANGES else 12.5, "g/dL", when, ref_range=ranges)

    result = _one(obs, sex=sex, age=age)

    assert (klass, Basis.LAB_RANGE) == (result.klass, result.basis)


@pytest.mark.parametrize(
    ("klass", "basis", "ranges"),
    [
        pytest.param(
            Klass.NORMAL,
            Basis.LAB_RANGE,
            [
                _range(
                    500, 1000, "pg/mL", type={"coding": [{"system": MEANING, "code": "treatment"}]}
                ),
                _range(180, 900, "pg/mL", type={"coding": [{"system": MEANING, "code": "normal"}]}),
            ],
            id="treatment-then-normal",
        ),
        pytest.param(
            Klass.NORMAL,
            Basis.DEFAULT_BAND,
            [
                _range(
                    500,
                    1000,
                    "pg/mL",
                    type={"coding": [{"system": MEANING, "code": "therapeutic"}]},
                )
            ],
            id="therapeutic-only",
        ),
    ],
)
def test_treatment_ranges_ignored(klass, basis, ranges):
    """Ignore treatment and therapeutic ranges (§4.2 step 2)."""
    result = _one(observation(B12, 400, "pg/mL", ago(3), ref_range=ranges))

    assert (klass, basis) == (result.klass, result.basis)


@pytest.mark.parametrize(
    ("status", "basis_word", "obs"),
    [
        pytest.param(
            B12Status.DEFICIENT,
            "lab flag",
            observation(B12, 200, "pg/mL", ago(14), interpretation="L", ref_range=(232, 1245)),
            id="example-10",
        ),
        pytest.param(
            B12Status.INDETERMINATE,
            "lab range",
            observation(B12, 165, "ng/L", ago(10), ref_range=(145, 900)),
            id="example-11",
        ),
        pytest.param(
            B12Status.INDETERMINATE,
            "lab flag",
            observation(B12, 250, "pg/mL", ago(15), interpretation="N", ref_range=(180, 914)),
            id="example-44",
        ),
        pytest.param(
            B12Status.DEFICIENT,
            "default band",
            observation(B12_MOLAR, 95, "pmol/L", ago(5)),
            id="example-3",
        ),
        pytest.param(
            B12Status.NORMAL,
            "default band",
            observation(B12_MOLAR, 300, "pmol/L", ago(20)),
            id="example-4",
        ),
        pytest.param(
            B12Status.UNKNOWN,
            "",
            observation(B12, 150, "mIU/L", ago(8)),
            id="example-43-unusable",
        ),
    ],
)
def test_worked_examples_status(status, basis_word, obs):
    """Give the B12 status and basis of worked examples 3, 4, 10, 11, 43 and 44 (§9)."""
    found = facts(patient(60, "male"), obs)

    assert status == found.b12_status
    if basis_word:
        assert basis_word in found.b12_first_line.basis_text
    else:
        assert "'mIU/L'" in found.unusable_first_line[0].describe()


@pytest.mark.parametrize(
    ("value", "text"),
    [(40, "40"), (30.0, "30"), (10, "10"), (2.5, "2.5"), (0.55, "0.55"), (142, "142"),
     (129.4, "129"), (3.25, "3.25"), (12.0, "12"), (0.4, "0.4")],
)  # fmt: skip
def test_fmt_number_keeps_whole_tens(value, text):
    """Whole numbers keep their zeros: eGFR 40 is never shown as 4, Hct 30 never as 3."""
    assert text == fmt_number(value)
