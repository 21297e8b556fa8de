"""Live requests and answers of the app match openapi.yaml (checked with openapi-core)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.testing import MockRequest
from openapi_core.validation.request.exceptions import InvalidRequestBody

from service import create_app
from tests.conftest import CONFORMANCE
from tests.conftest import FIXTURES
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import signed


SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
HOST = "http://localhost"  # openapi.yaml names no server, so any host is the default "/"
SCENARIOS: list[dict[str, Any]] = load(FIXTURES / "scenarios.json")
PATIENT_VIEW = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
FEEDBACK = load(CONFORMANCE / "ahrq" / "feedback.json")


@cache
def api() -> OpenAPI:
    """Return openapi-core's view of openapi.yaml (built once per run)."""
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return OpenAPI.from_dict(yaml.safe_load(handle))


@dataclass(frozen=True)
class Exchange:
    """One live call: the request as openapi-core sees it, and the app's answer."""

    request: MockRequest
    response: WerkzeugOpenAPIResponse
    status: int


def exchange(
    client: FlaskClient,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Exchange:
    """Send a request to the app and return it with the answer, ready for openapi-core."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    sent = dict(headers or {})
    rv = client.open(
        path, method=method.upper(), data=data, content_type=content_type, headers=sent
    )
    request = MockRequest(HOST, method, path, headers=sent, data=data, content_type=content_type)
    return Exchange(request, WerkzeugOpenAPIResponse(rv), rv.status_code)


def check(call: Exchange, status: int, *, request_valid: bool = True) -> None:
    """Assert the status, that the answer matches the spec and, if meant to, the request too."""
    assert status == call.status, call.response.data
    if request_valid:
        api().validate_request(call.request)
    api().validate_response(call.request, call.response)


def test_discovery_matches_the_spec(client):
    """The live discovery document matches DiscoveryResponse."""
    call = exchange(client, "get", "/cds-services", headers=signed("/cds-services"))
    check(call, 200)


def test_health_matches_the_spec(client):
    """The live /healthz answer matches Health."""
    check(exchange(client, "get", "/healthz"), 200)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_fixture_call_and_answer_match_the_spec(scenario):
    """Each fixture hook request matches HookRequest and its 200 answer matches CardsResponse."""
    service_id = scenario["file"].split("/")[0]
    client = create_app(base_config(**scenario.get("config", {}))).test_client()
    url = f"/cds-services/{service_id}"
    body = load(FIXTURES / "hooks" / scenario["file"])
    check(exchange(client, "post", url, body, headers=signed(url)), 200)


@pytest.mark.parametrize("service_id", ["b12-patient-view", "b12-order-sign"])
def test_feedback_matches_the_spec(client, service_id):
    """The AHRQ feedback example matches FeedbackRequest and its 200 answer FeedbackResponse."""
    url = f"/cds-services/{service_id}/feedback"
    check(exchange(client, "post", url, FEEDBACK, headers=signed(url)), 200)


def test_400_hook_mismatch_matches_the_spec(client):
    """A request for another hook breaks the service's request schema and is a 400 whose body
    matches OperationOutcome."""
    url = "/cds-services/b12-order-sign"
    call = exchange(client, "post", url, PATIENT_VIEW, headers=signed(url))
    check(call, 400, request_valid=False)
    with pytest.raises(InvalidRequestBody):
        api().validate_request(call.request)


def test_400_malformed_json_matches_the_spec(client):
    """Malformed JSON is a 400 whose body matches OperationOutcome."""
    url = "/cds-services/b12-patient-view"
    call = exchange(client, "post", url, raw=b'{"hook": ', headers=signed(url))
    check(call, 400, request_valid=False)


def test_400_invalid_feedback_matches_the_spec(client):
    """Invalid feedback is a 400 whose body matches OperationOutcome."""
    url = "/cds-services/b12-patient-view/feedback"
    body = {"feedback": [{"card": "c", "outcome": "rejected", "outcomeTimestamp": "2026-11-29"}]}
    check(exchange(client, "post", url, body, headers=signed(url)), 400, request_valid=False)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/cds-services", None),
        ("post", "/cds-services/b12-patient-view", PATIENT_VIEW),
        ("post", "/cds-services/b12-patient-view/feedback", FEEDBACK),
    ],
    ids=["discovery", "call", "feedback"],
)
def test_401_matches_the_spec(client, method, path, body):
    """A call without a token is a 401 whose body matches OperationOutcome."""
    check(exchange(client, method, path, body), 401, request_valid=False)


@pytest.mark.parametrize(
    "path", ["/cds-services/b12-nope", "/cds-services/b12-nope/feedback"], ids=["call", "feedback"]
)
def test_404_matches_the_spec(client, path):
    """An unknown service id is a 404 whose body matches OperationOutcome."""
    body = PATIENT_VIEW if not path.endswith("feedback") else FEEDBACK
    check(exchange(client, "post", path, body, headers=signed(path)), 404, request_valid=False)


def test_412_matches_the_spec(client):
    """Missing prefetch with no FHIR access is a 412 for a valid request, matching the spec."""
    body = copy.deepcopy(PATIENT_VIEW)
    del body["prefetch"]["observations"]
    url = "/cds-services/b12-patient-view"
    check(exchange(client, "post", url, body, headers=signed(url)), 412)


def test_413_matches_the_spec():
    """A body over MAX_CONTENT_LENGTH is a 413 whose body matches OperationOutcome."""
    client = create_app(base_config(MAX_CONTENT_LENGTH=256)).test_client()
    url = "/cds-services/b12-patient-view"
    check(exchange(client, "post", url, PATIENT_VIEW, headers=signed(url)), 413)


@pytest.mark.parametrize(
    "path", ["/cds-services/b12-patient-view", "/cds-services/b12-patient-view/feedback"]
)
def test_415_matches_the_spec(client, path):
    """A text/plain body is a 415 whose body matches OperationOutcome."""
    call = exchange(
        client, "post", path, raw=b"{}", content_type="text/plain", headers=signed(path)
    )
    check(call, 415, request_valid=False)


def test_preflight_matches_the_spec():
    """A CORS preflight is answered as CorsPreflight documents, without a token."""
    client = create_app(base_config(CORS_ORIGINS=["https://sandbox.cds-hooks.org"])).test_client()
    headers = {
        "Origin": "https://sandbox.cds-hooks.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    call = exchange(client, "options", "/cds-services/b12-patient-view", headers=headers)
    check(call, 200)
