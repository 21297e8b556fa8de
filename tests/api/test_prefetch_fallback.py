"""Prefetch keys the EHR left out are fetched from `fhirServer`; when that fails the answer is 412.

Every case starts from a fully prefetched fixture hook request, removes or changes prefetch keys,
names `FHIR` (which the test issuer may name) as `fhirServer` with a Bearer token, and stubs the
FHIR searches the discovery templates render. The `fhir` mock fails on unused stubs; an unstubbed
call fails inside the service (and would only give a 412), so cases that must not reach the FHIR
server also assert that `fhir.calls` is empty.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
import responses
from flask.testing import FlaskClient
from responses import matchers

from service import create_app
from tests.conftest import CONFORMANCE
from tests.conftest import FHIR
from tests.conftest import FIXTURES
from tests.conftest import PREFETCH_KEYS
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import post_hook
from tests.conftest import signed


SERVICE_ID = "b12-patient-view"
HOOKS = FIXTURES / "hooks" / SERVICE_ID
EXPECTED = FIXTURES / "expected" / SERVICE_ID
EX01 = "ex01-neuro-paraesthesia.json"
PAGED = "haematologic-response-fires-poor-response.json"  # five Observations to split in pages
KEYS = tuple(PREFETCH_KEYS)
TOKEN = "t0ken"
AUTHORIZATION = {
    "access_token": TOKEN,
    "token_type": "Bearer",
    "expires_in": 300,
    "scope": "patient/*.read",
    "subject": "app",
}
BEARER = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
EVIL = "https://evil.example/fhir"
EMPTY_SEARCHSET = {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}
# Epic's answer to a search with no match: a searchset whose only entry is an outcome.
OUTCOME_ONLY_SEARCHSET = {
    "resourceType": "Bundle",
    "type": "searchset",
    "total": 0,
    "entry": [
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "information",
                        "code": "informational",
                        "details": {"text": "No matching results were found."},
                    }
                ],
            },
            "search": {"mode": "outcome"},
        }
    ],
}
ERROR_OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "not-found", "diagnostics": "not prefetched"}],
}
PAGINATION = CONFORMANCE / "spec" / "order-sign-request-prefetch-pagination.json"


@pytest.fixture(name="templates")
def _templates(client: FlaskClient) -> dict[str, str]:
    """Return the patient-view prefetch templates as discovery publishes them."""
    rv = client.get("/cds-services", headers=signed("/cds-services"))
    assert 200 == rv.status_code
    service = next(s for s in rv.get_json()["services"] if s["id"] == SERVICE_ID)
    assert set(KEYS) == set(service["prefetch"])
    templates: dict[str, str] = service["prefetch"]
    return templates


def hook(name: str = EX01, without: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    """Return a fixture hook request without some prefetch keys, with fhirServer and a token."""
    body: dict[str, Any] = load(HOOKS / name)
    for key in without:
        del body["prefetch"][key]
    if not body["prefetch"]:
        del body["prefetch"]
    body["fhirServer"] = FHIR
    body["fhirAuthorization"] = dict(AUTHORIZATION)
    body.update(changes)
    return body


def prefetched(name: str, key: str) -> Any:
    """Return one prefetch value of a fixture hook request."""
    return load(HOOKS / name)["prefetch"][key]


def expected(name: str = EX01) -> Any:
    """Return the reviewed answer to a fully prefetched fixture hook request."""
    return load(EXPECTED / name)


def search(template: str, patient_id: str) -> tuple[str, dict[str, str]]:
    """Return the path and query parameters a prefetch template renders for a patient."""
    path, _, query = template.replace("{{context.patientId}}", patient_id).partition("?")
    return path, dict(parse_qsl(query))


def stub(
    fhir: responses.RequestsMock,
    template: str,
    patient_id: str,
    base: str = FHIR,
    **response: Any,
) -> None:
    """Answer the search a template renders, only when it carries the hook's Bearer token."""
    path, params = search(template, patient_id)
    match = [matchers.query_param_matcher(params), BEARER]
    fhir.add(responses.GET, f"{base}/{path}", match=match, **response)


def page(name: str, key: str, start: int, stop: int | None, next_url: str | None) -> Any:
    """Return a slice of a prefetched searchset as one page, with a `next` link if given."""
    bundle = copy.deepcopy(prefetched(name, key))
    bundle["entry"] = bundle["entry"][start:stop]
    if next_url is not None:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def outbound(fhir: responses.RequestsMock) -> list[str]:
    """Return the URL of every outbound call the service made, matched or not."""
    return [call.request.url for call in fhir.calls]


def assert_precondition_failed(rv: Any, key: str) -> None:
    """Assert a 412 OperationOutcome that names the prefetch key."""
    assert 412 == rv.status_code
    body = rv.get_json()
    assert "OperationOutcome" == body["resourceType"]
    assert "error" == body["issue"][0]["severity"]
    assert f"prefetch.{key}" in body["issue"][0]["expression"]


@pytest.mark.parametrize("key", KEYS)
def test_absent_key_is_fetched_with_hook_token(client, fhir, templates, key):
    """A prefetch key the EHR left out is fetched with its template and the hook's token."""
    stub(fhir, templates[key], "pat-ex01", json=prefetched(EX01, key))
    rv = post_hook(client, SERVICE_ID, hook(without=(key,)))
    assert 200 == rv.status_code, rv.get_json()
    assert expected() == rv.get_json()


def test_all_absent_keys_are_fetched(client, fhir, templates):
    """With no prefetch at all, every key is fetched and the answer is the prefetched one."""
    for key in KEYS:
        stub(fhir, templates[key], "pat-ex01", json=prefetched(EX01, key))
    rv = post_hook(client, SERVICE_ID, hook(without=KEYS))
    assert 200 == rv.status_code, rv.get_json()
    assert expected() == rv.get_json()
    assert len(KEYS) == len(fhir.calls)


def test_absent_keys_are_fetched_concurrently(client, fhir, templates):
    """All absent keys are in flight at once: each stub waits until every other one is called."""
    barrier = threading.Barrier(len(KEYS), timeout=5)

    def answer(key: str) -> Any:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            barrier.wait()  # BrokenBarrierError (a 500) if the fetches ran one by one
            return 200, {}, json.dumps(prefetched(EX01, key))

        return callback

    for key in KEYS:
        path, params = search(templates[key], "pat-ex01")
        fhir.add_callback(
            responses.GET,
            f"{FHIR}/{path}",
            callback=answer(key),
            content_type="application/fhir+json",
            match=[matchers.query_param_matcher(params), BEARER],
        )
    rv = post_hook(client, SERVICE_ID, hook(without=KEYS))
    assert 200 == rv.status_code, rv.get_json()
    assert expected() == rv.get_json()


def test_operation_outcome_prefetch_is_fetched_again(client, fhir, templates):
    """A prefetch value that is an OperationOutcome counts as absent and is fetched."""
    stub(fhir, templates["observations"], "pat-ex01", json=prefetched(EX01, "observations"))
    body = hook()
    body["prefetch"]["observations"] = ERROR_OUTCOME
    rv = post_hook(client, SERVICE_ID, body)
    assert 200 == rv.status_code, rv.get_json()
    assert expected() == rv.get_json()


@pytest.mark.parametrize("key", KEYS)
def test_null_prefetch_is_no_data_and_not_fetched(client, fhir, key):
    """A `null` prefetch value means no data: the answer is that of an empty one, no request."""
    empty = hook()
    empty["prefetch"][key] = EMPTY_SEARCHSET
    null = hook()
    null["prefetch"][key] = None
    rv = post_hook(client, SERVICE_ID, null)
    assert 200 == rv.status_code, rv.get_json()
    assert post_hook(client, SERVICE_ID, empty).get_json() == rv.get_json()
    assert [] == outbound(fhir)


def test_null_prefetch_of_empty_key_keeps_the_answer(client, fhir):
    """A `null` for a key with no data gives the fully prefetched answer, without a request."""
    body = hook()
    body["prefetch"]["medicationRequests"] = None
    rv = post_hook(client, SERVICE_ID, body)
    assert expected() == rv.get_json()
    assert [] == outbound(fhir)


def test_outcome_only_searchset_is_no_data_and_not_fetched(client, fhir):
    """Epic's empty search (only an OperationOutcome entry, mode outcome) is no data."""
    empty = hook()
    empty["prefetch"]["conditions"] = EMPTY_SEARCHSET
    outcome = hook()
    outcome["prefetch"]["conditions"] = OUTCOME_ONLY_SEARCHSET
    rv = post_hook(client, SERVICE_ID, outcome)
    assert 200 == rv.status_code, rv.get_json()
    assert post_hook(client, SERVICE_ID, empty).get_json() == rv.get_json()
    assert expected() != rv.get_json()  # the paraesthesia Condition really is gone
    assert [] == outbound(fhir)


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"status": 500, "json": ERROR_OUTCOME}, id="500"),
        pytest.param({"status": 503, "body": "Service Unavailable"}, id="503"),
        pytest.param({"status": 401, "json": ERROR_OUTCOME}, id="401"),
        pytest.param({"status": 403, "json": ERROR_OUTCOME}, id="403"),
        pytest.param({"status": 404, "json": ERROR_OUTCOME}, id="404"),
        pytest.param({"body": requests.exceptions.ConnectionError()}, id="connection-error"),
        pytest.param({"body": requests.exceptions.ReadTimeout()}, id="read-timeout"),
        pytest.param({"body": requests.exceptions.ConnectTimeout()}, id="connect-timeout"),
        pytest.param({"body": "<html>login</html>", "content_type": "text/html"}, id="not-json"),
        pytest.param({"json": ["not", "a", "resource"]}, id="json-not-a-resource"),
    ],
)
def test_fhir_failure_gives_412(client, fhir, templates, response):
    """When the FHIR server fails, refuses the token or answers nonsense, the answer is 412."""
    stub(fhir, templates["observations"], "pat-ex01", **response)
    rv = post_hook(client, SERVICE_ID, hook(without=("observations",)))
    assert_precondition_failed(rv, "observations")


def test_fhir_failure_of_one_key_gives_412_naming_it(client, fhir, templates):
    """When one of several fetched keys fails, the 412 names that key and the others succeed."""
    stub(fhir, templates["observations"], "pat-ex01", json=prefetched(EX01, "observations"))
    stub(fhir, templates["conditions"], "pat-ex01", status=500)
    rv = post_hook(client, SERVICE_ID, hook(without=("observations", "conditions")))
    assert_precondition_failed(rv, "conditions")
    assert ["prefetch.conditions"] == rv.get_json()["issue"][0]["expression"]


def test_next_link_is_followed_and_pages_merged(client, fhir, templates):
    """A fetched searchset's `next` page is fetched with the token and merged into the first."""
    second = f"{FHIR}/Observation?patient=pat-h-poor&_page=2"
    stub(
        fhir,
        templates["observations"],
        "pat-h-poor",
        json=page(PAGED, "observations", 0, 3, second),
    )
    fhir.add(
        responses.GET,
        f"{FHIR}/Observation",
        json=page(PAGED, "observations", 3, None, None),
        match=[matchers.query_param_matcher({"patient": "pat-h-poor", "_page": "2"}), BEARER],
    )
    rv = post_hook(client, SERVICE_ID, hook(PAGED, without=("observations",)))
    assert 200 == rv.status_code, rv.get_json()
    assert expected(PAGED) == rv.get_json()
    first_page_only = hook(PAGED)
    first_page_only["prefetch"]["observations"] = page(PAGED, "observations", 0, 3, None)
    assert expected(PAGED) != post_hook(client, SERVICE_ID, first_page_only).get_json()


def test_prefetched_next_page_is_fetched_and_merged(client, fhir):
    """A prefetched searchset with a `next` link is completed from the FHIR server."""
    second = f"{FHIR}/Observation?patient=pat-h-poor&_page=2"
    fhir.add(
        responses.GET,
        f"{FHIR}/Observation",
        json=page(PAGED, "observations", 3, None, None),
        match=[matchers.query_param_matcher({"patient": "pat-h-poor", "_page": "2"}), BEARER],
    )
    body = hook(PAGED)
    body["prefetch"]["observations"] = page(PAGED, "observations", 0, 3, second)
    rv = post_hook(client, SERVICE_ID, body)
    assert 200 == rv.status_code, rv.get_json()
    assert expected(PAGED) == rv.get_json()


def test_next_link_to_another_host_is_not_followed(client, fhir, templates):
    """A `next` link outside fhirServer is never requested (the token stays home). Like any page
    after the first that cannot be read, it leaves the answer partial: the cards from page 1,
    each saying the data may be incomplete (issue 9; this gave 412 before, discarding page 1)."""
    elsewhere = f"{EVIL}/Observation?patient=pat-h-poor&_page=2"
    stub(
        fhir,
        templates["observations"],
        "pat-h-poor",
        json=page(PAGED, "observations", 0, 3, elsewhere),
    )
    rv = post_hook(client, SERVICE_ID, hook(PAGED, without=("observations",)))
    assert 200 == rv.status_code, rv.get_json()
    cards = rv.get_json()["cards"]
    assert cards
    assert all("incomplete data" in card["detail"] for card in cards)
    assert 1 == len(fhir.calls)
    assert not any(url.startswith(EVIL) for url in outbound(fhir))


def test_page_bound_exceeded_gives_412(fhir, templates):
    """A search with more pages than FHIR_MAX_PAGES is not followed forever: 412."""
    client = create_app(base_config(FHIR_MAX_PAGES=2)).test_client()
    second = f"{FHIR}/Observation?patient=pat-h-poor&_page=2"
    third = f"{FHIR}/Observation?patient=pat-h-poor&_page=3"
    stub(
        fhir,
        templates["observations"],
        "pat-h-poor",
        json=page(PAGED, "observations", 0, 2, second),
    )
    fhir.add(
        responses.GET,
        f"{FHIR}/Observation",
        json=page(PAGED, "observations", 2, 4, third),
        match=[matchers.query_param_matcher({"patient": "pat-h-poor", "_page": "2"}), BEARER],
    )
    rv = post_hook(client, SERVICE_ID, hook(PAGED, without=("observations",)))
    assert_precondition_failed(rv, "observations")
    assert third not in outbound(fhir)


def test_no_fhir_authorization_gives_412_without_request(client, fhir):
    """Without fhirAuthorization an absent key cannot be fetched: 412 and no request."""
    body = hook(without=("observations",))
    del body["fhirAuthorization"]
    rv = post_hook(client, SERVICE_ID, body)
    assert_precondition_failed(rv, "observations")
    assert [] == outbound(fhir)


def test_no_fhir_server_gives_412_without_request(client, fhir):
    """Without fhirServer an absent key cannot be fetched: 412 and no request."""
    body = hook(without=("observations",))
    del body["fhirServer"]
    rv = post_hook(client, SERVICE_ID, body)
    assert_precondition_failed(rv, "observations")
    assert [] == outbound(fhir)


def test_fhir_server_not_allowlisted_gives_412_without_request(client, fhir):
    """A fhirServer the issuer may not name is never contacted with the token: 412."""
    rv = post_hook(client, SERVICE_ID, hook(without=("observations",), fhirServer=EVIL))
    assert_precondition_failed(rv, "observations")
    assert [] == outbound(fhir)


@pytest.mark.parametrize(
    "server",
    [
        pytest.param("https://fhir.example.org.evil.example/r4", id="longer-host-name"),
        pytest.param("https://fhir.example.org@evil.example/r4", id="userinfo"),
        pytest.param("https://fhir.example.org:8443/r4", id="other-port"),
    ],
)
def test_allowlist_prefix_matches_whole_hosts(fhir, server):
    """An allowlisted origin does not also allow host names or userinfo that start with it."""
    config = base_config(FHIR_SERVER_ALLOWLIST=["https://fhir.example.org"])
    client = create_app(config).test_client()
    rv = post_hook(client, SERVICE_ID, hook(without=("observations",), fhirServer=server))
    assert_precondition_failed(rv, "observations")
    assert [] == outbound(fhir)


def test_configured_allowlist_admits_its_servers(fhir, templates):
    """A server in FHIR_SERVER_ALLOWLIST is fetched from, though the issuer does not name it."""
    other = "https://other.example/fhir"
    client = create_app(base_config(FHIR_SERVER_ALLOWLIST=[other])).test_client()
    stub(
        fhir,
        templates["observations"],
        "pat-ex01",
        base=other,
        json=prefetched(EX01, "observations"),
    )
    rv = post_hook(client, SERVICE_ID, hook(without=("observations",), fhirServer=other))
    assert 200 == rv.status_code, rv.get_json()
    assert expected() == rv.get_json()


def test_any_fhir_server_is_fetched_in_local_development(fhir, templates):
    """With REQUIRE_JWT false and no allowlist, any fhirServer is fetched from."""
    client = create_app(base_config(REQUIRE_JWT=False)).test_client()
    stub(
        fhir,
        templates["observations"],
        "pat-ex01",
        base=EVIL,
        json=prefetched(EX01, "observations"),
    )
    url = f"/cds-services/{SERVICE_ID}"
    rv = client.post(url, json=hook(without=("observations",), fhirServer=EVIL))
    assert 200 == rv.status_code, rv.get_json()
    assert expected() == rv.get_json()


def _pagination(**draft: Any) -> dict[str, Any]:
    """Return the specification's paginated-prefetch order-sign request, the draft changed."""
    body: dict[str, Any] = load(PAGINATION)
    body["context"]["draftOrders"]["entry"][0]["resource"].update(draft)
    return body


def test_spec_pagination_example_answers_without_fetching(client, fhir):
    """The spec's paginated example (amoxicillin draft, metformin page) needs no B12 advice."""
    rv = post_hook(client, "b12-order-sign", _pagination())
    assert 200 == rv.status_code
    assert {"cards": []} == rv.get_json()
    assert [] == outbound(fhir)


def test_spec_pagination_example_with_folic_acid_needs_our_data(client, fhir):
    """A folic acid draft (U+2011 id, text only) makes the order relevant: 412 without our keys."""
    folic_acid = {"medicationCodeableConcept": {"text": "Folic acid 5 mg tablet"}}
    rv = post_hook(client, "b12-order-sign", _pagination(**folic_acid))
    assert_precondition_failed(rv, "observations")
    assert [] == outbound(fhir)


def test_partial_prefetch_without_authorization_says_it_is_partial(client, fhir):
    """A first page whose `next` cannot be fetched is used, and the card says data is missing."""
    body = _pagination(medicationCodeableConcept={"text": "Folic acid 5 mg tablet"})
    keys: Mapping[str, Any] = {k: None for k in KEYS}
    body["prefetch"] = {**keys, "medicationRequests": body["prefetch"]["orders"]}
    rv = post_hook(client, "b12-order-sign", body)
    assert 200 == rv.status_code, rv.get_json()
    cards = rv.get_json()["cards"]
    assert ["folate-before-b12"] == [c["source"]["topic"]["code"] for c in cards]
    assert "incomplete data" in cards[0]["detail"]
    assert [] == outbound(fhir)
