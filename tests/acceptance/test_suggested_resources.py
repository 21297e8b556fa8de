"""Every resource a suggestion would create is valid FHIR R4 for the patient in context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from tests.conftest import FIXTURES
from tests.conftest import load


EXPECTED = sorted((FIXTURES / "expected").glob("*/*.json"))
MODELS = {"MedicationRequest": MedicationRequest, "ServiceRequest": ServiceRequest}


def _creates(path: Path) -> list[dict[str, Any]]:
    return [
        action["resource"]
        for card in load(path)["cards"]
        for suggestion in card.get("suggestions", [])
        for action in suggestion["actions"]
        if action["type"] == "create"
    ]


@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_created_resources_are_valid_fhir(path: Path) -> None:
    """Each created resource parses as an R4 MedicationRequest or ServiceRequest, as a draft."""
    request = load(FIXTURES / "hooks" / path.parent.name / path.name)
    for resource in _creates(path):
        MODELS[resource["resourceType"]].model_validate(resource)
        assert "draft" == resource["status"]
        assert f"Patient/{request['context']['patientId']}" == resource["subject"]["reference"]


@pytest.mark.parametrize("path", EXPECTED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_medication_suggestions_have_route_and_timing(path: Path) -> None:
    """Each suggested MedicationRequest has a dosage with route, timing, dose and text."""
    for resource in _creates(path):
        if resource["resourceType"] != "MedicationRequest":
            continue
        assert "order" == resource["intent"]
        for dosage in resource["dosageInstruction"]:
            assert {"text", "route", "timing", "doseAndRate"} <= set(dosage)
