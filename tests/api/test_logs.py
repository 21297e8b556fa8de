"""Logs never contain patient data: names, ids, birth dates, values or tokens."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from service import create_app
from tests.conftest import FIXTURES
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import signed


SCENARIOS: list[dict[str, Any]] = load(FIXTURES / "scenarios.json")
FHIR_TOKEN = "fhir-access-token-that-must-never-be-logged"


def _patient_data(body: dict[str, Any]) -> set[str]:
    """Return strings that identify or describe the patient in a hook request.

    Patient id, names and birth date; every resource id; every lab value with its unit; the text
    of every Condition, Procedure and medication; the draft orders' ids and texts.
    """
    found = {body["context"]["patientId"]}
    patient = body["prefetch"]["patient"]
    found.add(patient["birthDate"])
    for name in patient.get("name", []):
        found.update(name.get("given", []))
        if name.get("family"):
            found.add(name["family"])
    resources = [
        entry["resource"]
        for value in body["prefetch"].values()
        if isinstance(value, dict) and value.get("resourceType") == "Bundle"
        for entry in value.get("entry", [])
    ]
    drafts = body["context"].get("draftOrders", {}).get("entry", [])
    resources += [entry["resource"] for entry in drafts]
    for resource in resources:
        found.add(str(resource.get("id", "")))
        quantity = resource.get("valueQuantity")
        if quantity is not None:
            found.add(f"{quantity['value']} {quantity.get('unit', '')}".strip())
        for key in ("code", "medicationCodeableConcept"):
            concept = resource.get(key)
            if isinstance(concept, dict) and concept.get("text"):
                found.add(concept["text"])
    return {s for s in found if len(s) >= 5}


def _log_text(records: list[logging.LogRecord]) -> str:
    """Return every log record as its message plus all extra fields."""
    return "\n".join(json.dumps(r.__dict__, default=str) for r in records)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_logs_hold_no_patient_data(
    caplog: pytest.LogCaptureFixture, scenario: dict[str, Any]
) -> None:
    """A fixture's hook call logs service, rules and counts, but nothing about the patient."""
    body = load(FIXTURES / "hooks" / scenario["file"])
    body["fhirAuthorization"] = {"access_token": FHIR_TOKEN, "token_type": "Bearer"}
    app = create_app(base_config(**scenario.get("config", {})))
    url = "/cds-services/" + scenario["file"].split("/")[0]
    headers = signed(url)
    with caplog.at_level(logging.DEBUG):
        rv = app.test_client().post(url, json=body, headers=headers)
    assert 200 == rv.status_code
    text = _log_text(caplog.records)
    assert "hook evaluated" in text
    secrets = _patient_data(body) | {FHIR_TOKEN, headers["Authorization"].split()[1]}
    leaked = sorted(s for s in secrets if s in text)
    assert [] == leaked


def test_refused_token_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A refused JWT is logged with a reason, never with the token itself."""
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJl"
    app = create_app(base_config())
    with caplog.at_level(logging.DEBUG):
        rv = app.test_client().get("/cds-services", headers={"Authorization": f"Bearer {token}"})
    assert 401 == rv.status_code
    assert "request refused" in caplog.text
    assert token not in _log_text(caplog.records)


def test_feedback_comments_and_uuids_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Stored feedback is logged as counts: never the clinician's comment, the card or suggestion
    uuids, or the override reason."""
    comment = "Mrs Example saw haematology on Tuesday and declined injections"
    card, suggestion = (
        "5b0c7f3e-9d2a-4c1b-8e6f-1a2b3c4d5e6f",
        "6c1d8e4f-0a3b-4d2c-9f7a-2b3c4d5e6f70",
    )
    items = [
        {
            "card": card,
            "outcome": "overridden",
            "overrideReason": {
                "reason": {"system": "https://example.org/r", "code": "declined-x"},
                "userComment": comment,
            },
            "outcomeTimestamp": "2026-11-29T10:10:23Z",
        },
        {
            "card": card,
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": suggestion}],
            "outcomeTimestamp": "2026-11-29T10:11:23Z",
        },
    ]
    app = create_app(base_config())
    url = "/cds-services/b12-patient-view/feedback"
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):  # the second time, both are duplicates
            rv = app.test_client().post(url, json={"feedback": items}, headers=signed(url))
            assert 200 == rv.status_code
    text = _log_text(caplog.records)
    assert "feedback stored" in text
    assert [] == sorted(
        s for s in (comment, "Mrs Example", card, suggestion, "declined-x") if s in text
    )


def test_audit_key_is_never_logged(
    caplog: pytest.LogCaptureFixture, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither a configured AUDIT_KEY nor a generated key file's content reaches the logs: at
    start, on a hook call (audited), on /healthz, and when the audit misses."""
    body = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
    url = "/cds-services/b12-patient-view"
    configured = "configured-audit-key-that-must-never-be-logged"
    key_file = tmp_path / "audit.key"
    monkeypatch.setenv("B12CDS_AUDIT_KEY", configured)
    with caplog.at_level(logging.DEBUG):
        app = create_app(base_config())
        assert 200 == app.test_client().post(url, json=body, headers=signed(url)).status_code
        app.test_client().get("/healthz")
        monkeypatch.delenv("B12CDS_AUDIT_KEY")
        generated = create_app(base_config(AUDIT_KEY_FILE=str(key_file)))
        assert 200 == generated.test_client().post(url, json=body, headers=signed(url)).status_code
        down = create_app(
            base_config(
                AUDIT_KEY=configured,
                REQUIRE_JWT=False,
                DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'b12cds.sqlite'}",
            )
        )
        assert 200 == down.test_client().post(url, json=body).status_code
    text = _log_text(caplog.records)
    assert "hook evaluated" in text
    assert "audit step missed" in text
    assert configured not in text
    assert key_file.read_text().strip() not in text
