"""`FhirClient` over a real `requests.Session` against a local FHIR server (pytest-httpserver).

Real sockets matter here: the timeout, paging and status handling are those of requests and
urllib3, not of a mock. A hanging server waits on an event that teardown sets, so the
single-threaded test server is free again as soon as the test ends.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response

from service import create_app
from service.fhir_client import FhirClient
from service.fhir_client import FhirNotFound
from service.fhir_client import FhirUnauthorized
from service.fhir_client import FhirUnavailable
from service.seams import seams
from tests.conftest import FIXTURES
from tests.conftest import TODAY
from tests.conftest import load


pytestmark = pytest.mark.integration

TOKEN = "t0ken"
TIMEOUT_S = 1.0
# A behaviour bound, not a benchmark: generous enough for a loaded CI machine.
SLACK_S = 2.5


def observation(n: int) -> dict[str, Any]:
    """Return a searchset entry holding a minimal Observation."""
    return {"resource": {"resourceType": "Observation", "id": f"obs-{n}", "status": "final"}}


def searchset(entries: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    """Return a searchset Bundle page, with a `next` link if given."""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    if next_url is not None:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


@pytest.fixture(name="session")
def _session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(name="fhir_client")
def _fhir_client(httpserver: HTTPServer, session: requests.Session) -> FhirClient:
    return FhirClient(httpserver.url_for("/fhir"), TOKEN, session, TIMEOUT_S)


@pytest.fixture(name="release")
def _release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # let any hanging handler return at once


def hanging(release: threading.Event, reached: threading.Event | None = None) -> Any:
    """Return a handler that answers only after the client's timeout has passed."""

    def handler(request: Request) -> Response:
        if reached is not None:
            reached.set()
        release.wait(TIMEOUT_S + 0.5)
        return Response('{"resourceType": "Bundle"}', content_type="application/fhir+json")

    return handler


def test_bearer_token_is_sent(httpserver, fhir_client):
    """Every request carries the hook's access token as a Bearer token."""
    patient = {"resourceType": "Patient", "id": "p1"}
    httpserver.expect_request(
        "/fhir/Patient/p1", method="GET", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_json(patient)
    assert patient == fhir_client.fetch("Patient/p1")
    httpserver.check()


def test_three_pages_are_merged(httpserver, fhir_client):
    """A search's `next` links are followed and every page's entries end up in one Bundle."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    queries = ["patient=p1", "patient=p1&page=2", "patient=p1&page=3"]
    for number, query in enumerate(queries):
        following = queries[number + 1] if number + 1 < len(queries) else None
        page = searchset(
            [observation(2 * number), observation(2 * number + 1)],
            httpserver.url_for(f"/fhir/Observation?{following}") if following else None,
        )
        httpserver.expect_request(
            "/fhir/Observation", query_string=query, headers=headers
        ).respond_with_json(page)
    bundle = fhir_client.fetch("Observation?patient=p1")
    assert [f"obs-{n}" for n in range(6)] == [e["resource"]["id"] for e in bundle["entry"]]
    assert "link" not in bundle
    # Count only this search's requests: a late request of an earlier hanging-server test may
    # still reach the shared server.
    assert 3 == sum(1 for request, _ in httpserver.log if request.path == "/fhir/Observation")
    httpserver.check()


def test_hanging_server_gives_unavailable_within_timeout(httpserver, fhir_client, release):
    """A server that does not answer in time gives FhirUnavailable soon after the timeout."""
    reached = threading.Event()
    httpserver.expect_request("/fhir/Patient/p1").respond_with_handler(hanging(release, reached))
    started = time.monotonic()
    with pytest.raises(FhirUnavailable):
        fhir_client.fetch("Patient/p1")
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S
    assert reached.is_set()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        pytest.param(500, FhirUnavailable, id="500"),
        pytest.param(503, FhirUnavailable, id="503"),
        pytest.param(401, FhirUnauthorized, id="401"),
        pytest.param(403, FhirUnauthorized, id="403"),
        pytest.param(404, FhirNotFound, id="404"),
    ],
)
def test_error_status_raises_its_error(httpserver, fhir_client, status, error):
    """Each error status of the FHIR server becomes the client's error for it."""
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]}
    httpserver.expect_request("/fhir/Patient/p1").respond_with_json(outcome, status=status)
    with pytest.raises(error):
        fhir_client.fetch("Patient/p1")


def test_non_json_answer_is_unavailable(httpserver, fhir_client):
    """An HTML page (a login screen, a proxy error) is not FHIR: FhirUnavailable."""
    httpserver.expect_request("/fhir/Patient/p1").respond_with_data(
        "<html>Sign in</html>", content_type="text/html"
    )
    with pytest.raises(FhirUnavailable):
        fhir_client.fetch("Patient/p1")


def test_closed_port_is_unavailable(session):
    """A FHIR server that refuses the connection gives FhirUnavailable."""
    with HTTPServer(host="127.0.0.1", port=0) as server:
        url = server.url_for("/fhir")  # the port is free again once the server stops
    client = FhirClient(url, TOKEN, session, TIMEOUT_S)
    with pytest.raises(FhirUnavailable):
        client.fetch("Patient/p1")


def test_hook_call_with_hanging_fhir_server_gives_412(httpserver, release):
    """A hook whose data must be fetched from a hanging FHIR server answers 412 in time."""
    app = create_app({"REQUIRE_JWT": False, "FHIR_TIMEOUT_S": TIMEOUT_S, "TODAY": TODAY})
    body = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
    del body["prefetch"]
    body["fhirServer"] = httpserver.url_for("/fhir")
    body["fhirAuthorization"] = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300}
    reached = threading.Event()
    httpserver.expect_request(re.compile("^/fhir/"), method="GET").respond_with_handler(
        hanging(release, reached)
    )
    started = time.monotonic()
    try:
        rv = app.test_client().post("/cds-services/b12-patient-view", json=body)
    finally:
        seams(app).session.close()
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S
    assert 412 == rv.status_code
    assert "OperationOutcome" == rv.get_json()["resourceType"]
    assert reached.is_set()  # the 412 came from the hanging server, not from a refusal
