"""Both site profiles on every fixture: products, regimens and card language follow SITE_PROFILE.

clinical-rules §8: `uk` suggests hydroxocobalamin (RxNorm 317106, BNF/NICE regimens) and writes
UK English; `us` suggests cyanocobalamin (RxNorm 309594, FDA label / US practice) and writes US
English. Oral templates (RxNorm 309593) are the same in both.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.acceptance.test_fixtures import SCENARIOS
from tests.acceptance.test_fixtures import _answer
from tests.conftest import FIXTURES
from tests.conftest import load


HYDROXOCOBALAMIN, CYANOCOBALAMIN_INJECTION = "317106", "309594"
UK_WORDS = re.compile(
    r"anaemi|haemat|haemoglobin|paediatric|hypokalaemi|full blood count|aluminium|anaesth", re.I
)
US_WORDS = re.compile(
    r"\banemi|\bhemat|\bhemoglobin|\bpediatric|hypokalemi|complete blood count|\baluminum", re.I
)


def _answers(scenario: dict[str, Any], profile: str) -> list[dict[str, Any]]:
    config = {**scenario.get("config", {}), "SITE_PROFILE": profile}
    cards: list[dict[str, Any]] = _answer({**scenario, "config": config})["cards"]
    return cards


def _medication_codes(card: dict[str, Any]) -> set[str]:
    codes = set()
    for suggestion in card.get("suggestions", []):
        resource = suggestion["actions"][0].get("resource") or {}
        if resource.get("resourceType") == "MedicationRequest":
            concept = resource.get("medicationCodeableConcept", {})
            codes |= {c["code"] for c in concept.get("coding", [])}
    return codes


def _advice(card: dict[str, Any]) -> str:
    """Return the card's own words: summary, what to do and caveats (not the quoted evidence)."""
    body = (
        card["detail"].split("**What to do**", 1)[-1] if "**What to do**" in card["detail"] else ""
    )
    body = body.rsplit("Sources:", 1)[0]
    return f"{card['summary']}\n{card['source']['topic'].get('display', '')}\n{body}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_uk_suggests_hydroxocobalamin_and_us_cyanocobalamin(scenario):
    """A regimen suggestion is hydroxocobalamin in uk and cyanocobalamin in us, never the other."""
    for card in _answers(scenario, "uk"):
        if card["source"]["topic"]["code"] != "cyanocobalamin-safety":  # keeps the drafted product
            assert CYANOCOBALAMIN_INJECTION not in _medication_codes(card), card["summary"]
    for card in _answers(scenario, "us"):
        assert HYDROXOCOBALAMIN not in _medication_codes(card), card["summary"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_us_cards_are_written_in_us_english(scenario):
    """In us the advice says anemia, hematology, pediatric, complete blood count."""
    for card in _answers(scenario, "us"):
        assert not UK_WORDS.search(_advice(card)), (card["summary"], _advice(card))


def _orders_words(card: dict[str, Any]) -> str:
    """Return what a card's suggestions say: labels and the ServiceRequest texts (the order a
    clinician signs); product names are the product's own."""
    words = []
    for suggestion in card.get("suggestions", []):
        words.append(suggestion["label"])
        resource = suggestion["actions"][0].get("resource") or {}
        if resource.get("resourceType") == "ServiceRequest":
            words.append(resource["code"].get("text", ""))
    return "\n".join(words)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_suggestions_are_written_in_the_profiles_english(scenario):
    """Labels and order texts follow the profile too: "Order complete blood count" and
    "Referral to hematology" in us (issue 10: these kept the UK words before), the UK forms in
    uk."""
    for card in _answers(scenario, "us"):
        assert not UK_WORDS.search(_orders_words(card)), _orders_words(card)
    for card in _answers(scenario, "uk"):
        assert not US_WORDS.search(_orders_words(card)), _orders_words(card)
        assert not US_WORDS.search(_advice(card)), _advice(card)


def _record_texts(value: Any) -> list[str]:
    """Return every string of a hook request (the record's own words), longest first."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, str) and len(item) >= 3:
            found.add(item)
    return sorted(found, key=len, reverse=True)


def _evidence_lines(card: dict[str, Any]) -> list[str]:
    """Return the card's evidence lines (the detail's first section)."""
    first = card["detail"].split("\n\n", 1)[0].splitlines()[1:]
    return [line[2:] for line in first if line.startswith("- ")]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["file"] for s in SCENARIOS])
def test_us_evidence_lines_are_written_in_us_english(scenario):
    """§11.12: in us every evidence line is in US words too (anemia, hematology, pediatric, CBC,
    aluminum), apart from the record's own text quoted as sent (a Condition "Pernicious
    anaemia" from a UK record stays as written, once: a label of ours before it still counts);
    uk lines carry no US words of ours."""
    record = _record_texts(load(FIXTURES / "hooks" / scenario["file"]))
    for profile, words in (("us", UK_WORDS), ("uk", US_WORDS)):
        for card in _answers(scenario, profile):
            for line in _evidence_lines(card):
                ours = line
                for text in record:  # the last occurrence: a label of ours comes first
                    head, found, tail = ours.rpartition(text)
                    ours = head + tail if found else ours
                assert not words.search(ours), (profile, card["summary"], line)


def test_both_profiles_suggest_their_own_regimen_for_the_same_patient():
    """Worked examples 1 and 2: the same chart gives 317106 in uk and 309594 in us."""
    (example_1,) = [s for s in SCENARIOS if s["file"].endswith("ex01-neuro-paraesthesia.json")]
    uk = _medication_codes(_answers(example_1, "uk")[0])
    us = _medication_codes(_answers(example_1, "us")[0])
    assert {HYDROXOCOBALAMIN} == uk
    assert {CYANOCOBALAMIN_INJECTION} == us


def test_both_profiles_follow_the_ordered_maintenance_interval():
    """Worked example 33 (3-monthly hydroxocobalamin ordered, last given 150 days ago) is overdue
    in both profiles against the order's own 92 days (§11.8, not the us table's 31). The us
    profile has no hydroxocobalamin template, so its card offers no order (never a switch to
    cyanocobalamin) and says to give the next dose; uk suggests its hydroxocobalamin template."""
    (example_33,) = [s for s in SCENARIOS if s["file"].endswith("ex33-maintenance-overdue.json")]
    (uk,) = _answers(example_33, "uk")
    (us,) = _answers(example_33, "us")
    assert {HYDROXOCOBALAMIN} == _medication_codes(uk)
    assert set() == _medication_codes(us)
    assert "every 92 days" in uk["detail"] and "every 92 days" in us["detail"]
    assert "give the next dose of the current regimen" in us["detail"]
    assert "give the next dose" not in uk["detail"]
