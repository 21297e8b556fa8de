"""Results at the same time (clinical-rules §11.2) and evidence as reported (§11.3)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from cards import compose
from cards.facts import B12Status
from cards.labs import Klass
from cards.settings import Profile
from cards.settings import Settings
from cards.units import Analyte
from tests.unit.fhir import IM
from tests.unit.fhir import SNOMED
from tests.unit.fhir import ago
from tests.unit.fhir import condition
from tests.unit.fhir import facts
from tests.unit.fhir import med_admin
from tests.unit.fhir import observation
from tests.unit.fhir import patient


B12, B12_MOLAR, MMA = "2132-9", "14685-2", "13964-2"
US = Settings(profile=Profile.US)


def _b12(value: Any, days_ago: int = 9, unit: str = "pg/mL", **extra: Any) -> dict[str, Any]:
    return observation(B12, value, unit, ago(days_ago), **extra)


def _lab(value: str) -> list[dict[str, str]]:
    return [{"system": "lab", "value": value}]


# --- §11.2 results at the same time ------------------------------------------------------------

# (expected current value, expected status, the words naming both, observations)
SAME_TIME = [
    pytest.param(
        150,
        B12Status.DEFICIENT,
        "two results at the same time: 410 and 150 pg/mL; the lower is used",
        [_b12(410, id="b-a"), _b12(150, id="b-b")],
        id="final-and-final-lower-used",
    ),
    pytest.param(
        150,
        B12Status.DEFICIENT,
        "two results at the same time: 160 and 150 pg/mL; the lower is used",
        [_b12(160, id="b-a"), _b12(150, id="b-b")],
        id="two-low-the-lower-used",
    ),
    pytest.param(
        250,
        B12Status.INDETERMINATE,
        "two results at the same time: 410 and 250 pg/mL; the lower is used",
        [_b12(250, id="b-a"), _b12(410, id="b-b")],
        id="indeterminate-over-normal",
    ),
    pytest.param(
        150,
        B12Status.DEFICIENT,
        "3 results at the same time: 410, 520 and 150 pg/mL; the lower is used",
        [_b12(410, id="b-a"), _b12(150, id="b-b"), _b12(520, id="b-c")],
        id="three-results",
    ),
    pytest.param(
        410,
        B12Status.NORMAL,
        "two results at the same time: 150 and 410 pg/mL; the later reported is used",
        [
            _b12(150, id="b-a", issued="2026-11-20T16:00:00Z"),
            _b12(410, id="b-b", issued="2026-11-21T09:00:00Z"),
        ],
        id="later-issued-first",
    ),
    pytest.param(
        410,
        B12Status.NORMAL,
        "two results at the same time: 150 and 410 pg/mL; the final result is used",
        [_b12(150, id="b-a", status="preliminary"), _b12(410, id="b-b")],
        id="final-over-preliminary",
    ),
    pytest.param(
        150,
        B12Status.DEFICIENT,
        "two results at the same time: 410 pg/mL and 111 pmol/L; the lower is used",
        [_b12(410, id="b-a"), observation(B12_MOLAR, 111, "pmol/L", ago(9), id="b-b")],
        id="two-units-each-named",
    ),
]


@pytest.mark.parametrize(("value", "status", "words", "observations"), SAME_TIME)
def test_same_time_results_in_any_order(value, status, words, observations):
    """Two results at the same time are two results; the §4.1 ties choose, in every order."""
    for ordering in itertools.permutations(observations):
        found = facts(patient(64), *ordering)
        first = found.b12_first_line

        assert (value, status) == (round(first.canonical), found.b12_status)
        assert words in first.describe()
        assert words in "\n".join(compose.b12_evidence(found))


@pytest.mark.parametrize(
    ("value", "observations"),
    [
        pytest.param(
            410, [_b12(150, id="b-a"), _b12(410, id="b-b", status="corrected")], id="corrected"
        ),
        pytest.param(
            410, [_b12(150, id="b-a"), _b12(410, id="b-b", status="amended")], id="amended"
        ),
        pytest.param(
            410,
            [
                _b12(150, id="b-a", identifier=_lab("X1")),
                _b12(410, id="b-b", identifier=_lab("X1"), issued="2026-11-21T09:00:00Z"),
            ],
            id="shared-identifier",
        ),
    ],
)
def test_same_result_reported_twice_is_one_result(value, observations):
    """An amended/corrected result, or a shared identifier, supersedes: one result, no note."""
    for ordering in itertools.permutations(observations):
        found = facts(patient(64), *ordering)
        b12s = [r for r in found.results if r.analyte is Analyte.B12]

        assert [value] == [r.value for r in b12s]
        assert "same time" not in found.b12_first_line.describe()


def test_results_on_other_days_have_no_note():
    """Results on different days are not "at the same time": the latest is used, no note."""
    found = facts(patient(64), _b12(150, 20), _b12(410, 9))

    assert 410 == found.b12_first_line.value
    assert "same time" not in found.b12_first_line.describe()


# --- §11.3 evidence as reported ----------------------------------------------------------------

# (settings, observation, the evidence line's words)
AS_REPORTED = [
    pytest.param(
        None,
        _b12(160, 5),
        "B12 160 pg/mL on 24 Nov 2026 (low: default band < 180 pg/mL)",
        id="uk-pg",
    ),
    pytest.param(
        US,
        _b12(160, 5, unit="ng/L"),
        "B12 160 ng/L on 24 Nov 2026 (low: default band < 180 ng/L)",
        id="us-ng-per-l",
    ),
    pytest.param(
        None,
        observation(B12_MOLAR, 95, "pmol/L", ago(5)),
        "B12 95 pmol/L, about 129 ng/L on 24 Nov 2026 (low: default band < 133 pmol/L)",
        id="uk-pmol-converted",
    ),
    pytest.param(
        US,
        observation(B12_MOLAR, 95, "pmol/L", ago(5)),
        "B12 95 pmol/L, about 129 pg/mL on 24 Nov 2026 (low: default band < 133 pmol/L)",
        id="us-pmol-converted",
    ),
    pytest.param(
        None,
        _b12(250, 5),
        "(indeterminate: default band 180–350 pg/mL)",
        id="uk-indeterminate-band-in-pg",
    ),
    pytest.param(
        None,
        _b12(165, 5, unit="ng/L", ref_range=(145, 900)),
        "lab range 145–900 ng/L; not low, but at or below 350 ng/L",
        id="lab-range-as-sent",
    ),
    pytest.param(
        None,
        observation(
            B12,
            165,
            "ng/L",
            ago(5),
            referenceRange=[
                {
                    "low": {
                        "value": 107,
                        "unit": "pmol/L",
                        "system": "http://unitsofmeasure.org",
                        "code": "pmol/L",
                    },
                    "high": {
                        "value": 664,
                        "unit": "pmol/L",
                        "system": "http://unitsofmeasure.org",
                        "code": "pmol/L",
                    },
                }
            ],
        ),
        "lab range 107–664 pmol/L",
        id="lab-range-in-its-own-unit",
    ),
    pytest.param(
        None,
        observation(MMA, 550, "nmol/L", ago(5)),
        "MMA 550 nmol/L, about 0.55 µmol/L on 24 Nov 2026 (high: default band > 400 nmol/L)",
        id="mma-nmol-per-l",
    ),
    pytest.param(
        None, _b12(50, 5, comparator="<"), "B12 <50 pg/mL on 24 Nov 2026", id="censored-below"
    ),
    pytest.param(
        None,
        _b12(None, 5, valueString="<50 pg/mL", interpretation="L"),
        "B12 <50 pg/mL on 24 Nov 2026 (low: lab flag L)",
        id="text-below",
    ),
    pytest.param(
        None,
        _b12(None, 5, valueString=">2000 pg/mL", interpretation="H"),
        "B12 >2000 pg/mL on 24 Nov 2026",
        id="text-above",
    ),
    pytest.param(
        None,
        _b12(None, 5, valueCodeableConcept={"text": "below detection"}, interpretation="L"),
        "B12 below detection on 24 Nov 2026",
        id="coded-value-text",
    ),
]


@pytest.mark.parametrize(("settings", "obs", "words"), AS_REPORTED)
def test_value_and_basis_in_the_unit_sent(settings, obs, words):
    """The value in the lab's unit, converted in brackets; the band or range in the same unit."""
    (result,) = facts(patient(60), obs, settings=settings).results
    line = result.describe()

    assert words in line
    assert "no numeric value" not in line


def test_no_numeric_value_is_never_said_for_a_value_sent():
    """A censored or text value is never "no numeric value" (§11.3)."""
    for obs in (_b12(None, 5, valueString="<50"), _b12(90, 5, comparator="<=")):
        (result,) = facts(patient(60), obs).results

        assert "no numeric value" not in result.describe()


def _after_injection(b12_value: float, days_after: int) -> list[dict[str, Any]]:
    dose = med_admin(rxnorm="317106", route=IM, dose=1, unit="mg", when=ago(12))
    return [patient(60), dose, _b12(b12_value, 12 - days_after, id="b12-post")]


def test_excluded_result_says_why_once():
    """A B12 drawn after an injection is named once, with why, and never "no B12 result"."""
    found = facts(*_after_injection(520, 6))
    lines = compose.b12_evidence(found)

    assert B12Status.UNKNOWN == found.b12_status
    assert ["B12 520 pg/mL on 23 Nov 2026 not used: drawn 6 days after an injection"] == [
        line for line in lines if "not used" in line
    ]
    assert not any("No B12" in line for line in lines)


def test_result_outside_the_window_is_used_not_excluded():
    """A B12 drawn 15 days after an injection is used (the window is 14 days, §4.1)."""
    dose = med_admin(rxnorm="317106", route=IM, dose=1, unit="mg", when=ago(20))
    found = facts(patient(60), dose, _b12(520, 5))

    assert (520, ()) == (found.b12_first_line.value, found.excluded_first_line)


def test_no_b12_line_when_nothing_exists():
    """With no B12 at all the card still says there is none (silent case of §11.3)."""
    lines = compose.b12_evidence(facts(patient(60)))

    assert ["No B12 or holoTC result in the past 12 months"] == lines


def test_no_recent_b12_line_names_an_unusable_result():
    """ "No B12 result" is never said when a result exists but could not be interpreted."""
    found = facts(patient(60), _b12(150, 30, unit="mIU/L"))
    line = compose.no_recent_b12_line(found)

    assert line.startswith("No usable B12 or holoTC result in the past 365 days")
    assert "could not be interpreted" in line


def test_the_same_condition_is_listed_once():
    """A Condition that is both pernicious anaemia and deficiency evidence, or sent twice, once."""
    pa = condition(SNOMED, "84027009", "Pernicious anaemia", ago(400), id="pa-1")
    found = facts(patient(70), pa, dict(pa))
    lines = compose.b12_evidence(found)

    assert 1 == sum("Pernicious anaemia" in line for line in lines)
    assert 1 == compose.b12_evidence_refs(found).count("Condition/pa-1")


def test_detail_lists_a_line_once():
    """The detail's evidence shows an identical line once (the same Condition, §11.3)."""
    found = facts(patient(70))
    body = compose.detail(found, ["Condition: X", "Condition: X", "B12"], [], [], ["S-CKS"])

    assert 1 == body.count("Condition: X")


def test_unreadable_values_stay_unusable_with_a_note():
    """NaN and 1e400 (issue 9, §11.3) are unusable results with a note, never a value."""
    found = facts(patient(60), _b12(float("nan"), 5))
    (result,) = found.results

    assert Klass.UNUSABLE == result.klass
    assert "not a readable number" in result.describe()


def test_a_condition_that_is_two_kinds_of_evidence_is_listed_once():
    """D51.0 is pernicious anaemia and a deficiency Condition: one evidence line (§11.3)."""
    d51 = condition(
        "http://hl7.org/fhir/sid/icd-10-cm",
        "D51.0",
        "Vitamin B12 deficiency anemia due to intrinsic factor deficiency",
        ago(300),
        id="d51",
    )
    found = facts(patient(70), _b12(150, 5), d51)
    lines = compose.b12_evidence(found)

    assert ["Condition/d51"] == [f.ref for f in found.deficiency_conditions]
    assert 1 == sum("intrinsic factor deficiency" in line for line in lines)
    assert 1 == compose.b12_evidence_refs(found).count("Condition/d51")
