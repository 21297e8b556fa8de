"""Odd medication, condition and procedure records for the at-risk rules never give a 5xx.

The twelve rules of the full catalogue read exposures (metformin, PPIs), dose histories
(maintenance), surgical history (bariatric, ileal), diets and pregnancy. Hypothesis feeds records
with the codes those rules match but missing fields, wrong types, impossible dates and absurd
doses into every service, with an adult and a child.
"""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.conftest import load
from tests.fuzz.test_hook_bodies import SETTINGS
from tests.fuzz.test_hook_bodies import _check
from tests.fuzz.test_hook_bodies import json_leaf
from tests.fuzz.test_hook_bodies import odd_number
from tests.fuzz.test_hook_bodies import odd_unit


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
BASES = {
    "b12-patient-view": load(FIXTURES / "hooks/b12-patient-view/ex33-maintenance-overdue.json"),
    "b12-order-sign": load(
        FIXTURES
        / "hooks/b12-order-sign/paediatric-specialist-fires-order-sign-hydroxocobalamin.json"
    ),
    "b12-order-select": load(FIXTURES / "hooks/b12-order-select/ex27-nitrous-oxide-deficient.json"),
}
odd_date = st.one_of(
    st.sampled_from(["2026-11-01", "2019", "2026-02", "2026-13-45", "9999-01-01", "1800-01-01"]),
    json_leaf,
)
drug = st.sampled_from(
    ["6809", "7646", "317106", "309594", "309593", "1159834", "7442", "6851", "4511", "5514"]
)
finding = st.sampled_from(
    [
        (ICD, "Z98.84"),
        (ICD, "Z90.49"),
        (ICD, "F18.10"),
        (ICD, "Z33.1"),
        (SNOMED, "77386006"),
        (SNOMED, "866041003"),
        (SNOMED, "1255165006"),
        (SNOMED, "84027009"),
        (SNOMED, "76976005"),
        (SNOMED, "427074001"),
        (SNOMED, "307193005"),
    ]
)


@st.composite
def odd_medication(draw: st.DrawFn) -> dict[str, Any]:
    """Return a MedicationRequest/Statement/Administration with odd timing, dose and status."""
    kind = draw(
        st.sampled_from(["MedicationRequest", "MedicationStatement", "MedicationAdministration"])
    )
    resource: dict[str, Any] = {
        "resourceType": kind,
        "id": draw(st.text(min_size=1, max_size=5)),
        "status": draw(st.one_of(st.sampled_from(["active", "completed", "stopped"]), json_leaf)),
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": draw(drug)}]},
    }
    dosage = {
        "route": {
            "coding": [
                {
                    "system": SNOMED,
                    "code": draw(st.sampled_from(["78421000", "26643006", "47625008"])),
                }
            ]
        },  # noqa: E501
        "timing": {
            "repeat": {
                "period": draw(odd_number),
                "periodUnit": draw(st.sampled_from(["d", "mo", "x"])),
            },  # noqa: E501
            "event": [draw(odd_date)],
        },
        "doseAndRate": [{"doseQuantity": {"value": draw(odd_number), "unit": draw(odd_unit)}}],
    }
    if kind == "MedicationRequest":
        resource.update(intent="order", authoredOn=draw(odd_date), dosageInstruction=[dosage])
    elif kind == "MedicationStatement":
        resource.update(
            effectivePeriod={"start": draw(odd_date), "end": draw(odd_date)}, dosage=[dosage]
        )
    else:
        resource.update(effectiveDateTime=draw(odd_date), dosage={"dose": draw(odd_number)})
    return resource


@st.composite
def odd_history(draw: st.DrawFn) -> dict[str, Any]:
    """Return a Condition or Procedure with an at-risk code and odd dates or statuses."""
    system, code = draw(finding)
    if draw(st.booleans()):
        return {
            "resourceType": "Procedure",
            "id": draw(st.text(min_size=1, max_size=5)),
            "status": draw(st.one_of(st.just("completed"), json_leaf)),
            "subject": {"reference": "Patient/p"},
            "code": {
                "coding": [{"system": system, "code": code}],
                "text": draw(st.text(max_size=20)),
            },
            "performedDateTime": draw(odd_date),
        }
    return {
        "resourceType": "Condition",
        "id": draw(st.text(min_size=1, max_size=5)),
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": system, "code": code}], "text": draw(st.text(max_size=20))},
        "onsetDateTime": draw(odd_date),
        "recordedDate": draw(odd_date),
    }


@SETTINGS
@given(
    service_id=st.sampled_from(sorted(BASES)),
    medications=st.lists(odd_medication(), max_size=5),
    history=st.lists(odd_history(), max_size=5),
    birth_date=st.one_of(
        st.sampled_from(["2018-05-01", "1950-01-01", "2026", "2030-01-01"]), json_leaf
    ),
)
def test_odd_records_never_give_a_server_error(
    fuzz_client: FlaskClient,
    service_id: str,
    medications: list[dict[str, Any]],
    history: list[dict[str, Any]],
    birth_date: Any,
) -> None:
    """Odd at-risk records, for an adult or a child, give cards or a 4xx, never a 5xx."""
    body = copy.deepcopy(BASES[service_id])
    body["prefetch"]["patient"]["birthDate"] = birth_date
    prefetch = body["prefetch"]
    prefetch["medicationRequests"]["entry"] += [
        {"resource": m} for m in medications if m["resourceType"] == "MedicationRequest"
    ]
    prefetch["medicationStatements"]["entry"] += [
        {"resource": m} for m in medications if m["resourceType"] == "MedicationStatement"
    ]
    prefetch["medicationAdministrations"]["entry"] += [
        {"resource": m} for m in medications if m["resourceType"] == "MedicationAdministration"
    ]
    prefetch["conditions"]["entry"] += [
        {"resource": h} for h in history if h["resourceType"] == "Condition"
    ]
    prefetch["procedures"]["entry"] += [
        {"resource": h} for h in history if h["resourceType"] == "Procedure"
    ]
    _check(fuzz_client.post(f"/cds-services/{service_id}", json=body))
