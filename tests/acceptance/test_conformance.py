"""Real CDS Hooks and FHIR examples (tests/conformance/) get the answers the corpus README asks for.

Each request goes through the endpoint of its hook, signed, with the `fhir` mock active and no
stubs. An outbound call would fail inside the service and could hide behind a 412, so every case
also asserts that the service made no outbound call at all.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import pytest
import responses
from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from cards.services import RULES
from service import create_app
from tests.api.test_openapi_spec import SPEC_URI
from tests.api.test_openapi_spec import spec
from tests.api.test_openapi_spec import validator
from tests.conftest import CONFORMANCE
from tests.conftest import FIXTURES
from tests.conftest import PREFETCH_KEYS
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import post_hook
from tests.conftest import signed
from tests.synthea import hook_request_from_chart


SERVICE_IDS = ("b12-patient-view", "b12-order-select", "b12-order-sign")
KEYS = tuple(PREFETCH_KEYS)
DOCUMENTS = sorted(
    p.relative_to(CONFORMANCE).as_posix()
    for p in CONFORMANCE.glob("*/*.json")
    if p.parent.name != "synthea"
)
MALFORMED = [
    ("spec/patient-view-request-extension-no-patientid.json", "b12-patient-view"),
    ("hook-library/order-select-r4-context.json", "b12-order-select"),
    ("hook-library/order-sign-r4-context.json", "b12-order-sign"),
    ("hook-library/patient-view-context-1.json", "b12-patient-view"),
    ("hook-library/patient-view-context-2.json", "b12-patient-view"),
]
UNHANDLED_HOOKS = [
    "crd/CRDServiceRequest2.json",  # order-dispatch
    "crd/CRDServiceRequest4.json",  # appointment-book
    "inferno/fancy_structure_hook_request.json",  # fancy-structure
]
# Nothing B12-relevant is ordered, so no chart data is needed and none is fetched.
NO_ADVICE = [
    ("crd/CRDServiceRequest.json", "b12-order-sign"),
    ("crd/CRDServiceRequest3.json", "b12-order-sign"),
    ("spec/order-sign-request-prefetch-pagination.json", "b12-order-sign"),
    ("epic/order-select-epic-apporchard.json", "b12-order-select"),
]
# Inferno's samples put drafts for Patient/1288992 in a request whose patientId is "example": a
# draft for another patient than the one in context is refused (400), whatever it orders.
OTHER_PATIENT_DRAFTS = [
    ("inferno/order_select_hook_request.json", "b12-order-select"),
    ("inferno/order_sign_hook_request.json", "b12-order-sign"),
]
# Patient-view always needs the chart: none of our keys is prefetched, and the FHIR server is
# missing, unauthorised (no fhirAuthorization) or not one the test issuer may name.
PRECONDITION_FAILED = [
    "spec/patient-view-request.json",
    "ahrq/Cher186_Crooks415.json",
    "ahrq/Adrian111_Wunsch504.json",
    "ahrq/unhealthy_patient.json",
]
SPEC_RESPONSES = [
    "spec/response-cards.json",
    "crd/CRDServiceResponse.json",
    "crd/CRDServiceResponse2.json",
    "crd/CRDServiceResponse3.json",
    "inferno/valid_cards.json",
]
ISAIAH = CONFORMANCE / "synthea" / "Isaiah_Schaden_b6b36717-6ad2-433d-bf5c-6c77bc2fcd96.json"
VITO = CONFORMANCE / "synthea" / "Vito_Feeney_63dd4423-56ec-4f40-9dd6-82bc133aaddc.json"
EPIC_TOKEN = "redacted-expired-access-token"


def conformance(relative: str) -> Any:
    """Return a corpus document (a fresh copy each time)."""
    return load(CONFORMANCE / relative)


def answer(client: FlaskClient, fhir: responses.RequestsMock, service_id: str, body: Any) -> Any:
    """Post a hook request, assert that nothing was fetched, and return the response."""
    rv = post_hook(client, service_id, body)
    assert [] == [call.request.url for call in fhir.calls]
    return rv


def enveloped(relative: str, hook: str) -> dict[str, Any]:
    """Return a context-only hook-library file inside the spec's patient-view request."""
    document = conformance(relative)
    envelope: dict[str, Any] = conformance("spec/patient-view-request.json")
    envelope["hook"] = hook
    envelope["context"] = document.get("context", document)  # some files are the bare context
    return envelope


def spec_response_validator() -> OAS31Validator:
    """Return a validator of a CDS Hooks 2.0 response: spec `Card`s and `SystemAction`s."""
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    schema = {
        "type": "object",
        "required": ["cards"],
        "properties": {
            "cards": {"type": "array", "items": {"$ref": f"{SPEC_URI}#/components/schemas/Card"}},
            "systemActions": {
                "type": "array",
                "items": {"$ref": f"{SPEC_URI}#/components/schemas/SystemAction"},
            },
        },
    }
    return OAS31Validator(schema, registry=registry, format_checker=OAS31Validator.FORMAT_CHECKER)


def rule_ids(body: dict[str, Any]) -> set[str]:
    """Return the rule ids of the cards in an answer."""
    return {card["source"]["topic"]["code"] for card in body["cards"]}


@pytest.mark.parametrize("service_id", SERVICE_IDS)
@pytest.mark.parametrize("relative", DOCUMENTS)
def test_no_corpus_document_gets_a_5xx(client, fhir, relative, service_id):
    """Every corpus document posted to every service gets a JSON answer below 500, no fetch."""
    rv = answer(client, fhir, service_id, conformance(relative))
    assert rv.status_code < 500, rv.get_json()
    assert "application/json" == rv.mimetype


@pytest.mark.parametrize(("relative", "service_id"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_request_gets_400(client, fhir, relative, service_id):
    """A request without hook, hookInstance or a required context field gets 400."""
    rv = answer(client, fhir, service_id, conformance(relative))
    assert 400 == rv.status_code
    body = rv.get_json()
    assert ("OperationOutcome", "invalid") == (body["resourceType"], body["issue"][0]["code"])


def test_missing_patient_id_is_named(client, fhir):
    """The spec's extension example is refused for its missing context.patientId only."""
    body = conformance("spec/patient-view-request-extension-no-patientid.json")
    rv = answer(client, fhir, "b12-patient-view", body)
    assert ["context.patientId"] == rv.get_json()["issue"][0]["expression"]


@pytest.mark.parametrize("service_id", SERVICE_IDS)
@pytest.mark.parametrize("relative", UNHANDLED_HOOKS)
def test_unhandled_hook_gets_400(client, fhir, relative, service_id):
    """A hook no b12 service answers (order-dispatch, appointment-book, ...) gets 400."""
    rv = answer(client, fhir, service_id, conformance(relative))
    assert 400 == rv.status_code
    assert ["hook"] == rv.get_json()["issue"][0]["expression"]


@pytest.mark.parametrize(
    ("relative", "hook", "status", "cards"),
    [
        pytest.param(f"hook-library/{name}.json", hook, status, cards, id=name)
        for name, hook, status, cards in [
            ("order-select-r4-context", "order-select", 200, []),
            ("order-sign-r4-context", "order-sign", 200, []),
            ("patient-view-context-1", "patient-view", 412, None),
            ("patient-view-context-2", "patient-view", 412, None),
        ]
    ],
)
def test_hook_library_context_in_an_envelope_is_valid(client, fhir, relative, hook, status, cards):
    """Inside a request envelope the hook-library contexts are valid requests.

    The order contexts (NutritionOrder, amoxicillin) need no B12 advice: 200 with no cards.
    Patient-view needs the chart, which the envelope neither prefetches under our keys nor lets
    us fetch (its fhirServer is not one the test issuer may name): 412.
    """
    rv = answer(client, fhir, f"b12-{hook}", enveloped(relative, hook))
    assert status == rv.status_code, rv.get_json()
    if cards is not None:
        assert {"cards": cards} == rv.get_json()


@pytest.mark.parametrize(
    "relative",
    ["hook-library/patient-view-context-1.json", "hook-library/patient-view-context-2.json"],
)
def test_patient_view_context_with_null_prefetch_answers(client, fhir, relative):
    """A PractitionerRole userId or a missing encounterId is fine: with no data, no cards."""
    body = enveloped(relative, "patient-view")
    body["prefetch"] = dict.fromkeys(KEYS)
    rv = answer(client, fhir, "b12-patient-view", body)
    assert 200 == rv.status_code, rv.get_json()
    assert {"cards": []} == rv.get_json()


@pytest.mark.parametrize(("relative", "service_id"), NO_ADVICE, ids=[n[0] for n in NO_ADVICE])
def test_request_with_nothing_relevant_gets_no_cards(client, fhir, relative, service_id):
    """Order requests with no B12-relevant order get 200 with no cards, without a fetch."""
    rv = answer(client, fhir, service_id, conformance(relative))
    assert 200 == rv.status_code, rv.get_json()
    assert {"cards": []} == rv.get_json()


@pytest.mark.parametrize(
    ("relative", "service_id"), OTHER_PATIENT_DRAFTS, ids=[n[0] for n in OTHER_PATIENT_DRAFTS]
)
def test_drafts_for_another_patient_get_400(client, fhir, relative, service_id):
    """Drafts naming another patient than context.patientId: 400 that echoes neither id."""
    rv = answer(client, fhir, service_id, conformance(relative))
    assert 400 == rv.status_code, rv.get_json()
    assert ["context.draftOrders"] == rv.get_json()["issue"][0]["expression"]
    assert "1288992" not in rv.get_data(as_text=True)
    assert '"example"' not in rv.get_data(as_text=True)


@pytest.mark.parametrize(
    ("relative", "service_id"), OTHER_PATIENT_DRAFTS, ids=[n[0] for n in OTHER_PATIENT_DRAFTS]
)
def test_same_drafts_for_the_patient_in_context_get_no_cards(client, fhir, relative, service_id):
    """With patientId matching the drafts' subject, Inferno's requests get 200 and no cards."""
    body = conformance(relative)
    body["context"]["patientId"] = "1288992"
    rv = answer(client, fhir, service_id, body)
    assert 200 == rv.status_code, rv.get_json()
    assert {"cards": []} == rv.get_json()


def test_epic_access_token_is_never_logged(client, fhir, caplog):
    """Epic's order-select is decided from its medicationReference displays; no token in logs."""
    caplog.set_level(logging.DEBUG)
    rv = answer(
        client, fhir, "b12-order-select", conformance("epic/order-select-epic-apporchard.json")
    )
    assert {"cards": []} == rv.get_json()
    assert caplog.records
    assert EPIC_TOKEN not in caplog.text


@pytest.mark.parametrize("relative", PRECONDITION_FAILED)
def test_patient_view_without_our_data_gets_412(client, fhir, relative):
    """A patient-view whose data is neither prefetched under our keys nor fetchable gets 412."""
    rv = answer(client, fhir, "b12-patient-view", conformance(relative))
    assert 412 == rv.status_code
    body = rv.get_json()
    validator("OperationOutcome").validate(body)
    assert sorted(f"prefetch.{key}" for key in KEYS) == body["issue"][0]["expression"]


def test_412_body_has_the_spec_example_members(client, fhir):
    """Our 412 body carries every member of the specification's 412 OperationOutcome example."""
    example = conformance("spec/operationoutcome-412-missing-prefetch.json")
    rv = answer(client, fhir, "b12-patient-view", conformance("spec/patient-view-request.json"))
    issue = rv.get_json()["issue"][0]
    assert set(example["issue"][0]) <= set(issue)
    assert (example["issue"][0]["severity"], example["issue"][0]["code"]) == (
        issue["severity"],
        issue["code"],
    )
    assert set(example["issue"][0]["details"]) <= set(issue["details"])


def test_unknown_fields_do_not_change_the_answer(client, fhir):
    """Extensions, extra fhirAuthorization members and unknown context keys are ignored."""
    body = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
    plain = post_hook(client, "b12-patient-view", body).get_json()
    decorated = copy.deepcopy(body)
    decorated["extension"] = conformance("crd/CRDServiceRequest.json")["extension"]
    decorated["extension"].update(
        conformance("epic/order-select-epic-apporchard.json")["extension"]
    )
    decorated["fhirAuthorization"] = {
        "access_token": "opaque",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "app",
        "patient": "pat-ex01",
    }
    decorated["context"]["com.example.unknown"] = [{"id": {"nested": True}}, {"id": "x"}]
    rv = answer(client, fhir, "b12-patient-view", decorated)
    assert 200 == rv.status_code, rv.get_json()
    assert plain == rv.get_json()


def test_ahrq_feedback_is_accepted(tmp_path):
    """The AHRQ feedback body (accepted and overridden items) is accepted."""
    config = base_config(FEEDBACK_DATABASE_URL=f"sqlite:///{tmp_path / 'feedback.db'}")
    client = create_app(config).test_client()
    url = "/cds-services/b12-patient-view/feedback"
    rv = client.post(url, json=conformance("ahrq/feedback.json"), headers=signed(url))
    assert 200 == rv.status_code, rv.get_json()


@pytest.mark.parametrize("relative", SPEC_RESPONSES)
def test_spec_response_is_a_valid_cds_hooks_response(relative):
    """Real responses validate as CDS Hooks 2.0 (spec `Card`, not our stricter `B12Card`)."""
    body = conformance(relative)
    if isinstance(body, list):  # inferno/valid_cards.json is a bare list of cards
        body = {"cards": body}
    assert [] == [e.message for e in spec_response_validator().iter_errors(body)]


def test_autolaunchable_card_without_indicator_is_flagged():
    """The spec's autolaunchable example card is flagged for its missing `indicator`."""
    body = conformance("spec/response-autolaunchable-card.json")
    messages = [e.message for e in spec_response_validator().iter_errors(body)]
    assert ["'indicator' is a required property"] == messages


def test_discovery_has_the_spec_example_members(client):
    """Each of our services has every member the spec's discovery example gives all of its own."""
    example = conformance("spec/discovery-response.json")["services"]
    common = set.intersection(*(set(service) for service in example))
    rv = client.get("/cds-services", headers=signed("/cds-services"))
    validator("DiscoveryResponse").validate(rv.get_json())
    for service in rv.get_json()["services"]:
        assert common <= set(service), service["id"]


def test_synthea_chart_on_metformin_gets_only_the_metformin_card(client, fhir):
    """Isaiah Schaden (metformin since 1991, no B12 lab ever) gets metformin-monitoring only.

    The card asks for a B12 test and names the real exposure start and length (§7.11).
    """
    rv = answer(client, fhir, "b12-patient-view", hook_request_from_chart(ISAIAH))
    assert 200 == rv.status_code, rv.get_json()
    assert {"metformin-monitoring"} == rule_ids(rv.get_json()) & set(RULES)
    (card,) = rv.get_json()["cards"]
    assert "years" in card["summary"]
    codes = [
        c["code"]
        for s in card["suggestions"]
        for c in s["actions"][0]["resource"]["code"]["coding"]
    ]
    assert ["2132-9"] == codes


def test_deceased_patient_gets_no_cards(client, fhir):
    """Vito Feeney died in 1979 with "active" medications: a deceased patient gets no advice."""
    rv = answer(client, fhir, "b12-patient-view", hook_request_from_chart(VITO))
    assert 200 == rv.status_code, rv.get_json()
    assert {"cards": []} == rv.get_json()


@pytest.mark.parametrize("chart", [ISAIAH, VITO], ids=lambda p: Path(p).stem.split("_")[1])
def test_synthea_request_has_every_prefetch_key(chart):
    """The chart helper fills every prefetch key, with the chart's Patient in context."""
    body = hook_request_from_chart(chart)
    assert set(KEYS) == set(body["prefetch"])
    assert body["prefetch"]["patient"]["id"] == body["context"]["patientId"]
    assert all(
        entry["resource"]["resourceType"] == "Observation"
        for entry in body["prefetch"]["observations"]["entry"]
    )
