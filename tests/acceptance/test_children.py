"""A child never gets an adult B12 dose, in any service, and gets the specialist-advice card.

clinical-rules §7.0 (under-16 guard) and §7.19. Runs every fixture whose patient is under 16 on
T (= 2026-11-29), in the uk and us profiles, and checks the whole answer: no suggestion creates a
B12 MedicationRequest and no card text carries an adult regimen's dose.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from tests.acceptance.test_fixtures import SCENARIOS
from tests.acceptance.test_fixtures import _answer
from tests.conftest import FIXTURES
from tests.conftest import load


T = date(2026, 11, 29)
# Adult regimen doses as the templates write them (MR-UK-*, MR-US-*, MR-ORAL-1000, MR-VEGAN).
ADULT_DOSE = re.compile(
    r"\b1 mg (IM|intramuscularly)|\b1000 (mcg|micrograms) (IM|intramuscularly|by mouth)|"
    r"\b2000 micrograms|\b50-150 micrograms",
    re.IGNORECASE,
)


def _age(scenario: dict[str, Any]) -> int | None:
    body = load(FIXTURES / "hooks" / scenario["file"])
    born = body["prefetch"]["patient"].get("birthDate")
    if not born or len(born) < 10:
        return None
    b = date.fromisoformat(born)
    return T.year - b.year - ((T.month, T.day) < (b.month, b.day))


CHILDREN = [s for s in SCENARIOS if (age := _age(s)) is not None and age < 16]


def test_children_are_covered_in_every_service():
    """There are child fixtures for patient-view, order-select and order-sign."""
    services = {s["file"].split("/")[0] for s in CHILDREN}
    assert {"b12-patient-view", "b12-order-select", "b12-order-sign"} <= services


@pytest.mark.parametrize("profile", ["uk", "us"])
@pytest.mark.parametrize("scenario", CHILDREN, ids=[s["file"] for s in CHILDREN])
def test_no_adult_dose_for_a_child(scenario, profile):
    """No B12 MedicationRequest suggestion and no adult dose in any card text."""
    answer = _answer(
        {**scenario, "config": {**scenario.get("config", {}), "SITE_PROFILE": profile}}
    )
    for card in answer["cards"]:
        for suggestion in card.get("suggestions", []):
            resource = suggestion["actions"][0].get("resource") or {}
            assert resource.get("resourceType") != "MedicationRequest", card["summary"]
        assert not ADULT_DOSE.search(card["detail"]), (card["summary"], card["detail"])
        assert not ADULT_DOSE.search(card["summary"])


def test_a_child_with_low_b12_gets_the_specialist_card_in_every_service():
    """Where a child's B12 is low (deficient), every service answers with paediatric-specialist."""
    low = [s for s in CHILDREN if "paediatric-specialist" in s["fires"]]
    assert {s["file"].split("/")[0] for s in low} == {
        "b12-patient-view",
        "b12-order-select",
        "b12-order-sign",
    }
    for scenario in low:
        rules = {c["source"]["topic"]["code"] for c in _answer(scenario)["cards"]}
        assert "paediatric-specialist" in rules
        assert not rules & {"b12-neuro-untreated", "b12-deficiency-untreated"}
