"""Derived facts from small charts (clinical-rules §4.1 post-injection rule, §6)."""

from __future__ import annotations

from typing import Any

import pytest

from cards.facts import B12Status
from cards.facts import Hook
from cards.facts import facts_from_fhir
from cards.settings import Profile
from cards.settings import Settings
from tests.unit.fhir import ICD10CM
from tests.unit.fhir import IM
from tests.unit.fhir import ORAL
from tests.unit.fhir import PATIENT_ID
from tests.unit.fhir import SNOMED
from tests.unit.fhir import TODAY
from tests.unit.fhir import ago
from tests.unit.fhir import chart
from tests.unit.fhir import condition
from tests.unit.fhir import facts
from tests.unit.fhir import med_admin
from tests.unit.fhir import med_request
from tests.unit.fhir import med_statement
from tests.unit.fhir import observation
from tests.unit.fhir import patient


B12 = "2132-9"
HOLOTC = "72160-5"
MMA = "13964-2"
HCY = "13965-9"
FOLATE = "2284-8"
EGFR = "33914-3"
HB = "718-7"
IFAB = "31444-3"
ADULT = patient(60, "female")


def _hydroxocobalamin_dose(days_ago: int) -> dict[str, Any]:
    """Return a completed hydroxocobalamin 1 mg IM administration."""
    return med_admin(rxnorm="317106", route=IM, dose=1, unit="mg", when=ago(days_ago))


# --- Patient -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "birth_date"),
    [
        pytest.param(65, "1960", id="year-only-youngest"),
        pytest.param(65, "1960-11", id="year-month-this-month-youngest"),
        pytest.param(66, "1960-10", id="year-month-earlier-month"),
        pytest.param(16, "2010-11-29", id="birthday-today"),
        pytest.param(15, "2010-11-30", id="birthday-tomorrow"),
        pytest.param(None, None, id="no-birth-date"),
    ],
)
def test_age(age, birth_date):
    """Give whole years from birthDate; a partial date gives the youngest possible age (§6.2)."""
    found = facts(patient(None, birth_date=birth_date))

    assert (age, age is None) == (found.age_years, found.age_unknown)


@pytest.mark.parametrize(
    ("child", "age"),
    [
        pytest.param(True, 15, id="15"),
        pytest.param(False, 16, id="16"),
        pytest.param(False, None, id="unknown"),
    ],
)
def test_is_child(child, age):
    """Call a patient under 16 a child, and an unknown age not a child."""
    assert child == facts(patient(age)).is_child


@pytest.mark.parametrize(
    ("sex", "gender"),
    [
        pytest.param("male", "male", id="male"),
        pytest.param("female", "female", id="female"),
        pytest.param("unknown", "other", id="other"),
        pytest.param("unknown", "unknown", id="unknown"),
        pytest.param("unknown", None, id="absent"),
    ],
)
def test_sex(sex, gender):
    """Read Patient.gender male or female, else unknown."""
    assert sex == facts(patient(50, gender)).sex


@pytest.mark.parametrize(
    ("deceased", "extra"),
    [
        pytest.param(True, {"deceasedBoolean": True}, id="boolean"),
        pytest.param(True, {"deceasedDateTime": ago(3).isoformat()}, id="date"),
        pytest.param(False, {"deceasedBoolean": False}, id="alive"),
        pytest.param(False, {}, id="absent"),
    ],
)
def test_deceased(deceased, extra):
    """Mark a patient with deceasedBoolean true or a past deceasedDateTime as deceased."""
    assert deceased == facts(patient(70, **extra)).deceased


@pytest.mark.parametrize(
    ("pregnant", "sex", "resource"),
    [
        pytest.param(
            True, "female", condition(SNOMED, "77386006", "Pregnant", ago(140)), id="20-weeks"
        ),
        pytest.param(
            False, "female", condition(SNOMED, "77386006", "Pregnant", ago(300)), id="43-weeks"
        ),
        pytest.param(True, "female", condition(ICD10CM, "O99.011", None, ago(70)), id="icd-stem"),
        pytest.param(False, "male", condition(SNOMED, "77386006", "Pregnant", ago(70)), id="male"),
        pytest.param(
            False,
            "female",
            condition(SNOMED, "77386006", "Pregnant", ago(70), clinical="resolved"),
            id="resolved",
        ),
    ],
)
def test_pregnant(pregnant, sex, resource):
    """Read an active pregnancy Condition from the last 42 weeks, never for a man (§6.2)."""
    assert pregnant == facts(patient(30, sex), resource).pregnant


# --- B12 status --------------------------------------------------------------------------

INDETERMINATE_B12 = observation(B12, 250, "pg/mL", ago(20), id="b12")
NORMAL_EGFR = observation(EGFR, 85, "mL/min/{1.73_m2}", ago(20))
LOW_EGFR = observation(EGFR, 38, "mL/min/{1.73_m2}", ago(20), interpretation="L")


@pytest.mark.parametrize(
    ("status", "basis", "extra"),
    [
        pytest.param(B12Status.INDETERMINATE, "B12 indeterminate", [], id="alone"),
        pytest.param(
            B12Status.DEFICIENT,
            "holoTC low",
            [observation(HOLOTC, 20, "pmol/L", ago(22))],
            id="holotc-low",
        ),
        pytest.param(
            B12Status.NORMAL,
            "deficiency not supported: holoTC normal",
            [observation(HOLOTC, 80, "pmol/L", ago(22))],
            id="holotc-normal",
        ),
        pytest.param(
            B12Status.INDETERMINATE,
            "B12 indeterminate",
            [observation(HOLOTC, 50, "pmol/L", ago(22))],
            id="holotc-grey",
        ),
        pytest.param(
            B12Status.DEFICIENT,
            "confirmed: MMA raised",
            [observation(MMA, 0.55, "nmol/mL", ago(18)), NORMAL_EGFR],
            id="mma-raised-no-renal",
        ),
        pytest.param(
            B12Status.INDETERMINATE,
            "B12 indeterminate",
            [observation(MMA, 0.46, "umol/L", ago(18)), LOW_EGFR],
            id="mma-raised-renal-under-ceiling",
        ),
        pytest.param(
            B12Status.DEFICIENT,
            "confirmed: MMA raised",
            [observation(MMA, 0.60, "umol/L", ago(18)), LOW_EGFR],
            id="mma-raised-renal-over-ceiling",
        ),
        pytest.param(
            B12Status.NORMAL,
            "deficiency not supported: MMA normal",
            [observation(MMA, 210, "nmol/L", ago(18))],
            id="mma-normal",
        ),
        pytest.param(
            B12Status.INDETERMINATE,
            "B12 indeterminate",
            [observation(MMA, 0.55, "umol/L", ago(200))],
            id="mma-outside-90-days",
        ),
        pytest.param(
            B12Status.DEFICIENT,
            "probable: homocysteine raised",
            [observation(HCY, 24, "umol/L", ago(18)), NORMAL_EGFR],
            id="homocysteine-raised",
        ),
        pytest.param(
            B12Status.INDETERMINATE,
            "B12 indeterminate",
            [
                observation(HCY, 24, "umol/L", ago(18)),
                observation(FOLATE, 2.1, "ng/mL", ago(18)),
            ],
            id="homocysteine-raised-low-folate",
        ),
        pytest.param(
            B12Status.INDETERMINATE,
            "B12 indeterminate",
            [observation(HCY, 24, "umol/L", ago(18)), LOW_EGFR],
            id="homocysteine-raised-renal",
        ),
        pytest.param(
            B12Status.NORMAL,
            "deficiency not supported: homocysteine normal",
            [observation(HCY, 10, "umol/L", ago(18))],
            id="homocysteine-normal",
        ),
        pytest.param(
            B12Status.NORMAL,
            "deficiency not supported: MMA normal",
            [observation(MMA, 0.21, "umol/L", ago(18)), observation(HCY, 24, "umol/L", ago(18))],
            id="mma-outranks-homocysteine",
        ),
    ],
)
def test_b12_status_refinement(status, basis, extra):
    """Refine an indeterminate B12 by holoTC, then MMA, then homocysteine (§6.2)."""
    found = facts(ADULT, INDETERMINATE_B12, *extra)

    assert (status, basis) == (found.b12_status, found.b12_status_basis)


@pytest.mark.parametrize(
    ("status", "days_ago"),
    [
        pytest.param(B12Status.DEFICIENT, 365, id="365-days"),
        pytest.param(B12Status.UNKNOWN, 366, id="366-days"),
    ],
)
def test_b12_status_lookback(status, days_ago):
    """Use B12 results from the last 365 days only (§4.3)."""
    assert status == facts(ADULT, observation(B12, 150, "pg/mL", ago(days_ago))).b12_status


@pytest.mark.parametrize(
    ("flag", "extra"),
    [
        pytest.param(True, [observation(MMA, 0.46, "umol/L", ago(18)), LOW_EGFR], id="renal"),
        pytest.param(
            False, [observation(MMA, 0.46, "umol/L", ago(18)), NORMAL_EGFR], id="no-renal"
        ),
        pytest.param(
            False, [observation(MMA, 0.60, "umol/L", ago(18)), LOW_EGFR], id="over-ceiling"
        ),
    ],
)
def test_mma_renal_confounded(flag, extra):
    """Flag a raised MMA of at most 0.50 µmol/L with a renal flag as possibly renal (§6.2)."""
    assert flag == facts(ADULT, INDETERMINATE_B12, *extra).mma_renal_confounded


def test_homocysteine_confounded_by_low_folate():
    """Flag a raised homocysteine with a low folate as confounded."""
    found = facts(
        ADULT,
        INDETERMINATE_B12,
        observation(HCY, 24, "umol/L", ago(18)),
        observation(FOLATE, 2.1, "ng/mL", ago(18)),
    )

    assert (True, True) == (found.homocysteine_confounded, found.folate_low)


@pytest.mark.parametrize(
    ("status", "extra"),
    [
        pytest.param(B12Status.DEFICIENT, [observation(MMA, 0.2, "umol/L", ago(18))], id="low-b12"),
        pytest.param(B12Status.NORMAL, [observation(MMA, 0.9, "umol/L", ago(18))], id="normal-b12"),
    ],
)
def test_functional_tests_change_only_indeterminate(status, extra):
    """Leave a low or normal first-line result as it is, whatever MMA says (§6.2)."""
    b12 = observation(B12, 150 if status is B12Status.DEFICIENT else 500, "pg/mL", ago(20))

    assert status == facts(ADULT, b12, *extra).b12_status


@pytest.mark.parametrize(
    ("status", "drawn", "dose"),
    [
        pytest.param(B12Status.UNKNOWN, 20, _hydroxocobalamin_dose(30), id="10-days-after"),
        pytest.param(B12Status.UNKNOWN, 16, _hydroxocobalamin_dose(30), id="14-days-after"),
        pytest.param(B12Status.DEFICIENT, 10, _hydroxocobalamin_dose(30), id="20-days-after"),
        pytest.param(B12Status.DEFICIENT, 35, _hydroxocobalamin_dose(30), id="drawn-before"),
        pytest.param(
            B12Status.UNKNOWN,
            20,
            med_statement(
                rxnorm="317106", route=IM, status="completed", start=ago(30), end=ago(30)
            ),
            id="injection-in-a-statement",
        ),
        pytest.param(
            B12Status.DEFICIENT,
            20,
            med_admin(rxnorm="309593", route=ORAL, when=ago(30)),
            id="oral-dose-does-not-exclude",
        ),
    ],
)
def test_post_injection_rule(status, drawn, dose):
    """Exclude a B12 drawn within 14 days after a parenteral dose (§4.1)."""
    found = facts(ADULT, dose, observation(B12, 150, "pg/mL", ago(drawn)))

    assert status == found.b12_status


def test_post_injection_rule_for_intrinsic_factor_antibody():
    """Ignore a positive intrinsic factor antibody drawn 10 days after an injection (§6.2)."""
    ifab = observation(IFAB, None, None, ago(20), interpretation="POS")

    assert (() == facts(ADULT, _hydroxocobalamin_dose(30), ifab).pernicious_anaemia) and (
        1 == len(facts(ADULT, ifab).pernicious_anaemia)
    )


# --- Conditions ----------------------------------------------------------------------------

B12_DEFICIENCY = condition(SNOMED, "190634004", "Cobalamin deficiency", ago(100))


@pytest.mark.parametrize(
    ("deficient", "resources"),
    [
        pytest.param(True, [B12_DEFICIENCY], id="active-condition"),
        pytest.param(
            False,
            [B12_DEFICIENCY, observation(B12, 500, "pg/mL", ago(50))],
            id="cancelled-by-later-normal",
        ),
        pytest.param(
            True,
            [B12_DEFICIENCY, observation(B12, 500, "pg/mL", ago(150))],
            id="earlier-normal-does-not-cancel",
        ),
        pytest.param(
            True,
            [B12_DEFICIENCY, observation(B12, 250, "pg/mL", ago(50))],
            id="later-indeterminate-does-not-cancel",
        ),
        pytest.param(
            False,
            [condition(SNOMED, "190634004", "Cobalamin deficiency", ago(100), clinical="resolved")],
            id="resolved",
        ),
        pytest.param(
            False,
            [condition(SNOMED, "190634004", "B12", ago(100), verification="refuted")],
            id="refuted",
        ),
        pytest.param(
            True,
            [condition(ICD10CM, "E53.8", "Vitamin B12 deficiency", ago(100))],
            id="e53.8-with-b12-text",
        ),
        pytest.param(
            True,
            [condition(ICD10CM, "E53.8", "Cobalamin deficiency", ago(100))],
            id="e53.8-with-cobalamin-text",
        ),
        pytest.param(
            False,
            [condition(ICD10CM, "E53.8", "Vitamin B6 deficiency", ago(100))],
            id="e53.8-other-b-vitamin",
        ),
        pytest.param(False, [condition(ICD10CM, "E53.8", None, ago(100))], id="e53.8-no-text"),
        pytest.param(True, [condition(ICD10CM, "D51.9", None, ago(100))], id="d51-stem"),
        pytest.param(
            True,
            [
                condition(SNOMED, "84027009", "Pernicious anaemia", ago(100)),
                observation(B12, 500, "pg/mL", ago(50)),
            ],
            id="pernicious-anaemia-never-cancelled",
        ),
    ],
)
def test_b12_deficient(deficient, resources):
    """Read B12 deficiency from Conditions unless a later normal result cancels it (§6.2)."""
    assert deficient == facts(ADULT, *resources).b12_deficient


@pytest.mark.parametrize(
    ("present", "resource"),
    [
        pytest.param(
            True, condition(SNOMED, "84027009", "Pernicious anaemia", ago(100)), id="84027009"
        ),
        pytest.param(True, condition(ICD10CM, "D51.0", None, ago(100)), id="d51.0"),
        pytest.param(
            True,
            condition(SNOMED, "84027009", "Pernicious anaemia", ago(100), clinical="inactive"),
            id="inactive",
        ),
        pytest.param(
            False,
            condition(SNOMED, "84027009", "PA", ago(100), verification="entered-in-error"),
            id="entered-in-error",
        ),
        pytest.param(
            True, observation(IFAB, None, None, ago(20), interpretation="POS"), id="ifab-positive"
        ),
        pytest.param(
            False, observation(IFAB, None, None, ago(20), interpretation="NEG"), id="ifab-negative"
        ),
    ],
)
def test_pernicious_anaemia(present, resource):
    """Read pernicious anaemia from a Condition in any status but refuted, or a positive IFAB."""
    assert present == bool(facts(ADULT, resource).pernicious_anaemia)


@pytest.mark.parametrize(
    ("findings", "history", "resource"),
    [
        pytest.param(
            1, 1, condition(SNOMED, "309087008", "Paraesthesia of foot", ago(30)), id="snomed"
        ),
        pytest.param(1, 1, condition(ICD10CM, "G32.0", None, ago(30)), id="icd-g32.0"),
        pytest.param(
            1, 1, condition(SNOMED, None, "Peripheral neuropathy", ago(30)), id="text-only"
        ),
        pytest.param(
            0,
            0,
            condition(SNOMED, "20262006", "Ataxia", ago(30), verification="refuted"),
            id="refuted",
        ),
        pytest.param(
            0,
            1,
            condition(SNOMED, "20262006", "Ataxia", ago(30), clinical="resolved"),
            id="resolved-is-history",
        ),
        pytest.param(
            1,
            1,
            condition(SNOMED, "20262006", "Ataxia", ago(30), verification="provisional"),
            id="provisional",
        ),
        pytest.param(
            0, 0, condition(SNOMED, "35489007", "Depressive disorder", ago(30)), id="depression"
        ),
        pytest.param(
            1,
            1,
            observation("8302-2", None, None, ago(30))
            | {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "44077006"}]}},
            id="finding-observation",
        ),
    ],
)
def test_neuro_findings(findings, history, resource):
    """Find neurological findings by code or text, never from a refuted Condition (§6.2)."""
    found = facts(ADULT, resource)

    assert (findings, history) == (len(found.neuro_findings), len(found.neuro_history))


def test_neuro_finding_by_text_is_marked():
    """Mark a neurological finding found from its text."""
    (finding,) = facts(
        ADULT, condition(SNOMED, None, "Peripheral neuropathy", ago(30))
    ).neuro_findings

    assert finding.by_text


@pytest.mark.parametrize(
    ("anaemia", "sex", "age", "resources"),
    [
        pytest.param(True, "male", 50, [observation(HB, 12.5, "g/dL", ago(10))], id="male-12.5"),
        pytest.param(
            False, "female", 50, [observation(HB, 12.5, "g/dL", ago(10))], id="female-12.5"
        ),
        pytest.param(
            True, "female", 50, [observation(HB, 11.5, "g/dL", ago(10))], id="female-11.5"
        ),
        pytest.param(
            True, "unknown", 50, [observation(HB, 11.5, "g/dL", ago(10))], id="unknown-sex"
        ),
        pytest.param(
            False,
            "female",
            30,
            [
                observation(HB, 11.5, "g/dL", ago(10)),
                condition(SNOMED, "77386006", "Pregnant", ago(70)),
            ],
            id="pregnant-11.5",
        ),
        pytest.param(
            False, "male", 9, [observation(HB, 10.5, "g/dL", ago(10))], id="child-no-flag"
        ),
        pytest.param(
            True,
            "male",
            9,
            [observation(HB, 10.5, "g/dL", ago(10), interpretation="L")],
            id="child-flagged",
        ),
        pytest.param(
            False, "male", 50, [observation(HB, 10.5, "g/dL", ago(120))], id="older-than-90-days"
        ),
        pytest.param(
            True,
            "male",
            50,
            [condition(SNOMED, "53165003", "Megaloblastic anaemia", ago(10))],
            id="megaloblastic-condition",
        ),
        pytest.param(
            False,
            "male",
            50,
            [condition(SNOMED, "190634004", "Cobalamin deficiency", ago(10))],
            id="deficiency-without-anaemia",
        ),
    ],
)
def test_anaemia(anaemia, sex, age, resources):
    """Call anaemia by the sex and pregnancy bands, by lab only under 16, or by Condition (§6.2)."""
    assert anaemia == facts(patient(age, sex), *resources).anaemia


# --- Treatment -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parenteral", "any_b12", "resources", "settings"),
    [
        pytest.param(
            True,
            True,
            [med_request(rxnorm="317106", route=IM, dose=1, unit="mg", period=3, period_unit="mo")],
            Settings(),
            id="active-im-request",
        ),
        pytest.param(
            False,
            False,
            [med_request(rxnorm="317106", route=IM, status="stopped")],
            Settings(),
            id="stopped-request",
        ),
        pytest.param(
            False,
            False,
            [med_request(rxnorm="317106", route=IM, intent="proposal")],
            Settings(),
            id="proposal",
        ),
        pytest.param(
            False,
            False,
            [
                med_request(rxnorm="317106", route=IM)
                | {"dispenseRequest": {"validityPeriod": {"end": ago(10).isoformat()}}}
            ],
            Settings(),
            id="validity-ended",
        ),
        pytest.param(True, True, [_hydroxocobalamin_dose(106)], Settings(), id="dose-106-days"),
        pytest.param(False, False, [_hydroxocobalamin_dose(107)], Settings(), id="dose-107-days"),
        pytest.param(False, False, [_hydroxocobalamin_dose(120)], Settings(), id="dose-120-days"),
        pytest.param(
            False,
            False,
            [
                _hydroxocobalamin_dose(80),
                condition(SNOMED, "20262006", "Ataxia", ago(300), clinical="resolved"),
            ],
            Settings(),
            id="dose-80-days-neuro-history",
        ),
        pytest.param(
            False,
            False,
            [_hydroxocobalamin_dose(40)],
            Settings(profile=Profile.US),
            id="us-dose-40-days",
        ),
        pytest.param(
            False,
            True,
            [med_statement(text="Cyanocobalamin 1000 mcg tablet", route=ORAL, start=ago(60))],
            Settings(),
            id="oral-statement",
        ),
        pytest.param(
            False,
            False,
            [med_request(contained_medication=None, rxnorm="309596", route=IM)],
            Settings(),
            id="combination-is-not-treatment",
        ),
    ],
)
def test_on_b12(parenteral, any_b12, resources, settings):
    """Derive on_parenteral_b12 and on_any_b12 from requests, statements and doses (§6.2)."""
    found = facts(ADULT, *resources, settings=settings)

    assert (parenteral, any_b12) == (found.on_parenteral_b12, found.on_any_b12)


FOLIC_DRAFT = med_request(
    rxnorm="310410", dose=1, unit="mg", status="draft", id="fa-1", authored=TODAY
)
B12_DRAFT = med_request(rxnorm="317106", route=IM, dose=1, unit="mg", status="draft", id="oh-1")


@pytest.mark.parametrize(
    ("focus", "hook", "selections"),
    [
        pytest.param(
            {"MedicationRequest/fa-1"},
            Hook.ORDER_SELECT,
            ["MedicationRequest/fa-1"],
            id="select-relative",
        ),
        pytest.param(
            {"MedicationRequest/fa-1"},
            Hook.ORDER_SELECT,
            ["https://fhir.example.org/r4/MedicationRequest/fa-1"],
            id="select-absolute",
        ),
        pytest.param(
            {"MedicationRequest/oh-1"},
            Hook.ORDER_SELECT,
            ["MedicationRequest/oh-1/_history/2"],
            id="select-versioned",
        ),
        pytest.param(
            {"MedicationRequest/fa-1", "MedicationRequest/oh-1"},
            Hook.ORDER_SIGN,
            [],
            id="sign-all",
        ),
    ],
)
def test_draft_focus(focus, hook, selections):
    """Focus on the selections for order-select and on every draft for order-sign (§6.1)."""
    found = facts(ADULT, hook=hook, drafts=[FOLIC_DRAFT, B12_DRAFT], selections=selections)

    assert focus == {d.ref for d in found.focused_drafts()}
    assert 2 == len(found.drafts)


def test_b12_drafted_alongside_counts_as_treatment():
    """Count a B12 product anywhere in draftOrders as treatment started (§6.2)."""
    found = facts(
        ADULT,
        hook=Hook.ORDER_SELECT,
        drafts=[FOLIC_DRAFT, B12_DRAFT],
        selections=["MedicationRequest/fa-1"],
    )

    assert (True, True) == (found.on_any_b12, found.on_parenteral_b12)


@pytest.mark.parametrize(
    ("first", "resources"),
    [
        pytest.param(True, [], id="no-earlier-dose"),
        pytest.param(False, [_hydroxocobalamin_dose(100)], id="dose-100-days-ago"),
        pytest.param(True, [_hydroxocobalamin_dose(400)], id="dose-400-days-ago"),
    ],
)
def test_first_parenteral_dose(first, resources):
    """Call a drafted parenteral course first when no parenteral dose lies in 365 days (§6.2)."""
    found = facts(ADULT, *resources, hook=Hook.ORDER_SIGN, drafts=[B12_DRAFT])

    assert first == found.first_parenteral_dose
    if first:
        assert TODAY == found.therapy_start_date


@pytest.mark.parametrize(
    ("start", "dose_days"),
    [
        pytest.param(ago(300), [800, 700, 300, 200, 100], id="gap-400-days"),
        pytest.param(ago(600), [600, 300, 20], id="gap-300-days"),
        pytest.param(ago(30), [30], id="single-dose"),
        pytest.param(ago(365), [730, 365, 5], id="gap-exactly-365"),
    ],
)
def test_therapy_start_date(start, dose_days):
    """Start the course at the first dose after the last gap of at least 365 days (§6.2)."""
    found = facts(ADULT, *[_hydroxocobalamin_dose(d) for d in dose_days])

    assert start == found.therapy_start_date


def test_therapy_start_from_request_without_doses():
    """Date the course by authoredOn of the active request when no dose is recorded (§6.2)."""
    found = facts(ADULT, med_request(rxnorm="317106", route=IM, authored=ago(40)))

    assert ago(40) == found.therapy_start_date


# --- Robustness ----------------------------------------------------------------------------

GARBAGE = {
    "resourceType": "MedicationRequest",
    "id": "bad",
    "status": 123,
    "intent": {"nonsense": True},
    "subject": "Patient/p1",
    "dosageInstruction": "take some",
}


def test_unreadable_resource_counted_and_skipped():
    """Count and skip an unreadable resource while the rest still yields facts."""
    found = facts(ADULT, GARBAGE, observation(B12, 150, "pg/mL", ago(10)))

    assert (1, B12Status.DEFICIENT) == (found.unreadable_resources, found.b12_status)


def test_unreadable_draft_counted():
    """Count an unreadable draft order too."""
    found = facts(ADULT, hook=Hook.ORDER_SIGN, drafts=[GARBAGE, FOLIC_DRAFT])

    assert (1, 1) == (found.unreadable_resources, len(found.drafts))


def _quirk(name: str) -> dict[str, Any]:
    """Return a folic acid 5 mg daily draft in one of the shapes real clients send."""
    draft = med_request(rxnorm="310410", dose=5, unit="mg", status="draft", id="fa-1")
    dosage = draft["dosageInstruction"][0]
    if name == "doseAndRate-object":
        dosage["doseAndRate"] = dosage["doseAndRate"][0]
    elif name == "doseQuantity-on-dosage":
        dosage["doseQuantity"] = dosage.pop("doseAndRate")[0]["doseQuantity"]
    elif name == "category-object":
        draft["category"] = {"coding": [{"code": "outpatient"}]}
    return draft


@pytest.mark.parametrize(
    "name", ["standard", "doseAndRate-object", "doseQuantity-on-dosage", "category-object"]
)
def test_client_quirks_repaired(name):
    """Read hook-library, Inferno and Epic shapes of a draft as R4 would (§6.1)."""
    found = facts(ADULT, hook=Hook.ORDER_SIGN, drafts=[_quirk(name)])

    (draft,) = found.drafts
    assert (0, 5.0) == (found.unreadable_resources, draft.daily_mg)


def test_observation_category_object_repaired():
    """Read an Observation whose category is an object, not a list."""
    obs = observation(B12, 150, "pg/mL", ago(10), category={"coding": [{"code": "laboratory"}]})

    found = facts(ADULT, obs)

    assert (0, B12Status.DEFICIENT) == (found.unreadable_resources, found.b12_status)


def test_chart_builder_matches_facts_helper():
    """Give the same facts through `chart` and `facts_from_fhir` as through the helper."""
    resources = [ADULT, observation(B12, 150, "pg/mL", ago(10), id="same")]

    direct = facts_from_fhir(chart(PATIENT_ID, "patient-view", resources), TODAY)

    assert facts(*resources) == direct


@pytest.mark.parametrize(
    "antidote",
    [
        pytest.param(
            med_admin(rxnorm="5514", route="47625008", dose=5, unit="g", when=ago(5)),
            id="5-g-dose",
        ),
        pytest.param(med_admin(text="Cyanokit 5 g for injection", when=ago(5)), id="by-name"),
    ],
)
def test_b12_after_the_cyanide_antidote_is_a_post_injection_result(antidote):
    """5 g hydroxocobalamin (Cyanokit) is not treatment, but a B12 drawn after it reflects it."""
    chart_facts = facts(patient(50), antidote, observation("2132-9", 900, "pg/mL", ago(1)))

    assert chart_facts.b12_status is B12Status.UNKNOWN
    assert chart_facts.b12_first_line is None
    assert not chart_facts.on_any_b12
    assert not chart_facts.b12_doses


@pytest.mark.parametrize("kind", [{}, [], 7, None, "NotAType", ["Observation"]])
def test_odd_resource_type_is_skipped_not_a_crash(kind):
    """A resourceType that is a dict, list or number is skipped (found by schemathesis)."""
    odd = {"resourceType": kind, "id": "x"}
    pv = facts_from_fhir(chart(PATIENT_ID, Hook.PATIENT_VIEW, [patient(50), odd]), TODAY)
    sign = facts_from_fhir(chart(PATIENT_ID, Hook.ORDER_SIGN, [patient(50)], [odd]), TODAY)

    assert pv.age_years == 50
    assert () == sign.drafts
