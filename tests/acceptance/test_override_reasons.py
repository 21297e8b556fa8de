"""Every card of every fixture, in both site profiles, offers override reasons (issue 12 point 3).

The expected answers are held equal to the live answers by `test_fixtures.py`; these tests read
them for both profiles and check one scenario live, including that feedback naming a card's
own override reason is accepted.
"""

from __future__ import annotations

from typing import Any

import pytest

from cards import overrides
from cards.settings import Profile
from service import create_app
from tests.acceptance.test_fixtures import EXPECTED
from tests.acceptance.test_fixtures import EXPECTED_OTHER_PROFILE
from tests.acceptance.test_fixtures import SCENARIOS
from tests.acceptance.test_profiles import UK_WORDS
from tests.acceptance.test_profiles import US_WORDS
from tests.conftest import FIXTURES
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import post_hook
from tests.conftest import signed


def _profiles(scenario: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Return (profile, cards) for the scenario's own profile and the other one."""
    own = scenario.get("config", {}).get("SITE_PROFILE", "uk")
    other = "uk" if own == "us" else "us"
    return [
        (own, load(EXPECTED / scenario["file"])["cards"]),
        (other, load(EXPECTED_OTHER_PROFILE / scenario["file"])["cards"]),
    ]


ALL_CARDS = [
    (scenario["file"], profile, card)
    for scenario in SCENARIOS
    for profile, cards in _profiles(scenario)
    for card in cards
]


def test_the_fixtures_hold_cards_in_both_profiles() -> None:
    """The checks below see many cards of every rule, in uk and in us."""
    assert len(ALL_CARDS) > 200
    rules = {(p, c["source"]["topic"]["code"]) for _, p, c in ALL_CARDS}
    assert len({r for p, r in rules if p == "uk"}) == len({r for p, r in rules if p == "us"}) == 22


@pytest.mark.parametrize("profile", ["uk", "us"])
def test_every_card_offers_its_rules_reasons_in_the_profiles_words(profile: str) -> None:
    """Each card has at least one reason, all of the project's system, codes unique, exactly
    its rule's list and displays in the profile's wording (no UK word in us, nor US in uk)."""
    foreign = UK_WORDS if profile == "us" else US_WORDS
    for name, card_profile, card in ALL_CARDS:
        if card_profile != profile:
            continue
        reasons = card["overrideReasons"]
        rule_id = card["source"]["topic"]["code"]
        codes = [r["code"] for r in reasons]
        assert reasons, name
        assert len(set(codes)) == len(codes), (name, codes)
        assert codes == list(overrides.reasons_of(rule_id)), (name, rule_id)
        for reason in reasons:
            assert set(reason) == {"system", "code", "display"}, (name, reason)
            assert reason["system"] == overrides.OVERRIDE_SYSTEM
            assert reason["display"] == overrides.display(Profile(profile), reason["code"])
            assert not foreign.search(reason["display"]), (name, reason)


def test_the_two_profiles_word_a_reason_differently_where_their_english_differs() -> None:
    """The display comes from the profile's wording, not one shared string."""
    uk = overrides.display(Profile.UK, "already-treated-elsewhere")
    us = overrides.display(Profile.US, "already-treated-elsewhere")
    assert "organisation" in uk and "organization" in us


def test_feedback_naming_a_cards_own_override_reason_is_accepted() -> None:
    """A live answer's card and its first reason, sent back as an override, get 200."""
    scenario = next(s for s in SCENARIOS if s["fires"])
    service_id = scenario["file"].split("/")[0]
    client = create_app(base_config(**scenario.get("config", {}))).test_client()
    rv = post_hook(client, service_id, load(FIXTURES / "hooks" / scenario["file"]))
    card = rv.get_json()["cards"][0]
    assert card["overrideReasons"]
    url = f"/cds-services/{service_id}/feedback"
    body = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": card["overrideReasons"][0]},
                "outcomeTimestamp": "2026-11-29T10:00:00Z",
            }
        ]
    }
    answer = client.post(url, json=body, headers=signed(url))
    assert 200 == answer.status_code, answer.get_json()
