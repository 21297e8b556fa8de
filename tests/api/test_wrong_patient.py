"""Another patient's data never becomes this patient's cards (issue 9, item 1).

Resources naming a patient other than `context.patientId` are dropped before facts are built and
counted in the log's `foreign_resources`; a `patient` prefetch for someone else is treated as
absent; a draft order for another patient is a 400 that echoes no id. ex01 (B12 deficient with
paraesthesia, pat-ex01) gives a critical card when its B12 counts, and none when it does not.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
import responses

from tests.conftest import FHIR
from tests.conftest import FIXTURES
from tests.conftest import load
from tests.conftest import post_hook


PV = "b12-patient-view"
EX01 = FIXTURES / "hooks" / PV / "ex01-neuro-paraesthesia.json"
EX14 = FIXTURES / "hooks" / "b12-order-select" / "ex14-folic-acid-deficient.json"
EX15 = FIXTURES / "hooks" / "b12-order-sign" / "ex15-folic-acid-with-hydroxocobalamin.json"
NEURO = "b12-neuro-untreated"
OTHER_PATIENT = {"resourceType": "Patient", "id": "other", "gender": "male"}
OWN_PATIENT = {"resourceType": "Patient", "id": "pat-ex01"}
OTHER_URN = "urn:uuid:6f1e0c2a-0000-4000-8000-00000000beef"
OWN_URN = "urn:uuid:6f1e0c2a-0000-4000-8000-00000000cafe"


def ex01_with_subject(subject: Any, extra_entries: list[dict[str, Any]] = ()) -> dict[str, Any]:
    """Return ex01 whose B12 Observation names `subject` (None: no subject element at all)."""
    body: dict[str, Any] = load(EX01)
    bundle = body["prefetch"]["observations"]
    for entry in bundle["entry"]:
        if subject is None:
            entry["resource"].pop("subject", None)
        else:
            entry["resource"]["subject"] = copy.deepcopy(subject)
    bundle["entry"].extend(extra_entries)
    return body


def rules_and_log(client: Any, body: dict[str, Any], caplog: Any) -> tuple[set[str], Any]:
    """Post a patient-view hook; return its card rule ids and its "hook evaluated" log record."""
    with caplog.at_level(logging.INFO, logger="b12cds"):
        rv = post_hook(client, PV, body)
    assert 200 == rv.status_code, rv.get_json()
    (line,) = [r for r in caplog.records if r.getMessage() == "hook evaluated"]
    return {c["source"]["topic"]["code"] for c in rv.get_json()["cards"]}, line


@pytest.mark.parametrize(
    ("subject", "extra", "foreign"),
    [
        pytest.param({"reference": "Patient/other"}, [], 1, id="relative"),
        pytest.param({"reference": f"{FHIR}/Patient/other"}, [], 1, id="absolute"),
        pytest.param({"reference": f"{FHIR}/Patient/other/_history/2"}, [], 1, id="history"),
        pytest.param(
            {"reference": OTHER_URN},
            [{"fullUrl": OTHER_URN, "resource": OTHER_PATIENT}],
            2,
            id="urn-uuid-of-another-patient",
        ),
        pytest.param({"reference": "urn:uuid:not-in-the-bundle"}, [], 1, id="urn-uuid-unresolved"),
        pytest.param({"reference": "Group/ward-7"}, [], 1, id="group"),
        pytest.param(
            {"identifier": {"system": "urn:mrn", "value": "123"}}, [], 1, id="identifier-only"
        ),
        pytest.param({"display": "Someone"}, [], 1, id="display-only"),
    ],
)
def test_prefetched_result_for_another_subject_is_dropped(client, caplog, subject, extra, foreign):
    """A deficient B12 about another subject gives no card and is counted, never logged."""
    rules, line = rules_and_log(client, ex01_with_subject(subject, extra), caplog)
    assert NEURO not in rules
    assert foreign == line.__dict__["foreign_resources"]
    assert "other" not in json.dumps(line.__dict__, default=str).replace("other_", "")


@pytest.mark.parametrize(
    ("subject", "extra"),
    [
        pytest.param({"reference": "Patient/pat-ex01"}, [], id="relative"),
        pytest.param({"reference": f"{FHIR}/Patient/pat-ex01"}, [], id="absolute"),
        pytest.param({"reference": f"{FHIR}/Patient/pat-ex01/_history/3"}, [], id="history"),
        pytest.param(
            {"reference": OWN_URN},
            [{"fullUrl": OWN_URN, "resource": OWN_PATIENT}],
            id="urn-uuid-of-this-patient",
        ),
        pytest.param({"reference": "urn:uuid:pat-ex01"}, [], id="urn-uuid-patient-id"),
        pytest.param(None, [], id="no-subject"),
    ],
)
def test_result_for_the_patient_in_context_is_kept(client, caplog, subject, extra):
    """Every reference form that names pat-ex01 (or no subject) keeps the critical card."""
    rules, line = rules_and_log(client, ex01_with_subject(subject, extra), caplog)
    assert NEURO in rules
    assert 0 == line.__dict__["foreign_resources"]


def test_bundled_patient_of_another_id_is_dropped(client, caplog):
    """Another Patient in a search Bundle is dropped, and the patient's own card stays."""
    body = ex01_with_subject({"reference": "Patient/pat-ex01"}, [{"resource": OTHER_PATIENT}])
    rules, line = rules_and_log(client, body, caplog)
    assert NEURO in rules
    assert 1 == line.__dict__["foreign_resources"]


def test_patient_prefetch_for_another_patient_without_fhir_access_is_412(client):
    """A `patient` prefetch with another id is treated as absent: not fetchable here, so 412."""
    body = load(EX01)
    body["prefetch"]["patient"] = dict(body["prefetch"]["patient"], id="other")
    rv = post_hook(client, PV, body)
    assert 412 == rv.status_code, rv.get_json()
    assert ["prefetch.patient"] == rv.get_json()["issue"][0]["expression"]
    assert "other" not in rv.get_data(as_text=True)


def test_patient_prefetch_for_another_patient_is_fetched(client, fhir):
    """With a usable FHIR server the patient in context is fetched instead, and cards follow."""
    body = load(EX01)
    own = body["prefetch"]["patient"]
    body["prefetch"]["patient"] = dict(own, id="other")
    body["fhirServer"] = FHIR
    body["fhirAuthorization"] = {"access_token": "t0ken", "token_type": "Bearer"}
    fhir.add(responses.GET, f"{FHIR}/Patient/pat-ex01", json=own)
    rv = post_hook(client, PV, body)
    assert 200 == rv.status_code, rv.get_json()
    assert NEURO in {c["source"]["topic"]["code"] for c in rv.get_json()["cards"]}


def _with_draft_subject(path: Any, subject: Any) -> dict[str, Any]:
    body: dict[str, Any] = load(path)
    for entry in body["context"]["draftOrders"]["entry"]:
        if subject is None:
            entry["resource"].pop("subject", None)
        else:
            entry["resource"]["subject"] = subject
    return body


OTHER = {"reference": "Patient/other"}
OTHER_ABSOLUTE = {"reference": f"{FHIR}/Patient/other"}
GROUP = {"reference": "Group/ward-7"}


@pytest.mark.parametrize(
    ("path", "service_id", "subject"),
    [
        pytest.param(EX14, "b12-order-select", OTHER, id="relative-order-select"),
        pytest.param(EX14, "b12-order-select", OTHER_ABSOLUTE, id="absolute-order-select"),
        pytest.param(EX14, "b12-order-select", GROUP, id="group-order-select"),
        pytest.param(EX15, "b12-order-sign", OTHER, id="relative-order-sign"),
        pytest.param(EX15, "b12-order-sign", OTHER_ABSOLUTE, id="absolute-order-sign"),
        pytest.param(EX15, "b12-order-sign", GROUP, id="group-order-sign"),
    ],
)
def test_draft_for_another_patient_is_400(client, path, service_id, subject):
    """A draft order naming another patient is refused; the answer echoes no id."""
    rv = post_hook(client, service_id, _with_draft_subject(path, subject))
    assert 400 == rv.status_code, rv.get_json()
    body = rv.get_json()
    assert "OperationOutcome" == body["resourceType"]
    assert ["context.draftOrders"] == body["issue"][0]["expression"]
    assert "other" not in rv.get_data(as_text=True)
    assert "ward-7" not in rv.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "service_id", "own"),
    [
        pytest.param(EX14, "b12-order-select", True, id="own-subject-order-select"),
        pytest.param(EX14, "b12-order-select", False, id="no-subject-order-select"),
        pytest.param(EX15, "b12-order-sign", True, id="own-subject-order-sign"),
        pytest.param(EX15, "b12-order-sign", False, id="no-subject-order-sign"),
    ],
)
def test_draft_for_the_patient_in_context_or_without_subject_is_answered(
    client, path, service_id, own
):
    """Drafts naming the patient in context get their usual answer; without a subject, not a 400.

    (A MedicationRequest without `subject` is invalid R4 and is counted as unreadable, as before.)
    """
    expected = load(FIXTURES / "expected" / service_id / path.name)
    patient_id = load(path)["context"]["patientId"]
    subject = {"reference": f"Patient/{patient_id}"} if own else None
    rv = post_hook(client, service_id, _with_draft_subject(path, subject))
    assert 200 == rv.status_code, rv.get_json()
    if own:
        assert expected == rv.get_json()
