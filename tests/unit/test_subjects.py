"""`cards.subjects`: which resources are about the patient in context (issue 9, item 1)."""

from __future__ import annotations

from typing import Any

import pytest

from cards.subjects import belongs_to
from cards.subjects import own_resources
from cards.subjects import patient_urls


BASE = "https://fhir.example.org/r4"
OURS = "urn:uuid:11111111-1111-4111-8111-111111111111"
THEIRS = "urn:uuid:22222222-2222-4222-8222-222222222222"
BUNDLE = {
    "resourceType": "Bundle",
    "entry": [
        {"fullUrl": OURS, "resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": THEIRS, "resource": {"resourceType": "Patient", "id": "p2"}},
        {"fullUrl": f"{BASE}/Observation/o1", "resource": {"resourceType": "Observation"}},
    ],
}
URLS = patient_urls([BUNDLE, None, {"resourceType": "Patient", "id": "p1"}])


def _about(element: str, value: Any, kind: str = "Observation") -> dict[str, Any]:
    return {"resourceType": kind, "id": "x", element: value}


@pytest.mark.parametrize(
    ("resource", "kept"),
    [
        pytest.param(_about("subject", {"reference": "Patient/p1"}), True, id="relative"),
        pytest.param(_about("subject", {"reference": f"{BASE}/Patient/p1"}), True, id="absolute"),
        pytest.param(
            _about("subject", {"reference": f"{BASE}/Patient/p1/_history/2"}), True, id="history"
        ),
        pytest.param(_about("subject", {"reference": OURS}), True, id="urn-uuid-ours"),
        pytest.param(_about("subject", {"reference": "urn:uuid:p1"}), True, id="urn-uuid-id"),
        pytest.param(
            _about("patient", {"reference": "Patient/p1"}, "NutritionOrder"), True, id="patient"
        ),
        pytest.param({"resourceType": "Medication", "id": "m"}, True, id="no-subject"),
        pytest.param({"resourceType": "Patient", "id": "p1"}, True, id="patient-itself"),
        pytest.param(_about("subject", {"reference": "Patient/p2"}), False, id="other-relative"),
        pytest.param(
            _about("subject", {"reference": f"{BASE}/Patient/p2/_history/1"}),
            False,
            id="other-history",
        ),
        pytest.param(_about("subject", {"reference": THEIRS}), False, id="urn-uuid-theirs"),
        pytest.param(
            _about("subject", {"reference": "urn:uuid:33333333"}), False, id="urn-uuid-unknown"
        ),
        pytest.param(_about("subject", {"reference": "Group/g1"}), False, id="group"),
        pytest.param(_about("subject", {"reference": "#p1"}), False, id="contained"),
        pytest.param(
            _about("subject", {"identifier": {"value": "p1"}}), False, id="identifier-only"
        ),
        pytest.param(_about("subject", "Patient/p1"), False, id="not-a-reference"),
        pytest.param(
            _about("patient", {"reference": "Patient/p2"}, "NutritionOrder"),
            False,
            id="other-patient-element",
        ),
        pytest.param({"resourceType": "Patient", "id": "p2"}, False, id="other-patient"),
        pytest.param({"resourceType": "Patient"}, False, id="patient-without-id"),
    ],
)
def test_belongs_to(resource, kept):
    """Kept only when every subject/patient element provably names p1 (or none is present)."""
    assert kept is belongs_to(resource, "p1", URLS)


def test_own_resources_counts_the_dropped():
    """The foreign ones are dropped and counted; order is kept."""
    resources = [
        _about("subject", {"reference": "Patient/p1"}),
        _about("subject", {"reference": "Patient/p2"}),
        {"resourceType": "Medication"},
    ]
    kept, foreign = own_resources(resources, "p1", {})
    assert [resources[0], resources[2]] == kept
    assert 1 == foreign
