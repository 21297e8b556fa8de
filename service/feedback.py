"""POST /cds-services/{id}/feedback: validate a CDS Hooks 2.0 feedback body and store it.

Every item becomes one FEEDBACK row (service.database): card uuid, outcome, accepted suggestion
uuids, override reason coding and userComment, outcome timestamp, received time. The row's
`item_key` is the SHA-256 of the item's canonical form plus the service id, and the insert ignores
a key already stored, so an item sent twice (a retry, a second worker) is stored once, on SQLite
and PostgreSQL alike. The card is looked up in CARD_AUDIT: when known, its rule id and patient hash
are copied; an unknown card, or accepted suggestion uuids the card did not carry, is still stored
(the spec allows late or foreign feedback) and flagged `unknown_card` / `unknown_suggestions`.

A database that cannot store the items answers 503 (nothing is silently dropped: the client may
retry, and a retry is idempotent). The log line holds counts only: never a comment or a uuid.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import Literal

import sqlalchemy as sa
from flask import Blueprint
from flask import current_app
from flask import request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import ValidationError
from pydantic import model_validator
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from cards.services import SERVICES
from service import database
from service.database import CARD_AUDIT
from service.database import FEEDBACK
from service.errors import BadRequest
from service.errors import StoreUnavailable
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


def item_key(service_id: str, item: FeedbackItem) -> str:
    """Return the hex SHA-256 of the item's canonical form (sorted JSON, UTC timestamp) and the
    service: the same item sent twice has the same key."""
    canonical = item.model_dump(mode="json")
    canonical["outcomeTimestamp"] = database.utc(item.outcomeTimestamp).isoformat()
    text = json.dumps(
        {"service": service_id, "item": canonical},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _audit(connection: Connection, card_uuids: set[str]) -> dict[str, tuple[str, str, set[str]]]:
    """Return, per known card uuid, its rule id, patient hash and every suggestion uuid it
    carried (a card shown in several answers has one audit row per answer)."""
    if not card_uuids:
        return {}
    rows = connection.execute(
        sa.select(
            CARD_AUDIT.c.card_uuid,
            CARD_AUDIT.c.rule_id,
            CARD_AUDIT.c.patient_hash,
            CARD_AUDIT.c.suggestion_uuids,
        )
        .where(CARD_AUDIT.c.card_uuid.in_(sorted(card_uuids)))
        .order_by(CARD_AUDIT.c.id)
    )
    known: dict[str, tuple[str, str, set[str]]] = {}
    for card_uuid, rule_id, patient_hash, suggestions in rows:
        earlier = known.get(card_uuid)
        carried = set(earlier[2]) if earlier else set()
        carried.update(str(s) for s in (suggestions or []))
        known[card_uuid] = (rule_id, patient_hash, carried)
    return known


def _row(
    service_id: str,
    item: FeedbackItem,
    known: dict[str, tuple[str, str, set[str]]],
    received_at: datetime,
) -> dict[str, Any]:
    accepted = [s.id for s in item.acceptedSuggestions]
    audit = known.get(item.card)
    reason = item.overrideReason.reason if item.overrideReason else None
    return {
        "item_key": item_key(service_id, item),
        "service": service_id,
        "card_uuid": item.card,
        "outcome": item.outcome,
        "accepted_suggestions": accepted,
        "override_system": reason.system if reason else None,
        "override_code": reason.code if reason else None,
        "override_display": reason.display if reason else None,
        "user_comment": item.overrideReason.userComment if item.overrideReason else None,
        "outcome_at": database.utc(item.outcomeTimestamp),
        "received_at": received_at,
        "rule_id": audit[0] if audit else None,
        "patient_hash": audit[1] if audit else None,
        "unknown_card": audit is None,
        "unknown_suggestions": audit is not None and not set(accepted) <= audit[2],
    }


def _insert_ignoring_duplicates(dialect: str) -> Any:
    """Return an INSERT into FEEDBACK that skips a row whose item_key is already stored."""
    if dialect == "postgresql":
        return postgresql.insert(FEEDBACK).on_conflict_do_nothing(index_elements=["item_key"])
    if dialect == "sqlite":
        return sqlite.insert(FEEDBACK).on_conflict_do_nothing(index_elements=["item_key"])
    raise StoreUnavailable(f"Feedback cannot be stored in a {dialect} database.")


def store(service_id: str, items: tuple[FeedbackItem, ...]) -> tuple[int, int]:
    """Store the items; return how many were new and how many were flagged (unknown card or
    suggestions). Items already stored are skipped.

    Raises:
        StoreUnavailable: the database cannot be reached or written now.
    """
    handle = database.database(current_app)
    received_at = datetime.now(UTC)
    try:
        handle.ensure_schema()
        # The audit is read, then the rows are written in a transaction of their own: on SQLite
        # a transaction that reads before it writes could not wait for another writer.
        with handle.engine.connect() as connection:
            known = _audit(connection, {item.card for item in items})
        rows = [_row(service_id, item, known, received_at) for item in items]
        unique = list({row["item_key"]: row for row in rows}.values())
        statement = _insert_ignoring_duplicates(handle.engine.dialect.name)
        stored = 0
        with handle.engine.begin() as connection:
            for row in unique:
                stored += connection.execute(statement, row).rowcount
    except sa.exc.SQLAlchemyError as exc:
        log.error("feedback not stored", extra={"service": service_id, "error": type(exc).__name__})
        raise StoreUnavailable(
            "The feedback could not be stored now; nothing was recorded. Retry later."
        ) from exc
    flagged = sum(1 for row in rows if row["unknown_card"] or row["unknown_suggestions"])
    return stored, flagged


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> ResponseReturnValue:
    """Store valid feedback on this service's cards."""
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
    stored, flagged = store(service_id, parsed.feedback)
    log.info(
        "feedback stored",
        extra={
            "service": service_id,
            "items": len(parsed.feedback),
            "stored": stored,
            "duplicates": len(parsed.feedback) - stored,
            "flagged": flagged,
        },
    )
    return {}
