"""Hypothesis bodies and resources get a 4xx or cards, never a 500 or a `null`."""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.conftest import load


BASE = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
ORDER = load(FIXTURES / "hooks" / "b12-order-select" / "ex14-folic-acid-deficient.json")
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
odd_number = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.none(),
)
odd_unit = st.one_of(
    st.sampled_from(
        ["pg/mL", "pmol/L", "nmol/mL", "nmol/L", "umol/L", "µmol/L", "mIU/L", "", "%", "g/dL"]
    ),
    st.text(max_size=12),
    st.none(),
    st.integers(),
)
loinc = st.sampled_from(["2132-9", "14685-2", "13964-2", "13965-9", "2823-3", "718-7", "787-2"])


@st.composite
def odd_observation(draw: st.DrawFn) -> dict[str, Any]:
    """Return an Observation-ish dict with missing fields, wrong types and absurd values."""
    obs: dict[str, Any] = {"resourceType": "Observation", "id": draw(st.text(max_size=6))}
    if draw(st.booleans()):
        obs["status"] = draw(st.one_of(st.sampled_from(["final", "amended", "bogus"]), json_leaf))
    if draw(st.booleans()):
        obs["code"] = {"coding": [{"system": "http://loinc.org", "code": draw(loinc)}]}
    else:
        obs["code"] = draw(json_value)
    obs["valueQuantity"] = {"value": draw(odd_number), "unit": draw(odd_unit)}
    if draw(st.booleans()):
        obs["valueQuantity"]["comparator"] = draw(st.sampled_from(["<", ">", "<=", "~", 5]))
    obs["effectiveDateTime"] = draw(
        st.one_of(
            st.sampled_from(["2026-11-01", "2026", "2026-13-45", "not a date", "9999-01-01"]),
            json_leaf,
        )
    )
    if draw(st.booleans()):
        obs["interpretation"] = draw(
            st.one_of(
                st.just([{"coding": [{"code": draw(st.sampled_from(["L", "H", "A", "POS"]))}]}]),
                json_value,
            )
        )
    if draw(st.booleans()):
        obs["referenceRange"] = draw(
            st.one_of(
                st.just([{"low": {"value": draw(odd_number), "unit": draw(odd_unit)}}]),
                json_value,
            )
        )
    return obs


def _no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(_no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(_no_nulls(v) for v in value)
    return value is not None and value != ""


def _check(rv: Any) -> None:
    assert rv.status_code < 500, rv.get_data(as_text=True)[:500]
    assert rv.is_json
    if rv.status_code == 200:
        body = rv.get_json()
        assert all(_no_nulls(card) for card in body["cards"])


@SETTINGS
@given(body=json_value)
def test_any_json_body_never_gives_a_server_error(fuzz_client: FlaskClient, body: Any) -> None:
    """Any JSON value posted to a service gets a 4xx or cards, never a 5xx."""
    _check(fuzz_client.post("/cds-services/b12-patient-view", json=body))


HOOKS = {
    "b12-patient-view": "patient-view",
    "b12-order-select": "order-select",
    "b12-order-sign": "order-sign",
}
context_value = (
    st.fixed_dictionaries(
        {"userId": st.just("Practitioner/1"), "patientId": st.just("p1")},
        optional={
            "draftOrders": json_value,
            "selections": json_value,
            "encounterId": json_value,
        },
    )
    | json_value
)


@SETTINGS
@given(
    service_id=st.sampled_from(sorted(HOOKS)),
    context=context_value,
    prefetch=st.dictionaries(st.sampled_from(["patient", "observations", "x"]), json_value),
)
def test_odd_context_and_prefetch_never_give_a_server_error(
    fuzz_client: FlaskClient, service_id: str, context: Any, prefetch: Any
) -> None:
    """An envelope with arbitrary context and prefetch values gets a 4xx, 412 or cards."""
    body = {
        "hook": HOOKS[service_id],
        "hookInstance": "x",
        "context": context,
        "prefetch": prefetch,
    }
    _check(fuzz_client.post(f"/cds-services/{service_id}", json=body))


@SETTINGS
@given(observations=st.lists(odd_observation(), max_size=6))
def test_odd_observations_never_give_a_server_error(
    fuzz_client: FlaskClient, observations: list[dict[str, Any]]
) -> None:
    """Odd FHIR Observations in prefetch give cards from the usable data, never a 5xx."""
    body = copy.deepcopy(BASE)
    body["prefetch"]["observations"]["entry"] = [{"resource": o} for o in observations]
    _check(fuzz_client.post("/cds-services/b12-patient-view", json=body))


@SETTINGS
@given(draft=json_value, dose=odd_number, unit=odd_unit)
def test_odd_draft_orders_never_give_a_server_error(
    fuzz_client: FlaskClient, draft: Any, dose: Any, unit: Any
) -> None:
    """Odd draft orders (shapes, doses, units) get a 4xx or cards, never a 5xx."""
    body = copy.deepcopy(ORDER)
    entry = body["context"]["draftOrders"]["entry"][0]["resource"]
    entry["dosageInstruction"] = [{"doseAndRate": {"doseQuantity": {"value": dose, "unit": unit}}}]
    body["context"]["draftOrders"]["entry"].append({"resource": draft})
    _check(fuzz_client.post("/cds-services/b12-order-select", json=body))
