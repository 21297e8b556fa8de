"""POST /cds-services/{id}/feedback: validate a CDS Hooks 2.0 feedback body and accept it.

Storage comes with the feedback store; the body is validated now so clients integrate early.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from flask import Blueprint
from flask import request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator

from cards.services import SERVICES
from service.errors import BadRequest
from service.errors import UnknownService
from service.hook_request import parse_json_body


bp = Blueprint("feedback", __name__)
log = logging.getLogger("b12cds")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class FeedbackCoding(_Model):
    """An override reason Coding."""

    system: str | None = None
    code: str = Field(min_length=1)
    display: str | None = None


class OverrideReason(_Model):
    """Why a card was overridden."""

    reason: FeedbackCoding | None = None
    userComment: str | None = None  # noqa: N815 - the spec's field name


class AcceptedSuggestion(_Model):
    """A suggestion the user accepted, by uuid."""

    id: str = Field(min_length=1)


class FeedbackItem(_Model):
    """One card's outcome."""

    card: str = Field(min_length=1)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: tuple[AcceptedSuggestion, ...] = ()  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: datetime  # noqa: N815

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackItem:
        if self.outcome == "overridden" and self.acceptedSuggestions:
            raise ValueError("an overridden card has no accepted suggestions")
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            # CDS Hooks 2.0: acceptedSuggestions is required when the outcome is accepted.
            raise ValueError("an accepted card names its accepted suggestions")
        return self


class Feedback(_Model):
    """The feedback request body."""

    feedback: tuple[FeedbackItem, ...] = Field(min_length=1)


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> ResponseReturnValue:
    """Accept valid feedback on this service's cards."""
    if service_id not in SERVICES:
        raise UnknownService(f"No CDS service with id {service_id!r}.")
    body = parse_json_body(request)
    try:
        parsed = Feedback.model_validate(body)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        ]
        raise BadRequest("Invalid feedback: " + "; ".join(problems)) from exc
    log.info(
        "feedback received",
        extra={
            "service": service_id,
            "items": len(parsed.feedback),
            "accepted": sum(1 for f in parsed.feedback if f.outcome == "accepted"),
        },
    )
    return {}
