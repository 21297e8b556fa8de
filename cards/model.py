"""CDS Hooks 2.0 card models that make the project's card conventions impossible to break.

A card that validates here can be sent: summary of at most 139 characters, an indicator from the
spec's enum, `selectionBehavior` whenever there are suggestions, one action per suggestion, `delete`
naming a relative reference and never carrying a resource, `create` carrying a full resource, and
`source.topic` naming the rule. `to_json` drops `None`, empty strings, lists and objects, which the
spec forbids and Flask would otherwise send as `null`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import field_validator
from pydantic import model_validator


SUMMARY_MAX_CHARS = 139  # CDS Hooks 2.0 Card.summary: "<140-character summary"
TOPIC_SYSTEM = "https://b12-cds.org/fhir/CodeSystem/rule"  # a URI this project owns
_UUID_NAMESPACE = uuid.UUID("6a1f1f9e-3b2d-5c4e-9f70-b12cd5000001")
_RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[^/\s]+$")


class Indicator(StrEnum):
    """Card urgency, in the spec's order of increasing importance."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return 0 for info, 1 for warning, 2 for critical."""
        return list(Indicator).index(self)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Coding(_Frozen):
    """A FHIR Coding as CDS Hooks uses it (topic, override reasons)."""

    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = Field(default=None, min_length=1)


class Source(_Frozen):
    """Where the advice comes from; `topic.code` is the rule id."""

    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    topic: Coding

    @field_validator("topic")
    @classmethod
    def _topic_is_ours(cls, topic: Coding) -> Coding:
        if topic.system != TOPIC_SYSTEM:
            raise ValueError(f"source.topic.system must be {TOPIC_SYSTEM}")
        return topic


class Action(_Frozen):
    """One change a suggestion proposes to the EHR."""

    type: Literal["create", "update", "delete"]
    description: str = Field(min_length=1)
    resource: dict[str, Any] | None = None
    resourceId: str | None = None  # noqa: N815 - the spec's field name

    @model_validator(mode="after")
    def _shape_matches_type(self) -> Action:
        if self.type == "delete":
            if self.resource is not None:
                raise ValueError("a delete action carries no resource")
            if not self.resourceId or not _RELATIVE_REFERENCE.match(self.resourceId):
                raise ValueError("a delete action needs resourceId as 'Type/id'")
        else:
            if not self.resource or "resourceType" not in self.resource:
                raise ValueError(f"a {self.type} action needs a full FHIR resource")
            if self.resourceId is not None:
                raise ValueError(f"a {self.type} action carries no resourceId")
        return self


class Suggestion(_Frozen):
    """A one-click suggestion: exactly one action."""

    label: str = Field(min_length=1)
    uuid: str
    isRecommended: bool | None = None  # noqa: N815 - the spec's field name
    actions: tuple[Action, ...] = Field(min_length=1, max_length=1)


class Link(_Frozen):
    """A link to a guideline or app."""

    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"] = "absolute"


class Card(_Frozen):
    """One CDS Hooks card produced by one rule."""

    uuid: str
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX_CHARS)
    detail: str = Field(min_length=1)
    indicator: Indicator
    source: Source
    suggestions: tuple[Suggestion, ...] = ()
    selectionBehavior: Literal["any", "at-most-one"] | None = None  # noqa: N815 - spec name
    overrideReasons: tuple[Coding, ...] = ()  # noqa: N815 - the spec's field name
    links: tuple[Link, ...] = ()

    @model_validator(mode="after")
    def _selection_behaviour_with_suggestions(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when suggestions exist")
        if not self.suggestions and self.selectionBehavior is not None:
            raise ValueError("selectionBehavior without suggestions")
        return self

    @property
    def rule_id(self) -> str:
        """Return the rule id this card belongs to."""
        return self.source.topic.code


def deterministic_uuid(*parts: str) -> str:
    """Return a uuid5 over the parts, so the same rule, patient and evidence give the same id."""
    return str(uuid.uuid5(_UUID_NAMESPACE, "\x1f".join(parts)))


def card_uuid(rule_id: str, patient_id: str, evidence: Iterable[str]) -> str:
    """Return the uuid of a card: rule id, patient id and the sorted evidence references."""
    return deterministic_uuid(rule_id, patient_id, *sorted(set(evidence)))


def _prune(value: Any) -> Any:
    """Drop None, empty strings, lists and objects, recursively."""
    if isinstance(value, Mapping):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", [], {})}
    if isinstance(value, list | tuple):
        items = [_prune(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    return value


def to_json(card: Card) -> dict[str, Any]:
    """Return the card as CDS Hooks JSON, without null or empty members."""
    dumped: dict[str, Any] = _prune(card.model_dump(mode="json", exclude_none=True))
    return dumped
