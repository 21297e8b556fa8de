"""`openapi.yaml` is valid OpenAPI 3.1 and matches the contract and real examples."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.exceptions import ValidationError
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest
from openapi_core.testing import MockResponse
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012


ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi.yaml"
CONFORMANCE = ROOT / "tests" / "conformance"
SPEC_URI = "https://b12-cds.example/openapi.yaml"  # a base URI so `#/components/...` refs resolve

SERVICE_IDS = {"b12-patient-view", "b12-order-select", "b12-order-sign"}
SERVICE_PATHS = [f"/cds-services/{service_id}" for service_id in sorted(SERVICE_IDS)]
CONTRACT_OPERATIONS = [
    ("/cds-services", "get"),
    *[(path, "post") for path in SERVICE_PATHS],
    ("/cds-services/{id}", "post"),
    ("/cds-services/{id}/feedback", "post"),
    ("/healthz", "get"),
]
SERVICE_ERRORS = ["400", "401", "404", "412", "413", "415"]


@cache
def spec() -> dict[str, Any]:
    """Return the parsed OpenAPI document (read once per test run)."""
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)  # type: ignore[no-any-return]  # YAML is untyped


def validator(schema_name: str) -> OAS31Validator:
    """Return a validator for one component schema, with every $ref resolvable."""
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return OAS31Validator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=OAS31Validator.FORMAT_CHECKER,
    )


def conformance(relative: str) -> Any:
    """Return a conformance example copied into tests/conformance/."""
    return json.loads((CONFORMANCE / relative).read_text(encoding="utf-8"))


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` inside the document, if the node is one."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = spec()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return resolve(target)


def media_examples() -> list[Any]:
    """Return (id, schema name, example value) for every example on a request or response."""
    found = []
    for path, item in spec()["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            bodies = [("request", operation.get("requestBody", {}))]
            bodies += [(status, resolve(r)) for status, r in operation["responses"].items()]
            for where, body in bodies:
                for media in body.get("content", {}).values():
                    if "$ref" not in media["schema"]:
                        continue  # an inline schema (the unknown-service body) has no examples
                    name = media["schema"]["$ref"].rsplit("/", 1)[-1]
                    for key, example in media.get("examples", {}).items():
                        label = f"{method.upper()} {path} {where} {key}"
                        found.append(pytest.param(name, example["value"], id=label))
    return found


def test_document_is_valid_openapi_3_1():
    """The document passes openapi-spec-validator as OpenAPI 3.1."""
    document = spec()
    validate(document)
    assert "3.1.0" == document["openapi"]


@pytest.mark.parametrize(("path", "method"), CONTRACT_OPERATIONS, ids=lambda v: str(v))
def test_contract_operation_is_documented(path, method):
    """Every contract endpoint is in the document with a CORS preflight beside it."""
    item = spec()["paths"][path]
    assert method in item
    assert [] == item["options"]["security"]


def test_service_ids_are_the_contract_ids():
    """The `{id}` path parameter lists exactly the three fixed service ids."""
    parameter = spec()["components"]["parameters"]["ServiceId"]
    assert SERVICE_IDS == set(parameter["schema"]["enum"])


@pytest.mark.parametrize("path", SERVICE_PATHS)
@pytest.mark.parametrize("status", SERVICE_ERRORS)
def test_service_call_errors_are_operation_outcomes(path, status):
    """Each contract error status of a service call answers a JSON OperationOutcome."""
    response = resolve(spec()["paths"][path]["post"]["responses"][status])
    schema = response["content"]["application/json"]["schema"]
    assert "#/components/schemas/OperationOutcome" == schema["$ref"]


def test_bearer_jwt_guards_calls_but_not_health():
    """Service calls need the client JWT; the health check does not."""
    document = spec()
    scheme = document["components"]["securitySchemes"]["cdsClientJwt"]
    assert ("http", "bearer", "JWT") == (scheme["type"], scheme["scheme"], scheme["bearerFormat"])
    assert [{"cdsClientJwt": []}] == document["security"]
    assert [] == document["paths"]["/healthz"]["get"]["security"]
    assert "REQUIRE_JWT=false" in document["info"]["description"]


@pytest.mark.parametrize(("schema_name", "example"), media_examples())
def test_every_example_matches_its_schema(schema_name, example):
    """Each request and response example in the document validates against its schema."""
    validator(schema_name).validate(example)


@pytest.mark.parametrize(
    ("relative", "schema_name"),
    [
        ("spec/discovery-response.json", "DiscoveryResponse"),
        ("spec/operationoutcome-412-missing-prefetch.json", "OperationOutcome"),
        ("ahrq/feedback.json", "FeedbackRequest"),
        ("spec/patient-view-request.json", "HookRequest"),
        ("spec/order-sign-request-prefetch-pagination.json", "HookRequest"),
        ("crd/CRDServiceRequest.json", "HookRequest"),
        ("inferno/order_select_hook_request.json", "HookRequest"),
    ],
)
def test_conformance_example_matches_schema(relative, schema_name):
    """A real CDS Hooks example is accepted by the matching component schema."""
    validator(schema_name).validate(conformance(relative))


@pytest.mark.parametrize("index", [0, 1])
def test_spec_example_cards_are_valid_cards(index):
    """Both cards of the specification's example response are valid CDS Hooks cards."""
    validator("Card").validate(conformance("spec/response-cards.json")["cards"][index])


def test_patient_view_request_without_patient_id_is_rejected():
    """The spec's extension example has no `context.patientId`, which patient-view requires."""
    body = conformance("spec/patient-view-request-extension-no-patientid.json")
    error = next(validator("HookRequest").iter_errors(body))
    assert ["context"] == list(error.path)
    assert any("'patientId' is a required property" == e.message for e in error.context or [])


def test_spec_card_without_indicator_is_rejected():
    """The spec's autolaunchable example card lacks the required `indicator`."""
    body = conformance("spec/response-autolaunchable-card.json")["cards"][0]
    messages = [e.message for e in validator("Card").iter_errors(body)]
    assert ["'indicator' is a required property"] == messages


def test_spec_card_without_uuid_is_not_a_b12_card():
    """Our own cards must carry a uuid and detail, which the spec leaves optional."""
    with pytest.raises(ValidationError):
        validator("B12Card").validate(conformance("spec/response-cards.json")["cards"][1])


def card(**changes: Any) -> dict[str, Any]:
    """Return a minimal valid CDS Hooks card with some fields changed."""
    return {"summary": "B12 low", "indicator": "info", "source": {"label": "NICE"}} | changes


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        pytest.param({}, True, id="minimal"),
        pytest.param({"summary": "x" * 139}, True, id="summary-139"),
        pytest.param({"summary": "x" * 140}, False, id="summary-140"),
        pytest.param({"indicator": "hard-stop"}, False, id="unknown-indicator"),
        pytest.param({"extension": {"a": 1}}, True, id="extra-field-allowed"),
        pytest.param(
            {"suggestions": [{"label": "Drop", "actions": [{"type": "delete"}]}]},
            False,
            id="suggestions-need-selection-behaviour-and-description",
        ),
        pytest.param(
            {
                "selectionBehavior": "any",
                "suggestions": [
                    {
                        "label": "Drop",
                        "actions": [{"type": "delete", "description": "x", "resourceId": "MR/1"}],
                    }
                ],
            },
            True,
            id="delete-suggestion",
        ),
        pytest.param({"overrideReasons": [{"code": "x"}]}, False, id="override-needs-display"),
    ],
)
def test_card_schema_follows_cds_hooks(changes, valid):
    """The Card schema enforces what CDS Hooks 2.0 requires and nothing more."""
    errors = list(validator("Card").iter_errors(card(**changes)))
    assert valid is (not errors)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        pytest.param({"patient": None}, True, id="null-value"),
        pytest.param({"patient": {"resourceType": "Patient"}}, True, id="resource"),
        pytest.param({"patient": "Patient/1"}, False, id="string"),
        pytest.param({"patient": {"id": "1"}}, False, id="no-resourceType"),
    ],
)
def test_prefetch_values_are_resources_or_null(body, valid):
    """A prefetch value is a FHIR resource or an explicit null."""
    errors = list(validator("Prefetch").iter_errors(body))
    assert valid is (not errors)


@pytest.mark.parametrize(
    ("item", "valid"),
    [
        pytest.param(
            {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-03-14T10:00:00Z"},
            True,
            id="overridden",
        ),
        pytest.param(
            {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2026-03-14T10:00:00Z"},
            False,
            id="accepted-without-suggestions",
        ),
        pytest.param(
            {"card": "c", "outcome": "rejected", "outcomeTimestamp": "2026-03-14T10:00:00Z"},
            False,
            id="unknown-outcome",
        ),
        pytest.param(
            {"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"},
            False,
            id="timestamp-not-date-time",
        ),
    ],
)
def test_feedback_items(item, valid):
    """Feedback items follow CDS Hooks 2.0, accepted outcomes naming their suggestions."""
    errors = list(validator("FeedbackRequest").iter_errors({"feedback": [item]}))
    assert valid is (not errors)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        pytest.param({"status": "ok", "version": "0.1.0", "services": 3}, True, id="ok"),
        pytest.param(
            {"status": "degraded", "version": "0.1.0", "services": 3, "checks": {"db": "down"}},
            True,
            id="degraded-with-checks",
        ),
        pytest.param({"status": "fine", "version": "0.1.0", "services": 3}, False, id="bad-status"),
        pytest.param({"status": "ok", "services": 3}, False, id="no-version"),
    ],
)
def test_health_body(body, valid):
    """The health body has a status of ok or degraded, a version and a service count."""
    errors = list(validator("Health").iter_errors(body))
    assert valid is (not errors)


def test_operation_outcome_requires_its_resource_type():
    """An error body that is not an OperationOutcome is rejected."""
    body = {"resourceType": "Patient", "issue": [{"severity": "error", "code": "invalid"}]}
    with pytest.raises(ValidationError):
        validator("OperationOutcome").validate(body)


def test_openapi_core_checks_a_call_round_trip():
    """openapi-core accepts the spec's patient-view request and an empty cards answer."""
    api = OpenAPI.from_dict(spec())
    body = (CONFORMANCE / "spec" / "patient-view-request.json").read_bytes()
    url = "/cds-services/b12-patient-view"
    headers = {"Authorization": "Bearer test-jwt"}  # the scheme is checked here, not the token
    request = MockRequest(
        "http://localhost", "post", url, headers=headers, data=body, content_type="application/json"
    )
    api.validate_request(request)
    api.validate_response(request, MockResponse(b'{"cards": []}', content_type="application/json"))
