"""The card audit and the snooze (issue 12): what the service showed, and what it held back.

Every card a hook call returns is recorded in `card_audit` (service.database) with the patient as
HMAC-SHA256(AUDIT_KEY, patient id) in hex, never the id. AUDIT_KEY comes from the configuration;
without it a random key is made once in AUDIT_KEY_FILE (default `instance/audit.key`, mode 600)
and reused by every worker and every restart.

The database is never allowed to delay or fail a hook answer beyond AUDIT_TIMEOUT_S: each step
(the snooze lookup, the insert) runs on a small thread pool of the app and the hook waits for it
at most that long. A step that fails or is late is a miss: the cards are returned all the same
(a failed snooze lookup hides nothing), the hook's log line says `audit: "missed"`, one warning
without patient data is logged, and /healthz says degraded until a later write succeeds. At most
AUDIT_MAX_PENDING steps wait at once; beyond that a step is a miss at once, so a hung database
cannot pile up threads. On PostgreSQL each step also carries a statement timeout.

SNOOZE (off by default) maps a rule id to days, `"*"` giving the days of every other rule: a card
whose uuid was overridden (a `feedback` row, outcome "overridden", outcome time within the rule's
days) is held back, and recorded with snoozed=True. The uuid encodes rule, patient and evidence,
so new evidence gives a new uuid and the card shows again. Safety cards are never snoozed: a
`critical` card, any card of an order hook (order-select, order-sign: those cards are about the
drafts), and any card whose suggestion deletes something (a draft).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask
from flask import current_app

from cards.facts import Hook
from cards.model import Card
from cards.model import Indicator
from cards.services import RULES
from service import config as cfg
from service.database import CARD_AUDIT
from service.database import FEEDBACK
from service.database import Database


log = logging.getLogger("b12cds")
KEY_FILE = "audit.key"
_EXTENSION = "b12cds.audit"
ALL_RULES = "*"
T = TypeVar("T")


def patient_hash(key: bytes, patient_id: str) -> str:
    """Return HMAC-SHA256(key, patient id) in hex: what the audit stores instead of the id."""
    return hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()


def load_key(config: Mapping[str, Any], instance_path: str) -> bytes:
    """Return the audit key: AUDIT_KEY, else the key file (made once, mode 600, when missing).

    Several workers may start at once: the file is written under another name and linked into
    place, so a reader never sees half a key and the first writer wins.
    """
    configured = config.get("AUDIT_KEY")
    if configured:
        return str(configured).encode("utf-8")
    path = Path(config.get("AUDIT_KEY_FILE") or os.path.join(instance_path, KEY_FILE))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another worker made it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise ValueError(f"AUDIT_KEY_FILE {path} is empty")
    return key.encode("utf-8")


def snooze_days(value: Any) -> dict[str, int]:
    """Return SNOOZE as rule id -> days (JSON text or a mapping; "*" for every other rule).

    Raises:
        ValueError: a rule id the service does not know, or days that are not a whole number > 0.
    """
    mapping = cfg.as_mapping(value)
    known = set(RULES)
    days: dict[str, int] = {}
    for rule_id, raw in mapping.items():
        if rule_id != ALL_RULES and rule_id not in known:
            raise ValueError(f"SNOOZE names an unknown rule id {rule_id!r}")
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise ValueError(f"SNOOZE days for {rule_id!r} must be a whole number of days >= 1")
        days[rule_id] = raw
    return days


def is_safety_card(card: Card, hook: Hook) -> bool:
    """Return whether a card may never be snoozed: critical, about a draft order, or deleting."""
    if card.indicator is Indicator.CRITICAL or hook is not Hook.PATIENT_VIEW:
        return True
    return any(a.type == "delete" for s in card.suggestions for a in s.actions)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a hook call shows after the snooze, and the counts its log line reports."""

    shown: list[Card]
    snoozed: int
    audit: str  # "written" | "missed" | "none" (no card to record)


class Auditor:
    """One app's audit: key, snooze days, and a bounded pool that talks to the database."""

    def __init__(self, database: Database, key: bytes, config: Mapping[str, Any]) -> None:
        self.database = database
        self.key = key
        self.timeout_s = float(config["AUDIT_TIMEOUT_S"])
        self.snooze = snooze_days(config.get("SNOOZE"))
        self._slots = threading.BoundedSemaphore(int(config["AUDIT_MAX_PENDING"]))
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="b12cds-audit")
        self._lock = threading.Lock()
        self.missed = 0  # misses since start (this process)
        self.failing = False  # the last write missed; cleared by the next one that succeeds

    def days_for(self, rule_id: str) -> int | None:
        """Return the snooze days of a rule, or None when it is not snoozed."""
        return self.snooze.get(rule_id, self.snooze.get(ALL_RULES))

    def _bounded(self, step: Callable[[], T]) -> tuple[T | None, str | None]:
        """Run a database step within the time bound; return (result, None) or (None, why)."""
        if not self._slots.acquire(blocking=False):
            return None, "busy"

        def run() -> T:
            try:
                return step()
            finally:
                self._slots.release()

        future = self._pool.submit(run)
        try:
            return future.result(timeout=self.timeout_s), None
        except FutureTimeout:
            return None, "timeout"
        except Exception as exc:  # noqa: BLE001 - any database failure is a miss, never a 500
            return None, type(exc).__name__

    def _begin(self, connection: sa.Connection) -> None:
        if connection.dialect.name == "postgresql":
            milliseconds = max(1, int(self.timeout_s * 1000))
            connection.execute(sa.text(f"SET LOCAL statement_timeout = {milliseconds}"))

    def overridden(self, uuids: list[str], since: Mapping[str, datetime]) -> set[str]:
        """Return the card uuids among `uuids` overridden after their rule's cut-off."""
        self.database.ensure_schema()
        earliest = min(since.values())
        with self.database.engine.begin() as connection:
            self._begin(connection)
            rows = connection.execute(
                sa.select(FEEDBACK.c.card_uuid, FEEDBACK.c.outcome_at).where(
                    FEEDBACK.c.card_uuid.in_(uuids),
                    FEEDBACK.c.outcome == "overridden",
                    FEEDBACK.c.outcome_at >= earliest,
                )
            ).all()
        return {card_uuid for card_uuid, outcome_at in rows if outcome_at >= since[card_uuid]}

    def insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert audit rows in one transaction."""
        self.database.ensure_schema()
        with self.database.engine.begin() as connection:
            self._begin(connection)
            connection.execute(sa.insert(CARD_AUDIT), rows)

    def _miss(self, step: str, why: str) -> None:
        with self._lock:
            self.missed += 1
            self.failing = True
        log.warning("audit step missed", extra={"step": step, "error": why})

    def record(
        self,
        service_id: str,
        hook: Hook,
        hook_instance: str,
        patient_id: str,
        cards: Iterable[Card],
        now: datetime,
    ) -> Recorded:
        """Apply the snooze to a hook call's cards, record them all, and return what to show."""
        cards = list(cards)
        if not cards:
            return Recorded([], 0, "none")
        since = {
            card.uuid: now - timedelta(days=days)
            for card in cards
            if not is_safety_card(card, hook) and (days := self.days_for(card.rule_id))
        }
        snoozed: set[str] = set()
        if since:
            found, why = self._bounded(lambda: self.overridden(list(since), since))
            if why is not None:
                self._miss("snooze", why)  # nothing is hidden because of an error
            snoozed = found or set()
        hashed = patient_hash(self.key, patient_id)
        stamp = now.astimezone(UTC)
        rows = [
            {
                "card_uuid": card.uuid,
                "rule_id": card.rule_id,
                "service": service_id,
                "hook": hook.value,
                "indicator": card.indicator.value,
                "suggestion_uuids": [s.uuid for s in card.suggestions],
                "hook_instance": hook_instance,
                "patient_hash": hashed,
                "shown_at": stamp,
                "snoozed": card.uuid in snoozed,
            }
            for card in cards
        ]
        _, why = self._bounded(lambda: self.insert(rows))
        if why is not None:
            self._miss("insert", why)
        else:
            with self._lock:
                self.failing = False
        shown = [card for card in cards if card.uuid not in snoozed]
        return Recorded(shown, len(cards) - len(shown), "missed" if why else "written")

    def close(self) -> None:
        """Wait for the audit steps under way, then stop the pool (tests, shutdown)."""
        self._pool.shutdown(wait=True)


def init_app(app: Flask, database: Database) -> Auditor:
    """Create the app's auditor (the key is read or made now).

    Raises:
        ValueError: SNOOZE or the key file cannot be used; the message names the setting.
    """
    auditor = Auditor(database, load_key(app.config, app.instance_path), app.config)
    app.extensions[_EXTENSION] = auditor
    return auditor


def auditor(app: Flask | None = None) -> Auditor:
    """Return the app's auditor (the current one by default)."""
    found: Auditor = (app if app is not None else current_app).extensions[_EXTENSION]
    return found
