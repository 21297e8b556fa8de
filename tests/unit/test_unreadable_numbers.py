"""`NaN`, `Infinity` and out-of-range numbers are unreadable values, never silently dropped.

Python's `json.loads` accepts `NaN` and `Infinity` and turns `1e400` into infinity, so a hook
request can carry them. clinical-rules §11.3: such a value is counted in `unreadable_resources`
and the result is handled like an uninterpretable one (unusable, with a note), and no NaN ever
reaches a card or the response JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest

from cards.facts import B12Status
from cards.facts import Hook
from cards.labs import Klass
from cards.model import to_json
from cards.services import SERVICES
from cards.settings import Settings
from tests.unit.fhir import ago
from tests.unit.fhir import facts
from tests.unit.fhir import med_request
from tests.unit.fhir import observation
from tests.unit.fhir import patient


B12 = "2132-9"
FA_DRAFT = med_request(rxnorm="310410", dose=1, unit="mg", status="draft", id="fa-1")
ODD_NUMBERS = [
    pytest.param("NaN", id="nan"),
    pytest.param("Infinity", id="infinity"),
    pytest.param("-Infinity", id="minus-infinity"),
    pytest.param("1e400", id="1e400"),
    pytest.param("-1e400", id="minus-1e400"),
    pytest.param("1e300", id="1e300"),
]


def _b12(raw: str, **extra: Any) -> dict[str, Any]:
    """Return a B12 Observation whose value is the JSON number text `raw`, parsed as a client's."""
    text = json.dumps(observation(B12, 123456, "ng/L", ago(5), **extra))
    parsed: dict[str, Any] = json.loads(text.replace("123456", raw))
    return parsed


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_odd_number_is_an_unreadable_result(raw):
    """The result is kept as unusable, with a note, and counted in unreadable_resources."""
    found = facts(patient(60), _b12(raw))
    assert 1 == found.unreadable_resources
    (result,) = found.unusable_first_line
    assert Klass.UNUSABLE == result.klass
    assert "could not be interpreted" in result.note
    assert "not a readable number" in result.describe()
    assert B12Status.UNKNOWN == found.b12_status


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_odd_number_even_with_a_low_flag_is_unreadable(raw):
    """A lab flag does not make an unreadable number usable: the value itself cannot be read."""
    found = facts(patient(60), _b12(raw, interpretation=[{"coding": [{"code": "L"}]}]))
    assert 1 == found.unreadable_resources
    assert B12Status.UNKNOWN == found.b12_status


@pytest.mark.parametrize(
    "raw",
    [pytest.param("150", id="150"), pytest.param("1e2", id="1e2"), pytest.param("2e3", id="2e3")],
)
def test_ordinary_numbers_are_read(raw):
    """Plain and exponent-form numbers in range are read as before and not counted."""
    found = facts(patient(60), _b12(raw))
    assert 0 == found.unreadable_resources
    assert not found.unusable_first_line


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_odd_number_in_a_reference_range_is_counted(raw):
    """A non-finite reference limit is unreadable too: counted, and the range not used."""
    obs = observation(B12, 150, "ng/L", ago(5), ref_range=(654321, 900))
    parsed = json.loads(json.dumps(obs).replace("654321", raw))
    found = facts(patient(60), parsed)
    assert 1 == found.unreadable_resources


@pytest.mark.parametrize("raw", ODD_NUMBERS)
def test_folic_acid_check_says_the_b12_could_not_be_interpreted(raw):
    """Order-select: the folic acid check warns as for any uninterpretable B12, with no NaN."""
    found = facts(
        patient(44),
        _b12(raw),
        hook=Hook.ORDER_SELECT,
        drafts=[FA_DRAFT],
        selections=["MedicationRequest/fa-1"],
    )
    cards = SERVICES["b12-order-select"].evaluate(found)
    (card,) = [c for c in cards if c.rule_id == "folate-before-b12"]
    assert "warning" == card.indicator
    assert "could not be interpreted" in card.detail
    text = json.dumps([to_json(c) for c in cards], allow_nan=False)  # raises on NaN/Infinity
    assert not re.search(r"\bnan\b", text.lower())  # a word, not "pregnancy" or "nanogram"
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in _numbers(text))


def _numbers(text: str) -> list[Any]:
    """Return every number in a JSON text."""
    found: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found.append(value)

    walk(json.loads(text))
    return found


def test_plausibility_guard_off_still_reads_an_odd_number_as_unreadable():
    """Turning the plausibility guard off never lets 1e300 classify as a high B12."""
    found = facts(patient(60), _b12("1e300"), settings=Settings(plausibility_guard=False))
    assert 1 == found.unreadable_resources
    assert B12Status.UNKNOWN == found.b12_status
