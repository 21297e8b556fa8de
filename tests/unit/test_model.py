"""Card models make the contract's card rules impossible to break (contract.md "Cards")."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cards.model import TOPIC_SYSTEM
from cards.model import Action
from cards.model import Card
from cards.model import Coding
from cards.model import Source
from cards.model import Suggestion
from cards.model import card_uuid
from cards.model import to_json


SOURCE = {
    "label": "NICE NG239",
    "url": "https://www.nice.org.uk/guidance/ng239",
    "topic": {"system": TOPIC_SYSTEM, "code": "b12-deficiency-untreated"},
}
CREATE = {
    "type": "create",
    "description": "Order MMA",
    "resource": {"resourceType": "ServiceRequest", "status": "draft"},
}
SUGGESTION = {"label": "Order MMA", "uuid": "s-1", "actions": [CREATE]}


def _card(**changes: Any) -> dict[str, Any]:
    """Return a valid card body with some members changed."""
    body: dict[str, Any] = {
        "uuid": "c-1",
        "summary": "B12 deficiency",
        "detail": "**Evidence**",
        "indicator": "warning",
        "source": SOURCE,
    }
    body.update(changes)
    return body


def test_valid_card_builds():
    """Build a card from a valid body, suggestions with selectionBehavior included."""
    card = Card.model_validate(_card(suggestions=[SUGGESTION], selectionBehavior="any"))

    assert "b12-deficiency-untreated" == card.rule_id


@pytest.mark.parametrize(
    ("length", "valid"),
    [
        pytest.param(1, True, id="1"),
        pytest.param(139, True, id="139"),
        pytest.param(140, False, id="140"),
        pytest.param(0, False, id="empty"),
    ],
)
def test_summary_length(length, valid):
    """Accept summaries of 1 to 139 characters and reject longer or empty ones."""
    body = _card(summary="x" * length)

    if valid:
        assert length == len(Card.model_validate(body).summary)
    else:
        with pytest.raises(ValidationError):
            Card.model_validate(body)


@pytest.mark.parametrize("indicator", ["hard-stop", "Warning", "success", ""])
def test_bad_indicator_rejected(indicator):
    """Reject an indicator outside info, warning and critical."""
    with pytest.raises(ValidationError):
        Card.model_validate(_card(indicator=indicator))


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"suggestions": [SUGGESTION]}, id="suggestions-without-selection"),
        pytest.param({"selectionBehavior": "any"}, id="selection-without-suggestions"),
        pytest.param(
            {"suggestions": [SUGGESTION], "selectionBehavior": "all"}, id="selection-not-in-enum"
        ),
    ],
)
def test_selection_behaviour_goes_with_suggestions(changes):
    """Reject suggestions without selectionBehavior, and selectionBehavior alone."""
    with pytest.raises(ValidationError):
        Card.model_validate(_card(**changes))


@pytest.mark.parametrize(
    "actions",
    [
        pytest.param([], id="no-action"),
        pytest.param([CREATE, CREATE], id="two-actions"),
    ],
)
def test_suggestion_has_exactly_one_action(actions):
    """Reject a suggestion with no action or more than one."""
    with pytest.raises(ValidationError):
        Suggestion.model_validate({"label": "x", "uuid": "s", "actions": actions})


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(
            {
                "type": "delete",
                "description": "Remove",
                "resourceId": "MedicationRequest/fa-1",
                "resource": {"resourceType": "MedicationRequest"},
            },
            id="delete-with-resource",
        ),
        pytest.param({"type": "delete", "description": "Remove"}, id="delete-without-id"),
        pytest.param(
            {"type": "delete", "description": "Remove", "resourceId": "fa-1"}, id="delete-bare-id"
        ),
        pytest.param(
            {"type": "delete", "description": "Remove", "resourceId": "#fa-1"},
            id="delete-contained-id",
        ),
        pytest.param(
            {
                "type": "delete",
                "description": "Remove",
                "resourceId": "https://ehr/MedicationRequest/fa-1",
            },
            id="delete-absolute-url",
        ),
        pytest.param(
            {"type": "create", "description": "Order", "resource": {"status": "draft"}},
            id="create-without-resourceType",
        ),
        pytest.param({"type": "create", "description": "Order"}, id="create-without-resource"),
        pytest.param(
            {
                "type": "create",
                "description": "Order",
                "resource": {"resourceType": "ServiceRequest"},
                "resourceId": "ServiceRequest/x",
            },
            id="create-with-resourceId",
        ),
        pytest.param(
            {"type": "remove", "description": "Remove", "resourceId": "ServiceRequest/x"},
            id="unknown-type",
        ),
        pytest.param({**CREATE, "description": ""}, id="empty-description"),
    ],
)
def test_bad_action_rejected(action):
    """Reject actions whose shape does not match their type."""
    with pytest.raises(ValidationError):
        Action.model_validate(action)


@pytest.mark.parametrize(
    "resource_id", ["MedicationRequest/fa-1", "ServiceRequest/lab-1", "MedicationRequest/A.1"]
)
def test_delete_with_relative_reference_accepted(resource_id):
    """Accept a delete naming its draft as 'Type/id'."""
    action = Action(type="delete", description="Remove", resourceId=resource_id)

    assert resource_id == action.resourceId


@pytest.mark.parametrize(
    ("system", "valid"),
    [
        pytest.param(TOPIC_SYSTEM, True, id="ours"),
        pytest.param("http://loinc.org", False, id="loinc"),
        pytest.param("https://example.org/rules", False, id="other"),
    ],
)
def test_topic_system_is_ours(system, valid):
    """Accept only the project's own topic system."""
    body = {**SOURCE, "topic": {"system": system, "code": "folate-before-b12"}}

    if valid:
        assert system == Source.model_validate(body).topic.system
    else:
        with pytest.raises(ValidationError):
            Source.model_validate(body)


def test_models_are_frozen():
    """Refuse to change a card after it is built."""
    card = Card.model_validate(_card())

    with pytest.raises(ValidationError):
        card.summary = "changed"  # type: ignore[misc]  # the point of the test


def test_unknown_member_rejected():
    """Reject members the spec does not define."""
    with pytest.raises(ValidationError):
        Card.model_validate(_card(colour="red"))


def test_to_json_drops_empty_members_recursively():
    """Drop None, empty strings, empty lists and empty objects at every depth."""
    resource = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "note": [],
        "code": {"coding": [{"system": "http://loinc.org", "code": "13964-2", "display": ""}]},
        "meta": {"tag": [{}]},
        "priority": None,
        "reasonReference": [{"reference": "Observation/b12"}, {}],
    }
    card = Card.model_validate(
        _card(
            suggestions=[{**SUGGESTION, "actions": [{**CREATE, "resource": resource}]}],
            selectionBehavior="any",
        )
    )

    body = to_json(card)

    assert {
        "uuid": "c-1",
        "summary": "B12 deficiency",
        "detail": "**Evidence**",
        "indicator": "warning",
        "source": SOURCE,
        "suggestions": [
            {
                "label": "Order MMA",
                "uuid": "s-1",
                "actions": [
                    {
                        "type": "create",
                        "description": "Order MMA",
                        "resource": {
                            "resourceType": "ServiceRequest",
                            "status": "draft",
                            "code": {"coding": [{"system": "http://loinc.org", "code": "13964-2"}]},
                            "reasonReference": [{"reference": "Observation/b12"}],
                        },
                    }
                ],
            }
        ],
        "selectionBehavior": "any",
    } == body


def test_to_json_keeps_false_and_zero():
    """Keep False and 0, which are values, not empty members."""
    resource = {"resourceType": "MedicationRequest", "doNotPerform": False, "priority": 0}
    card = Card.model_validate(
        _card(
            suggestions=[
                {
                    **SUGGESTION,
                    "isRecommended": False,
                    "actions": [{**CREATE, "resource": resource}],
                }
            ],
            selectionBehavior="any",
        )
    )

    suggestion = to_json(card)["suggestions"][0]

    assert False is suggestion["isRecommended"]
    assert resource == suggestion["actions"][0]["resource"]


def test_to_json_without_suggestions_has_no_empty_members():
    """Leave out suggestions, overrideReasons and links when there are none."""
    body = to_json(Card.model_validate(_card()))

    assert {"uuid", "summary", "detail", "indicator", "source"} == set(body)


def test_override_reason_needs_system_and_code():
    """Reject an override reason without a code."""
    with pytest.raises(ValidationError):
        Coding.model_validate({"system": TOPIC_SYSTEM, "code": ""})


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        pytest.param(
            ("folate-before-b12", "p1", ["Observation/a", "Observation/b"]),
            ("folate-before-b12", "p1", ["Observation/b", "Observation/a"]),
            True,
            id="evidence-order",
        ),
        pytest.param(
            ("folate-before-b12", "p1", ["Observation/a", "Observation/a"]),
            ("folate-before-b12", "p1", ["Observation/a"]),
            True,
            id="evidence-repeated",
        ),
        pytest.param(
            ("folate-before-b12", "p1", ["Observation/a"]),
            ("folate-before-b12", "p2", ["Observation/a"]),
            False,
            id="other-patient",
        ),
        pytest.param(
            ("folate-before-b12", "p1", ["Observation/a"]),
            ("b12-deficiency-untreated", "p1", ["Observation/a"]),
            False,
            id="other-rule",
        ),
        pytest.param(
            ("folate-before-b12", "p1", ["Observation/a"]),
            ("folate-before-b12", "p1", ["Observation/b"]),
            False,
            id="other-evidence",
        ),
    ],
)
def test_card_uuid_is_deterministic(first, second, same):
    """Give the same uuid for the same rule, patient and evidence set, whatever its order."""
    assert same == (card_uuid(*first) == card_uuid(*second))


def test_card_uuid_is_a_uuid():
    """Return a uuid string that is stable between calls."""
    value = card_uuid("folate-before-b12", "p1", ["Observation/a"])

    assert value == card_uuid("folate-before-b12", "p1", ["Observation/a"])
    assert 36 == len(value) and value.count("-") == 4
