"""No answer depends on the order of a Bundle's entries, nor on a result sent twice (§11.2).

clinical-rules §11.2: two results for the same test at the same time are chosen between by the
§4.1 ties (later `issued`, status, then the more abnormal class), so "the cards never depend on
the order of entries in a Bundle". Every fixture under `fhir_fixtures/hooks/` is answered:

- with every prefetch Bundle's entries and the `draftOrders` entries in reversed order: the
  answer must be the same, byte for byte (cards, details, uuids, suggestions);
- with a second copy of every Observation at the same time (a new id, the same value, no shared
  identifier): the same rule ids, indicators, summaries and suggestions. The details may differ
  only where §11.2 asks (they name both values), and a reference to the copy counts as one to its
  original (either copy may be the one used: they are equal);
- with both at once.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from service import create_app
from tests.conftest import FIXTURES
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import post_hook


HOOKS = sorted((FIXTURES / "hooks").glob("*/*.json"))
CONFIG = {s["file"]: s.get("config", {}) for s in load(FIXTURES / "scenarios.json")}
TWIN = "-twin"


def _name(path: Any) -> str:
    return f"{path.parent.name}/{path.name}"


def _answer(name: str, body: dict[str, Any]) -> dict[str, Any]:
    app = create_app(base_config(**CONFIG.get(name, {})))
    rv = post_hook(app.test_client(), name.split("/")[0], body)
    assert 200 == rv.status_code, rv.get_json()
    answer: dict[str, Any] = rv.get_json()
    return answer


def _reversed(body: dict[str, Any]) -> dict[str, Any]:
    """Return the request with every prefetch Bundle's and draftOrders' entries reversed."""
    turned = copy.deepcopy(body)
    bundles = [b for b in turned.get("prefetch", {}).values() if isinstance(b, dict)]
    bundles.append(turned.get("context", {}).get("draftOrders") or {})
    for bundle in bundles:
        if bundle.get("resourceType") == "Bundle" and bundle.get("entry"):
            bundle["entry"] = bundle["entry"][::-1]
    return turned


def _twinned(body: dict[str, Any]) -> dict[str, Any]:
    """Return the request with a same-time copy (new id, same value) of every Observation."""
    twinned = copy.deepcopy(body)
    for bundle in twinned.get("prefetch", {}).values():
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            continue
        copies = []
        for entry in bundle.get("entry") or ():
            resource = entry.get("resource") or {}
            if resource.get("resourceType") != "Observation":
                continue
            twin = copy.deepcopy(entry)
            twin["resource"]["id"] = f"{resource.get('id', 'obs')}{TWIN}"
            twin["resource"].pop("identifier", None)  # a second result, not the same one
            if "fullUrl" in twin:
                twin["fullUrl"] = f"{twin['fullUrl']}{TWIN}"
            copies.append(twin)
        if copies:
            bundle["entry"] = [*bundle["entry"], *copies]
            bundle["total"] = len(bundle["entry"])
    return twinned


def _untwin(value: Any) -> Any:
    """Return a suggestion with every reference to a copy read as its original, each once."""
    if isinstance(value, dict):
        found = {k: _untwin(v) for k, v in value.items()}
        if "reasonReference" in found:
            refs = {json.dumps(r, sort_keys=True) for r in found["reasonReference"]}
            found["reasonReference"] = [json.loads(r) for r in sorted(refs)]
        return found
    if isinstance(value, list):
        return [_untwin(v) for v in value]
    if isinstance(value, str):
        return value.replace(TWIN, "")
    return value


def _essence(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """Return what must not change: rule, indicator, summary and suggestions of every card."""
    return [
        {
            "rule": card["source"]["topic"]["code"],
            "indicator": card["indicator"],
            "summary": card["summary"],
            "suggestions": [
                {k: _untwin(v) for k, v in s.items() if k != "uuid"}
                for s in card.get("suggestions", [])
            ],
        }
        for card in answer["cards"]
    ]


@pytest.mark.parametrize("path", HOOKS, ids=_name)
def test_reversed_bundles_give_the_same_answer(path):
    """Entries in reversed order: the same cards, word for word (§11.2)."""
    body = load(path)

    assert _answer(_name(path), body) == _answer(_name(path), _reversed(body))


@pytest.mark.parametrize("path", HOOKS, ids=_name)
def test_a_second_same_time_result_gives_the_same_cards(path):
    """A same-time copy of every result, in either order: the same cards (§11.2)."""
    body = load(path)
    expected = _essence(_answer(_name(path), body))

    assert expected == _essence(_answer(_name(path), _twinned(body)))
    assert expected == _essence(_answer(_name(path), _reversed(_twinned(body))))


def test_the_copies_are_seen():
    """The twinned request really carries two results at the same time (the test can fail)."""
    body = load(FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json")
    answer = _answer("b12-patient-view/ex01-neuro-paraesthesia.json", _twinned(body))

    assert "two results at the same time: 142 and 142 pg/mL" in answer["cards"][0]["detail"]
