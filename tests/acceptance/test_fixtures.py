"""Each fixture hook request gives exactly the cards its manifest and expected file say."""

from __future__ import annotations

from typing import Any

import pytest

from service import create_app
from tests.conftest import FIXTURES
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import post_hook


SCENARIOS: list[dict[str, Any]] = load(FIXTURES / "scenarios.json")
EXPECTED = FIXTURES / "expected"
# The same hook files answered under the other site profile (uk <-> us): with EXPECTED, every
# fixture's answer in both profiles is held byte for byte (a refactor must not move a word).
EXPECTED_OTHER_PROFILE = FIXTURES / "expected-other-profile"


def other_profile(scenario: dict[str, Any]) -> dict[str, Any]:
    """Return the scenario with the other site profile than its own (uk by default)."""
    config = dict(scenario.get("config", {}))
    config["SITE_PROFILE"] = "uk" if config.get("SITE_PROFILE") == "us" else "us"
    return {**scenario, "config": config}


def _answer(scenario: dict[str, Any]) -> dict[str, Any]:
    service_id = scenario["file"].split("/")[0]
    app = create_app(base_config(**scenario.get("config", {})))
    rv = post_hook(app.test_client(), service_id, load(FIXTURES / "hooks" / scenario["file"]))
    assert 200 == rv.status_code, rv.get_json()
    body: dict[str, Any] = rv.get_json()
    return body


def _matches(suggestion: dict[str, Any], check: dict[str, Any]) -> bool:
    action = suggestion["actions"][0]
    if action["type"] != check["action"]:
        return False
    if check["action"] == "delete":
        return bool(action.get("resourceId") == check["resourceId"])
    resource = action["resource"]
    if resource["resourceType"] != check["resourceType"]:
        return False
    concept = resource.get("medicationCodeableConcept") or resource.get("code") or {}
    return any(c.get("code") == check["code"] for c in concept.get("coding", []))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_scenario_fires_exactly_its_rules(scenario: dict[str, Any]) -> None:
    """Each scenario fires exactly the rules and indicators its manifest lists."""
    cards = _answer(scenario)["cards"]
    fired = {c["source"]["topic"]["code"]: c["indicator"] for c in cards}
    assert scenario["fires"] == fired
    assert not set(scenario.get("silent", [])) & set(fired)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_scenario_suggestions_and_detail(scenario: dict[str, Any]) -> None:
    """Each scenario's cards carry the suggestions and evidence text its manifest requires."""
    cards = {c["source"]["topic"]["code"]: c for c in _answer(scenario)["cards"]}
    for check in scenario.get("suggestions", []):
        card = cards[check["rule"]]
        assert any(_matches(s, check) for s in card.get("suggestions", [])), check
    for check in scenario.get("no_suggestion", []):
        every = [s for c in cards.values() for s in c.get("suggestions", [])]
        scoped = (
            [s for s in cards[check["rule"]].get("suggestions", [])]
            if check.get("rule") in cards
            else every
        )
        assert not any(_matches(s, check) for s in scoped), check
    for rule_id, phrases in scenario.get("detail_contains", {}).items():
        detail = cards[rule_id]["detail"].lower()
        for phrase in phrases:
            assert phrase.lower() in detail, (rule_id, phrase)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_scenario_answer_equals_expected_file(scenario: dict[str, Any]) -> None:
    """Each scenario's whole answer equals its reviewed expected file (uuids are deterministic)."""
    expected = EXPECTED / scenario["file"]
    assert load(expected) == _answer(scenario)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_scenario_answer_under_the_other_profile_equals_its_file(scenario: dict[str, Any]) -> None:
    """The same request under the other site profile gives its stored answer, word for word."""
    expected = EXPECTED_OTHER_PROFILE / scenario["file"]
    assert load(expected) == _answer(other_profile(scenario))
