"""The FHIR client and the hook endpoint against a fault-injecting FHIR server on loopback.

`tests/faultserver.py` is a real HTTP server, so redirects, dripped bodies, hangs and huge pages
go through requests and urllib3 as they would in production. Each hook case asserts a 412
OperationOutcome (never a 500) within a bound of a few deadlines: a correctness bound that proves
the call is cut off, not a performance measurement.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from service import create_app
from service.fhir_client import FhirClient
from service.fhir_client import FhirUnavailable
from service.fhir_client import pooled_session
from service.seams import seams
from tests.conftest import FIXTURES
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import post_hook
from tests.faultserver import FaultServer
from tests.faultserver import fault_server
from tests.faultserver import other_patients_observations
from tests.faultserver import searchset


pytestmark = pytest.mark.integration

TOKEN = "fault-t0ken"
TIMEOUT_S = 1.0
BOUND_S = 3 * TIMEOUT_S  # "returns within about the deadline", generously
PATIENT = {"resourceType": "Patient", "id": "p1"}
EX01 = FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json"


@pytest.fixture(name="fault")
def _fault() -> Iterator[FaultServer]:
    with fault_server() as server:
        yield server


@pytest.fixture(name="elsewhere")
def _elsewhere() -> Iterator[FaultServer]:
    """A second server on another port, answering everything with a Patient."""
    with fault_server() as server:
        server.route("/", "json", body=PATIENT)
        yield server


@pytest.fixture(name="other_host")
def _other_host() -> Iterator[FaultServer]:
    """A server on another loopback address (127.0.0.2), answering everything with a Patient."""
    with fault_server("127.0.0.2") as server:
        server.route("/", "json", body=PATIENT)
        yield server


@pytest.fixture(name="session")
def _session() -> Iterator[requests.Session]:
    """The session as the app builds it (service/seams.py): its adapter lets deadlines cut."""
    with pooled_session() as session:
        yield session


def client_for(fault: FaultServer, session: requests.Session, **limits: Any) -> FhirClient:
    """Return a FhirClient for the fault server's /fhir base with a token."""
    return FhirClient(fault.url("/fhir"), TOKEN, session, TIMEOUT_S, **limits)


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["other-port", "other-host", "outside-base"])
def test_redirect_is_a_failed_fetch_and_not_followed(fault, elsewhere, other_host, session, target):
    """A 302 to another port, host or path is FhirUnavailable; nothing reaches the target."""
    fault.route("/other", "json", body=PATIENT)
    location = {
        "other-port": elsewhere.url("/fhir/Patient/p1"),
        "other-host": other_host.url("/fhir/Patient/p1"),
        "outside-base": fault.url("/other/Patient/p1"),
    }[target]
    fault.route("/fhir/Patient", "redirect", location=location)
    with pytest.raises(FhirUnavailable):
        client_for(fault, session).fetch("Patient/p1")
    assert [] == elsewhere.requests_to() + other_host.requests_to() + fault.requests_to("/other")
    (asked,) = fault.requests_to("/fhir")
    assert f"Bearer {TOKEN}" == asked.headers["Authorization"]


def test_redirect_of_a_later_page_leaves_the_search_partial(fault, session):
    """A `next` page that answers 302 is not followed: the first page stands, and the search
    keeps the failed `next` link so the answer says it is partial (issue 9: "partial for a page
    after the first"; it failed the whole fetch before, which discarded usable data)."""
    observation = {"resourceType": "Observation", "id": "o1", "status": "final"}
    fault.route("/other", "json", body=searchset([]))
    fault.route(
        "/fhir/Observation", "json", body=searchset([observation], fault.url("/fhir/Page2"))
    )
    fault.route("/fhir/Page2", "redirect", location=fault.url("/other/Observation"))
    bundle = client_for(fault, session).fetch("Observation?patient=p1")
    assert ["o1"] == [e["resource"]["id"] for e in bundle["entry"]]
    assert [{"relation": "next", "url": fault.url("/fhir/Page2")}] == bundle["link"]
    assert [] == fault.requests_to("/other")


def test_hook_whose_later_page_fails_answers_with_the_pages_read(fault):
    """The B12 on page 1 still gives its card; every card says the data may be incomplete."""
    first = other_patients_observations("pat-ex01")
    first["link"] = [{"relation": "next", "url": fault.url("/fhir/Page2")}]
    fault.route("/fhir/Observation", "json", body=first)
    fault.route("/fhir/Page2", "status", status=500)
    rv, seconds = call(fault, hook_for(fault))
    assert 200 == rv.status_code, rv.get_json()
    cards = rv.get_json()["cards"]
    assert "b12-neuro-untreated" in {c["source"]["topic"]["code"] for c in cards}
    assert all("incomplete data" in c["detail"] for c in cards)
    assert seconds < BOUND_S


# --- the deadline and the size bounds ----------------------------------------------------------


def test_dripping_body_is_cut_off_at_the_deadline(fault, session):
    """One byte every 0.2 s (a minute of body) fails within a bound of the 1 s deadline."""
    body = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"}
    body["note"] = "x" * 300
    fault.route("/fhir/Patient", "drip", body=body, interval=0.2)
    started = time.monotonic()
    with pytest.raises(FhirUnavailable):
        client_for(fault, session).fetch("Patient/p1")
    assert time.monotonic() - started < BOUND_S


def test_dripping_headers_are_cut_off_at_the_deadline(fault, session):
    """A header block dripped a byte every 0.2 s (each read resets a socket timeout) fails
    within the bound: the deadline's watchdog cuts the socket."""
    fault.route("/fhir/Patient", "drip-headers", interval=0.2)
    started = time.monotonic()
    with pytest.raises(FhirUnavailable, match="deadline"):
        client_for(fault, session).fetch("Patient/p1")
    assert time.monotonic() - started < BOUND_S


def test_hanging_server_is_cut_off_at_the_deadline(fault, session):
    """A server that accepts and never answers fails within the bound."""
    fault.route("/fhir/", "hang")
    started = time.monotonic()
    with pytest.raises(FhirUnavailable):
        client_for(fault, session).fetch("Patient/p1")
    assert time.monotonic() - started < BOUND_S


def test_answer_larger_than_max_bytes_fails(fault, session):
    """A body beyond FHIR_MAX_BYTES stops being read and fails the fetch."""
    fault.route("/fhir/Observation", "huge", entries=2_000)
    with pytest.raises(FhirUnavailable):
        client_for(fault, session, max_bytes=10_000).fetch("Observation?patient=p1")


def test_byte_budget_is_shared_by_every_fetch_of_the_client(fault, session):
    """Two fetches of one hook call share one FHIR_MAX_BYTES budget."""
    fault.route("/fhir/Observation", "huge", entries=100)
    size = len(fault.huge_page(100))
    client = client_for(fault, session, max_bytes=int(size * 1.5))
    assert 100 == len(client.fetch("Observation?patient=p1")["entry"])
    with pytest.raises(FhirUnavailable):
        client.fetch("Observation?patient=p1")


def test_single_page_with_more_than_max_resources_fails(fault, session):
    """FHIR_MAX_RESOURCES holds within one page too: 73,000 entries on one page fail."""
    fault.route("/fhir/Observation", "huge", entries=73_000)
    with pytest.raises(FhirUnavailable):
        client_for(fault, session).fetch("Observation?patient=p1")


def test_endless_next_links_stop_at_the_page_bound(fault, session):
    """Every page linking to one more fails at FHIR_MAX_PAGES, after exactly that many pages."""
    fault.route("/fhir/Observation", "endless-next")
    with pytest.raises(FhirUnavailable):
        client_for(fault, session, max_pages=3).fetch("Observation?patient=p1")
    assert 3 == len(fault.requests_to("/fhir/Observation"))


def test_invalid_json_fails(fault, session):
    """A truncated JSON body is FhirUnavailable."""
    fault.route("/fhir/", "invalid-json")
    with pytest.raises(FhirUnavailable):
        client_for(fault, session).fetch("Patient/p1")


# --- end to end through the Flask app ------------------------------------------------------------


def hook_for(fault: FaultServer, without: tuple[str, ...] = ("observations",)) -> dict[str, Any]:
    """Return ex01 with some prefetch keys removed, fetching from the fault server."""
    body: dict[str, Any] = load(EX01)
    for key in without:
        del body["prefetch"][key]
    body["fhirServer"] = fault.url("/fhir")
    body["fhirAuthorization"] = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300}
    return body


def call(fault: FaultServer, body: dict[str, Any], **config: Any) -> tuple[Any, float]:
    """Post the hook to an app that allowlists the fault server; return the answer and seconds."""
    app = create_app(base_config(FHIR_SERVER_ALLOWLIST=[fault.url("/fhir")], **config))
    started = time.monotonic()
    try:
        rv = post_hook(app.test_client(), "b12-patient-view", body)
    finally:
        seams(app).session.close()
    return rv, time.monotonic() - started


FAULTS = {
    "500": ("status", {"status": 500}),
    "401": ("status", {"status": 401}),
    "redirect-other-port": ("redirect", {"location": "ELSEWHERE"}),
    "redirect-other-host": ("redirect", {"location": "OTHER_HOST"}),
    "redirect-outside-base": ("redirect", {"location": "OUTSIDE"}),
    "drip": ("drip", {"body": searchset([]), "interval": 0.2}),
    "drip-headers": ("drip-headers", {"interval": 0.2}),
    "hang": ("hang", {}),
    "invalid-json": ("invalid-json", {}),
    "endless-next": ("endless-next", {}),
    "huge-page": ("huge", {"entries": 73_000}),
}


@pytest.mark.parametrize("fault_id", list(FAULTS))
def test_hook_with_a_faulty_fhir_server_gives_412_in_time(
    fault, elsewhere, other_host, fault_id, caplog
):
    """Each fault gives a 412 JSON OperationOutcome within the bound; redirects reach nothing."""
    mode, options = FAULTS[fault_id]
    targets = {
        "ELSEWHERE": elsewhere.url("/fhir/Observation"),
        "OTHER_HOST": other_host.url("/fhir/Observation"),
        "OUTSIDE": fault.url("/other/Observation"),
    }
    if "location" in options:
        options = {"location": targets[options["location"]]}
    fault.route("/other", "json", body=other_patients_observations("pat-ex01"))
    fault.route("/fhir/Observation", mode, **options)
    with caplog.at_level(logging.INFO, logger="b12cds"):
        rv, seconds = call(fault, hook_for(fault))
    assert 412 == rv.status_code, rv.get_json()
    assert "OperationOutcome" == rv.get_json()["resourceType"]
    assert seconds < BOUND_S
    assert [] == elsewhere.requests_to() + other_host.requests_to() + fault.requests_to("/other")
    failures = [r for r in caplog.records if r.getMessage() == "fhir fetch failed"]
    assert failures and all(TOKEN not in json.dumps(r.__dict__, default=str) for r in failures)


def test_hook_budget_of_max_bytes_covers_every_key(fault):
    """Two keys fetched concurrently share FHIR_MAX_BYTES: together they are too large, 412."""
    fault.route("/fhir/Observation", "huge", entries=100)
    fault.route("/fhir/Condition", "huge", entries=100)
    size = len(fault.huge_page(100))
    rv, _ = call(
        fault, hook_for(fault, ("observations", "conditions")), FHIR_MAX_BYTES=int(size * 1.5)
    )
    assert 412 == rv.status_code, rv.get_json()


def test_other_patients_fetched_data_never_becomes_this_patients_cards(fault, caplog):
    """Observations (and a Patient) for Patient/other fetched for pat-ex01 are dropped, counted."""
    fault.route("/fhir/Observation", "json", body=other_patients_observations())
    with caplog.at_level(logging.INFO, logger="b12cds"):
        rv, _ = call(fault, hook_for(fault))
    assert 200 == rv.status_code, rv.get_json()
    assert "b12-neuro-untreated" not in {
        c["source"]["topic"]["code"] for c in rv.get_json()["cards"]
    }
    (line,) = [r for r in caplog.records if r.getMessage() == "hook evaluated"]
    assert 2 == line.__dict__["foreign_resources"]
    assert "other" not in json.dumps(line.__dict__["rules"])


def test_own_fetched_data_still_gives_the_card(fault):
    """The same Bundle for the patient in context gives ex01's critical card: filter exact."""
    fault.route("/fhir/Observation", "json", body=other_patients_observations("pat-ex01"))
    rv, _ = call(fault, hook_for(fault))
    assert 200 == rv.status_code, rv.get_json()
    assert "b12-neuro-untreated" in {c["source"]["topic"]["code"] for c in rv.get_json()["cards"]}


def test_other_patients_later_page_is_dropped(fault):
    """A second page for another patient is dropped like the first would be."""
    own = other_patients_observations("pat-ex01")
    own["link"] = [{"relation": "next", "url": fault.url("/fhir/Page2")}]
    own["entry"] = own["entry"][1:]  # the Patient only: the B12 comes on page 2
    fault.route("/fhir/Observation", "json", body=own)
    fault.route("/fhir/Page2", "json", body=other_patients_observations())
    rv, _ = call(fault, hook_for(fault))
    assert 200 == rv.status_code, rv.get_json()
    assert "b12-neuro-untreated" not in {
        c["source"]["topic"]["code"] for c in rv.get_json()["cards"]
    }
