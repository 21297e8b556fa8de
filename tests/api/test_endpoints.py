"""Every endpoint and status code of the contract, through the Flask test client."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask.testing import FlaskClient

from service import create_app
from tests.conftest import CONFORMANCE
from tests.conftest import FIXTURES
from tests.conftest import PREFETCH_KEYS
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import post_hook
from tests.conftest import signed


HOOKS = FIXTURES / "hooks"
SCENARIOS: list[dict[str, Any]] = load(FIXTURES / "scenarios.json")
SCENARIO_IDS = [s["file"] for s in SCENARIOS]
SERVICES = {
    "b12-patient-view": "patient-view",
    "b12-order-select": "order-select",
    "b12-order-sign": "order-sign",
}
QUERY_PARAMETERS = {"patient", "code", "_sort", "_count", "date", "status", "category"}
SENTINEL = "SECRET-PATIENT-NAME"

PATIENT_VIEW = load(HOOKS / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
ORDER_SELECT = load(HOOKS / "b12-order-select" / "ex14-folic-acid-deficient.json")
ORDER_SIGN = load(HOOKS / "b12-order-sign" / "ex15-folic-acid-with-hydroxocobalamin.json")
NO_ADVICE = load(HOOKS / "b12-patient-view" / "ex04-normal-pmol.json")
FEEDBACK = load(CONFORMANCE / "ahrq" / "feedback.json")


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    """Return a deep copy of a body with the member at `path` removed."""
    changed = copy.deepcopy(body)
    node = changed
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return changed


def replaced(body: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """Return a deep copy of a body with the member at `path` set to `value`."""
    changed = copy.deepcopy(body)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


def post_raw(
    client: FlaskClient, url: str, data: bytes | str | dict[str, str], content_type: str | None
) -> Any:
    """POST a raw body with a given Content-Type, signed for the URL."""
    return client.post(url, data=data, content_type=content_type, headers=signed(url))


def outcome(rv: Any, status: int) -> dict[str, Any]:
    """Check an error answer is a JSON OperationOutcome with this status; return its issue."""
    assert status == rv.status_code, rv.get_data(as_text=True)
    assert "application/json" == rv.mimetype
    text = rv.get_data(as_text=True)
    assert "Traceback" not in text
    assert "<html" not in text.lower()
    assert "<!doctype" not in text.lower()
    body = rv.get_json()
    assert "OperationOutcome" == body["resourceType"]
    issue: dict[str, Any] = body["issue"][0]
    assert "error" == issue["severity"]
    assert isinstance(issue["code"], str) and issue["code"]
    assert isinstance(issue["diagnostics"], str) and issue["diagnostics"]
    return issue


def answer(scenario: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a scenario's hook request and the 200 answer of its service."""
    service_id = scenario["file"].split("/")[0]
    request = load(HOOKS / scenario["file"])
    app = create_app(base_config(**scenario.get("config", {})))
    rv = post_hook(app.test_client(), service_id, request)
    assert 200 == rv.status_code, rv.get_json()
    body: dict[str, Any] = rv.get_json()
    return request, body


def empties(value: Any, where: str = "$") -> Iterator[str]:
    """Yield the path of every null, empty string, empty list and empty object in a value."""
    if value is None or value == "" or value == [] or value == {}:
        yield where
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from empties(child, f"{where}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from empties(child, f"{where}[{index}]")


def actions(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield every suggestion action of every card."""
    for card in body["cards"]:
        for suggestion in card.get("suggestions", []):
            yield from suggestion["actions"]


def uuids(body: dict[str, Any]) -> list[str]:
    """Return the card and suggestion uuids of an answer, in order."""
    found = []
    for card in body["cards"]:
        found.append(card["uuid"])
        found.extend(s["uuid"] for s in card.get("suggestions", []))
    return found


def discovered(client: FlaskClient) -> dict[str, dict[str, Any]]:
    """Return the discovery document's services by id."""
    rv = client.get("/cds-services", headers=signed("/cds-services"))
    assert 200 == rv.status_code
    return {service["id"]: service for service in rv.get_json()["services"]}


# ---- discovery ---------------------------------------------------------------------------------


def test_discovery_lists_exactly_the_three_services(client):
    """Discovery lists the three fixed services, each with its hook, title and description."""
    services = discovered(client)
    assert SERVICES == {sid: service["hook"] for sid, service in services.items()}
    for service in services.values():
        assert isinstance(service["title"], str) and service["title"].strip()
        assert isinstance(service["description"], str) and service["description"].strip()


@pytest.mark.parametrize("service_id", list(SERVICES))
def test_discovery_declares_the_seven_prefetch_keys(client, service_id):
    """Each service declares the seven contract prefetch keys, each a query on its resource type."""
    prefetch = discovered(client)[service_id]["prefetch"]
    assert set(PREFETCH_KEYS) == set(prefetch)
    assert "Patient/{{context.patientId}}" == prefetch["patient"]
    for key, resource_type in PREFETCH_KEYS.items():
        if key != "patient":
            assert (
                f"{resource_type}?patient={{{{context.patientId}}}}"
                == (prefetch[key].split("&")[0])
            )


@pytest.mark.parametrize("service_id", list(SERVICES))
def test_prefetch_templates_use_only_2_0_tokens(client, service_id):
    """Every template uses only the {{context.patientId}} token and 2.0 search parameters."""
    for template in discovered(client)[service_id]["prefetch"].values():
        assert ["context.patientId"] == sorted(set(re.findall(r"\{\{\s*(.*?)\s*\}\}", template)))
        assert "{{Patient.id}}" not in template and "{{User.id}}" not in template
        _, _, query = template.partition("?")
        names = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
        assert set() == names - QUERY_PARAMETERS


@pytest.mark.parametrize("service_id", list(SERVICES))
def test_observations_template_filters_by_loinc_code(client, service_id):
    """The observations template asks only for the rules' LOINC codes, newest first, bounded."""
    template = discovered(client)[service_id]["prefetch"]["observations"]
    path, _, query = template.partition("?")
    params = dict(parse_qsl(query.replace("{{context.patientId}}", "PID")))
    assert "Observation" == path
    assert "PID" == params["patient"]
    codes = params["code"].split(",")
    assert all(c.startswith("http://loinc.org|") for c in codes), codes
    loinc = {c.removeprefix("http://loinc.org|") for c in codes}
    assert {"2132-9", "13964-2", "2823-3"} <= loinc
    assert "16695-9" not in loinc
    assert "-date" == params["_sort"]
    assert int(params["_count"]) > 0


def test_discovery_answer_has_no_empty_values(client):
    """The discovery document has no null, empty string, empty list or empty object."""
    rv = client.get("/cds-services", headers=signed("/cds-services"))
    assert [] == list(empties(rv.get_json()))


# ---- service calls: 200 ------------------------------------------------------------------------


def test_fixture_call_answers_cards(client):
    """A fixture hook request is answered 200 with its cards as JSON."""
    rv = post_hook(client, "b12-patient-view", PATIENT_VIEW)
    assert 200 == rv.status_code
    assert "application/json" == rv.mimetype
    rules = {card["source"]["topic"]["code"] for card in rv.get_json()["cards"]}
    assert "b12-neuro-untreated" in rules


def test_call_with_no_advice_answers_empty_cards(client):
    """A patient with nothing to advise gets 200 and exactly {"cards": []}."""
    rv = post_hook(client, "b12-patient-view", NO_ADVICE)
    assert 200 == rv.status_code
    assert {"cards": []} == rv.get_json()


@pytest.mark.parametrize(
    ("service_id", "body"),
    [("b12-patient-view", PATIENT_VIEW), ("b12-order-select", ORDER_SELECT)],
    ids=["patient-view", "order-select-with-delete"],
)
def test_uuids_are_deterministic(client, service_id, body):
    """A request sent again or with a new hookInstance gets the same card and suggestion uuids."""
    first = post_hook(client, service_id, body).get_json()
    again = post_hook(client, service_id, body).get_json()
    other = replaced(body, ("hookInstance",), "0b5e2b8e-5c0e-4c1a-9d59-1f6f8b0f6a11")
    moved = post_hook(client, service_id, other).get_json()
    assert uuids(first)
    assert uuids(first) == uuids(again)
    assert uuids(first) == uuids(moved)


# ---- response hygiene over every fixture --------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_answer_has_no_empty_values(scenario):
    """No card holds a null, empty string, empty list or empty object anywhere."""
    _, body = answer(scenario)
    found = [w for i, card in enumerate(body["cards"]) for w in empties(card, f"$.cards[{i}]")]
    others = {key: value for key, value in body.items() if key != "cards"}  # `[]` cards is fine
    found += [w for key, value in others.items() for w in empties(value, f"$.{key}")]
    assert [] == found


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_card_summaries_fit_139_characters(scenario):
    """Every card summary is at most 139 characters."""
    _, body = answer(scenario)
    assert [] == [c["summary"] for c in body["cards"] if len(c["summary"]) > 139]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_selection_behaviour_present_iff_suggestions(scenario):
    """A card has selectionBehavior exactly when it has suggestions."""
    _, body = answer(scenario)
    for card in body["cards"]:
        assert ("suggestions" in card) == ("selectionBehavior" in card), card["uuid"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_delete_actions_name_a_draft_order(scenario):
    """A delete action names, as a relative reference, a draft in the request's draftOrders."""
    request, body = answer(scenario)
    entries = request["context"].get("draftOrders", {}).get("entry", [])
    drafts = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries}
    for action in actions(body):
        if action["type"] == "delete":
            assert action["resourceId"] in drafts
            assert "resource" not in action


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_create_actions_are_drafts_for_the_patient_in_context(scenario):
    """A create action carries a draft resource whose subject is the patient in context."""
    request, body = answer(scenario)
    patient = f"Patient/{request['context']['patientId']}"
    for action in actions(body):
        if action["type"] == "create":
            resource = action["resource"]
            assert patient == resource["subject"]["reference"]
            assert "draft" == resource["status"]
            assert "resourceId" not in action


# ---- 400 ---------------------------------------------------------------------------------------


BAD_REQUESTS = [
    pytest.param("b12-patient-view", [PATIENT_VIEW], id="json-array"),
    pytest.param("b12-patient-view", "patient-view", id="json-string"),
    pytest.param("b12-patient-view", without(PATIENT_VIEW, "hook"), id="missing-hook"),
    pytest.param(
        "b12-patient-view", without(PATIENT_VIEW, "hookInstance"), id="missing-hookInstance"
    ),
    pytest.param("b12-patient-view", without(PATIENT_VIEW, "context"), id="missing-context"),
    pytest.param(
        "b12-patient-view", replaced(PATIENT_VIEW, ("context",), "pat-1"), id="context-not-object"
    ),
    pytest.param(
        "b12-patient-view",
        without(PATIENT_VIEW, "context", "patientId"),
        id="missing-context-patientId",
    ),
    pytest.param(
        "b12-patient-view",
        load(CONFORMANCE / "spec" / "patient-view-request-extension-no-patientid.json"),
        id="spec-extension-example-without-patientId",
    ),
    pytest.param("b12-patient-view", ORDER_SELECT, id="order-select-to-patient-view"),
    pytest.param("b12-order-sign", PATIENT_VIEW, id="patient-view-to-order-sign"),
    pytest.param("b12-order-select", ORDER_SIGN, id="order-sign-to-order-select"),
    pytest.param(
        "b12-order-select",
        without(ORDER_SELECT, "context", "selections"),
        id="order-select-without-selections",
    ),
    pytest.param(
        "b12-order-sign",
        replaced(ORDER_SIGN, ("context", "draftOrders"), {"resourceType": "Patient", "id": "p"}),
        id="draftOrders-not-a-bundle",
    ),
    pytest.param(
        "b12-order-sign",
        replaced(ORDER_SIGN, ("context", "draftOrders"), [{"resourceType": "MedicationRequest"}]),
        id="draftOrders-a-list",
    ),
    pytest.param(
        "b12-order-sign", without(ORDER_SIGN, "context", "draftOrders"), id="missing-draftOrders"
    ),
    pytest.param(
        "b12-patient-view",
        replaced(PATIENT_VIEW, ("fhirServer",), "fhir.example.org/r4"),
        id="fhirServer-not-a-url",
    ),
    pytest.param(
        "b12-patient-view", replaced(PATIENT_VIEW, ("hookInstance",), 42), id="hookInstance-number"
    ),
    pytest.param(
        "b12-patient-view", replaced(PATIENT_VIEW, ("prefetch",), "all"), id="prefetch-not-object"
    ),
    pytest.param(
        "b12-patient-view",
        replaced(PATIENT_VIEW, ("fhirAuthorization",), {"token_type": "Bearer"}),
        id="fhirAuthorization-without-token",
    ),
]


@pytest.mark.parametrize(("service_id", "body"), BAD_REQUESTS)
def test_invalid_hook_request_is_400(client, service_id, body):
    """An invalid hook request, or one for another hook, is a 400 OperationOutcome."""
    rv = post_hook(client, service_id, body)
    assert "invalid" == outcome(rv, 400)["code"]


@pytest.mark.parametrize(
    "data", [b'{"hook": "patient-view",', b"", b"\xff\xfe{}", b"{'hook': 1}"], ids=repr
)
def test_malformed_json_is_400(client, data):
    """A body that is not valid JSON, sent as application/json, is a 400."""
    rv = post_raw(client, "/cds-services/b12-patient-view", data, "application/json")
    assert "invalid" == outcome(rv, 400)["code"]


SENTINEL_BODIES = [
    pytest.param(
        "b12-patient-view", replaced(PATIENT_VIEW, ("fhirServer",), SENTINEL), id="fhirServer"
    ),
    pytest.param(
        "b12-patient-view",
        replaced(PATIENT_VIEW, ("context", "patientId"), {"name": SENTINEL}),
        id="context.patientId",
    ),
    pytest.param(
        "b12-patient-view",
        replaced(PATIENT_VIEW, ("hookInstance",), [SENTINEL]),
        id="hookInstance",
    ),
    pytest.param(
        "b12-order-sign",
        replaced(ORDER_SIGN, ("context", "draftOrders"), SENTINEL),
        id="context.draftOrders",
    ),
    pytest.param(
        "b12-order-select",
        replaced(ORDER_SELECT, ("context", "selections"), SENTINEL),
        id="context.selections",
    ),
    pytest.param("b12-patient-view", replaced(PATIENT_VIEW, ("hook",), SENTINEL), id="hook"),
]


@pytest.mark.parametrize(("service_id", "body"), SENTINEL_BODIES)
def test_bad_request_never_echoes_input(client, service_id, body):
    """A 400 answer names the invalid field but never repeats the value that was sent."""
    rv = post_hook(client, service_id, body)
    outcome(rv, 400)
    assert SENTINEL not in rv.get_data(as_text=True)


HOOK_INSTANCE_WITH_PATIENT_DATA = f"name={SENTINEL};birthDate=1950-01-02;" + "x" * (1024 * 1024)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(HOOK_INSTANCE_WITH_PATIENT_DATA, id="1-MiB"),
        pytest.param("a" * 129, id="129-characters"),
        pytest.param(f"{SENTINEL} Smith", id="with-a-space"),
        pytest.param(f"{SENTINEL}\n1950-01-02", id="with-a-newline"),
        pytest.param(f"{SENTINEL}\u00e9", id="not-ascii"),
        pytest.param("", id="empty"),
    ],
)
def test_hook_instance_that_could_carry_patient_data_is_400(client, caplog, value):
    """hookInstance is logged with every call: anything but 1-128 visible ASCII characters is
    refused (400), and neither the answer nor the log repeats it."""
    rv = post_hook(client, "b12-patient-view", replaced(PATIENT_VIEW, ("hookInstance",), value))
    assert "invalid" == outcome(rv, 400)["code"]
    assert SENTINEL not in rv.get_data(as_text=True)
    assert all(SENTINEL not in record.getMessage() for record in caplog.records)
    assert all(SENTINEL not in str(record.__dict__) for record in caplog.records)


@pytest.mark.parametrize(
    "value",
    ["d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "a" * 128, "epic:ORD-12345|enc.7/2026-12-04T10:00Z"],
    ids=["uuid", "128-characters", "ehr-id"],
)
def test_hook_instance_of_a_uuid_or_an_ehr_id_is_accepted(client, value):
    rv = post_hook(client, "b12-patient-view", replaced(PATIENT_VIEW, ("hookInstance",), value))
    assert 200 == rv.status_code, rv.get_data(as_text=True)


def test_malformed_json_is_not_echoed(client):
    """The 400 for malformed JSON does not repeat the body."""
    data = '{"name": "' + SENTINEL + '",'
    rv = post_raw(client, "/cds-services/b12-patient-view", data, "application/json")
    outcome(rv, 400)
    assert SENTINEL not in rv.get_data(as_text=True)


# ---- 404, 405 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/cds-services/b12-nope", "/cds-services/b12-nope/feedback"], ids=["call", "feedback"]
)
def test_unknown_service_is_404(client, url):
    """A call or feedback for a service id not in discovery is a 404 OperationOutcome."""
    rv = client.post(url, json=FEEDBACK, headers=signed(url))
    assert "not-found" == outcome(rv, 404)["code"]


@pytest.mark.parametrize("url", ["/nope", "/cds-services/b12-patient-view/extra/path"])
def test_unknown_route_is_404(client, url):
    """A path the service does not have is a JSON 404, not an HTML page."""
    rv = client.get(url, headers=signed(url))
    outcome(rv, 404)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/cds-services/b12-patient-view"),
        ("delete", "/cds-services/b12-order-sign"),
        ("put", "/cds-services"),
        ("get", "/cds-services/b12-patient-view/feedback"),
    ],
)
def test_wrong_method_is_405(client, method, url):
    """A method the endpoint does not take is a JSON 405 that says which methods it takes."""
    rv = getattr(client, method)(url, headers=signed(url))
    outcome(rv, 405)
    assert rv.headers["Allow"]


# ---- 412 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        without(without(PATIENT_VIEW, "prefetch", "observations"), "fhirServer"),
        without(PATIENT_VIEW, "prefetch", "observations"),
        without(PATIENT_VIEW, "prefetch"),
        replaced(PATIENT_VIEW, ("prefetch", "conditions"), {"resourceType": "OperationOutcome"}),
    ],
    ids=["no-fhirServer", "no-fhirAuthorization", "no-prefetch", "operation-outcome"],
)
def test_missing_prefetch_without_fhir_access_is_412(client, fhir, body):
    """Prefetch data that is absent and cannot be fetched is a 412, and nothing is fetched."""
    rv = post_hook(client, "b12-patient-view", body)
    outcome(rv, 412)
    assert 0 == len(fhir.calls)


# ---- 413 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/cds-services/b12-patient-view", PATIENT_VIEW),
        ("/cds-services/b12-patient-view/feedback", FEEDBACK),
    ],
    ids=["call", "feedback"],
)
def test_body_over_the_limit_is_413(url, body):
    """A body larger than MAX_CONTENT_LENGTH is a JSON 413."""
    client = create_app(base_config(MAX_CONTENT_LENGTH=256)).test_client()
    rv = client.post(url, json=body, headers=signed(url))
    outcome(rv, 413)


# ---- 415 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ('{"hook": "patient-view"}', "text/plain"),
        ({"hook": "patient-view"}, "application/x-www-form-urlencoded"),
        ({"hook": "patient-view"}, "multipart/form-data"),
        (b'{"hook": "patient-view"}', None),
    ],
    ids=["text-plain", "form-urlencoded", "multipart-form", "no-content-type"],
)
@pytest.mark.parametrize(
    "url", ["/cds-services/b12-patient-view", "/cds-services/b12-patient-view/feedback"]
)
def test_body_that_is_not_json_is_415(client, url, data, content_type):
    """A call or feedback whose body is not declared JSON is a 415 OperationOutcome."""
    rv = post_raw(client, url, data, content_type)
    assert "not-supported" == outcome(rv, 415)["code"]


# ---- feedback ----------------------------------------------------------------------------------


@pytest.mark.parametrize("service_id", list(SERVICES))
def test_valid_feedback_is_200(client, service_id):
    """The AHRQ feedback example is accepted with 200 and a JSON object."""
    url = f"/cds-services/{service_id}/feedback"
    rv = client.post(url, json=FEEDBACK, headers=signed(url))
    assert 200 == rv.status_code
    assert "application/json" == rv.mimetype
    assert {} == rv.get_json()


def feedback_item(**changes: Any) -> dict[str, Any]:
    """Return a valid overridden feedback item with some members changed."""
    item = {
        "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-29T10:10:23Z",
    }
    item.update(changes)
    return item


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"feedback": [feedback_item(outcome="rejected")]}, id="bad-outcome"),
        pytest.param({"feedback": [without(feedback_item(), "card")]}, id="missing-card"),
        pytest.param(
            {"feedback": [without(feedback_item(), "outcomeTimestamp")]}, id="missing-timestamp"
        ),
        pytest.param(
            {"feedback": [feedback_item(outcomeTimestamp="yesterday")]}, id="bad-timestamp"
        ),
        pytest.param({"feedback": []}, id="no-items"),
        pytest.param({}, id="no-feedback-member"),
        pytest.param([feedback_item()], id="json-array"),
        pytest.param({"feedback": [feedback_item(outcome=SENTINEL)]}, id="sentinel-outcome"),
    ],
)
def test_invalid_feedback_is_400(client, body):
    """A feedback body that breaks the CDS Hooks feedback shape is a 400 that echoes nothing."""
    url = "/cds-services/b12-patient-view/feedback"
    rv = client.post(url, json=body, headers=signed(url))
    assert "invalid" == outcome(rv, 400)["code"]
    assert SENTINEL not in rv.get_data(as_text=True)


def test_malformed_feedback_json_is_400(client):
    """Feedback that is not valid JSON, sent as application/json, is a 400."""
    url = "/cds-services/b12-patient-view/feedback"
    rv = post_raw(client, url, b'{"feedback": [', "application/json")
    outcome(rv, 400)


# ---- health ------------------------------------------------------------------------------------


def test_health_is_ok_without_a_token(client):
    """/healthz answers 200 with status ok and the three services, without a token."""
    rv = client.get("/healthz")
    assert 200 == rv.status_code
    assert "application/json" == rv.mimetype
    body = rv.get_json()
    assert "ok" == body["status"]
    assert 3 == body["services"]


def test_order_select_before_any_selection_gives_no_cards(client: FlaskClient) -> None:
    """An order-select with nothing selected yet (the Sandbox's first call) gets no cards."""
    body = {
        "hook": "order-select",
        "hookInstance": "sandbox-first-call",
        "fhirServer": "https://sandbox.example/fhir",
        "context": {
            "userId": "Practitioner/1",
            "patientId": "p1",
            "selections": [],
            "draftOrders": {"resourceType": "Bundle", "entry": []},
        },
    }
    rv = post_hook(client, "b12-order-select", body)
    assert (200, {"cards": []}) == (rv.status_code, rv.get_json())


def test_fixture_feedback_names_real_cards_and_is_accepted(client: FlaskClient) -> None:
    """The README's feedback fixture names cards and a suggestion the service really sends."""
    body = load(FIXTURES / "feedback" / "patient-view-feedback.json")
    sent = {
        card["uuid"]: {s["uuid"] for s in card.get("suggestions", [])}
        for name in ("ex01-neuro-paraesthesia", "ex07-indeterminate-no-mma")
        for card in load(FIXTURES / "expected" / "b12-patient-view" / f"{name}.json")["cards"]
    }
    for item in body["feedback"]:
        accepted = {s["id"] for s in item.get("acceptedSuggestions", [])}
        assert accepted <= sent[item["card"]]
    url = "/cds-services/b12-patient-view/feedback"
    rv = client.post(url, json=body, headers=signed(url))
    assert (200, {}) == (rv.status_code, rv.get_json())


def test_accepted_feedback_without_suggestions_is_400(client: FlaskClient) -> None:
    """CDS Hooks 2.0 requires acceptedSuggestions when a card's outcome is accepted."""
    body = {
        "feedback": [
            {"card": "c1", "outcome": "accepted", "outcomeTimestamp": "2026-11-29T10:00:00Z"}
        ]
    }
    url = "/cds-services/b12-patient-view/feedback"
    assert 400 == client.post(url, json=body, headers=signed(url)).status_code
