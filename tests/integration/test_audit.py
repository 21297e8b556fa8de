"""The card audit and the snooze (issue 12): every card a hook returns is recorded with a keyed
hash of the patient, never the id, on SQLite and a real PostgreSQL; the key is made once (mode
600) unless AUDIT_KEY is set; a database that is down never fails or delays a hook answer beyond
AUDIT_TIMEOUT_S and makes /healthz degraded; SNOOZE hides an overridden warning card until its
evidence changes and never hides a critical card or a card about a draft order."""

from __future__ import annotations

import copy
import hmac
import json
import logging
import stat
import time
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service import create_app
from service.database import CARD_AUDIT
from service.database import FEEDBACK
from service.database import METADATA
from service.database import create_engine
from service.database import engine as app_engine
from tests.conftest import FIXTURES
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import post_hook
from tests.servers import free_port
from tests.servers import postgres_server


WARNING = "b12-patient-view/acid-suppression-monitoring-fires-last-b12-low-untreated.json"
CRITICAL = "b12-patient-view/ex01-neuro-paraesthesia.json"
DRAFT_WARNING = "b12-order-select/cyanocobalamin-safety-fires-leber.json"
KEY = "a-site-audit-key-of-the-test"


@pytest.fixture(name="postgres_url", scope="module")
def _postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def _hook(name: str) -> dict[str, Any]:
    body: dict[str, Any] = load(FIXTURES / "hooks" / name)
    return body


_APPS: list[Any] = []


@pytest.fixture(autouse=True)
def _close_apps() -> Iterator[None]:
    """Let each app's audit steps finish, then close its database connections."""
    yield
    while _APPS:
        app = _APPS.pop()
        app.extensions["b12cds.audit"].close()
        app_engine(app).dispose()


def _app(url: str, **config: Any) -> Any:
    app = create_app(base_config(DATABASE_URL=url, AUDIT_KEY=KEY, **config))
    _APPS.append(app)
    return app


def _call(app: Any, name: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rv = post_hook(app.test_client(), name.split("/")[0], body or _hook(name))
    assert 200 == rv.status_code, rv.get_json()
    cards: list[dict[str, Any]] = rv.get_json()["cards"]
    return cards


def _rows(url: str, table: sa.Table = CARD_AUDIT) -> list[dict[str, Any]]:
    engine = create_engine(url, 3.0)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(sa.select(table))]
    finally:
        engine.dispose()


def _override(url: str, card_uuid: str, when: datetime | None = None) -> None:
    engine = create_engine(url, 3.0)
    moment = when or datetime.now(UTC)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(FEEDBACK),
                {
                    "item_key": hmac.new(b"k", card_uuid.encode(), "sha256").hexdigest(),
                    "service": "b12-patient-view",
                    "card_uuid": card_uuid,
                    "outcome": "overridden",
                    "accepted_suggestions": [],
                    "outcome_at": moment,
                    "received_at": moment,
                },
            )
    finally:
        engine.dispose()


def _identifiers(body: dict[str, Any]) -> set[str]:
    """The patient id and every resource id and reference of the hook body."""
    found = {body["context"]["patientId"]}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("resourceType") and value.get("id"):
                found.add(str(value["id"]))
            if isinstance(value.get("reference"), str):
                found.add(value["reference"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body.get("prefetch"))
    walk(body["context"].get("draftOrders"))
    return {f for f in found if len(f) >= 4}


def _check_audit_rows(url: str) -> None:
    app = _app(url)
    body = _hook(CRITICAL)
    cards = _call(app, CRITICAL, body)
    assert cards
    rows = [r for r in _rows(url) if r["hook_instance"] == body["hookInstance"]]
    assert sorted(c["uuid"] for c in cards) == sorted(r["card_uuid"] for r in rows)
    expected = hmac.new(KEY.encode(), body["context"]["patientId"].encode(), "sha256").hexdigest()
    by_uuid = {r["card_uuid"]: r for r in rows}
    for card in cards:
        row = by_uuid[card["uuid"]]
        assert row["rule_id"] == card["source"]["topic"]["code"]
        assert row["service"] == "b12-patient-view"
        assert row["hook"] == "patient-view"
        assert row["indicator"] == card["indicator"]
        assert row["suggestion_uuids"] == [s["uuid"] for s in card.get("suggestions", [])]
        assert row["patient_hash"] == expected
        assert row["snoozed"] is False
        assert (
            abs(row["shown_at"].replace(tzinfo=UTC) - datetime(2026, 11, 29, 12, tzinfo=UTC)).days
            < 1
        )


def test_every_card_is_audited_on_sqlite(tmp_path: Path) -> None:
    """Each card of the answer is one row with its rule, hook, suggestions and patient hash."""
    _check_audit_rows(f"sqlite:///{tmp_path / 'b12cds.sqlite'}")


def test_every_card_is_audited_on_postgres(postgres_url: str) -> None:
    """The same on a real PostgreSQL server."""
    _check_audit_rows(postgres_url)


@pytest.mark.parametrize("name", [WARNING, CRITICAL, DRAFT_WARNING])
def test_no_patient_identifier_in_any_table(tmp_path: Path, name: str) -> None:
    """No column of any row of any table holds the patient id or another identifier of the
    request (the feedback of an overridden card included)."""
    url = f"sqlite:///{tmp_path / 'b12cds.sqlite'}"
    app = _app(url, SNOOZE={"*": 30})
    body = _hook(name)
    cards = _call(app, name, body)
    assert cards
    _override(url, cards[0]["uuid"])
    _call(app, name, body)
    identifiers = _identifiers(body)
    assert body["context"]["patientId"] in identifiers
    text = json.dumps([_rows(url, table) for table in METADATA.sorted_tables], default=str)
    assert len(_rows(url)) == 2 * len(cards) or name == WARNING
    assert [] == sorted(i for i in identifiers if i in text)


def test_key_file_is_made_once_with_mode_600_and_reused(tmp_path: Path) -> None:
    """Without AUDIT_KEY a key file is made (mode 600) and the next app reuses it."""
    url = f"sqlite:///{tmp_path / 'b12cds.sqlite'}"
    key_file = tmp_path / "keys" / "audit.key"
    config = base_config(DATABASE_URL=url, AUDIT_KEY=None, AUDIT_KEY_FILE=str(key_file))
    _APPS.append(create_app(config))
    _call(_APPS[-1], CRITICAL)
    assert 0o600 == stat.S_IMODE(key_file.stat().st_mode)
    first = key_file.read_text()
    assert len(first.strip()) == 64
    _APPS.append(create_app(config))
    _call(_APPS[-1], CRITICAL)
    assert first == key_file.read_text()
    hashes = {r["patient_hash"] for r in _rows(url)}
    patient = _hook(CRITICAL)["context"]["patientId"]
    assert {hmac.new(first.strip().encode(), patient.encode(), "sha256").hexdigest()} == hashes


def test_configured_key_wins_over_the_key_file(tmp_path: Path) -> None:
    """AUDIT_KEY set: no key file is made and the hash is keyed with it."""
    url = f"sqlite:///{tmp_path / 'b12cds.sqlite'}"
    key_file = tmp_path / "audit.key"
    _call(_app(url, AUDIT_KEY_FILE=str(key_file)), CRITICAL)
    assert not key_file.exists()
    patient = _hook(CRITICAL)["context"]["patientId"]
    want = hmac.new(KEY.encode(), patient.encode(), "sha256").hexdigest()
    assert {want} == {r["patient_hash"] for r in _rows(url)}


def _assert_down(app: Any, caplog: pytest.LogCaptureFixture, bound_s: float) -> None:
    with caplog.at_level(logging.INFO, logger="b12cds"):
        started = time.perf_counter()
        cards = _call(app, CRITICAL)
        elapsed = time.perf_counter() - started
    assert cards
    assert elapsed < bound_s
    lines = [r for r in caplog.records if r.getMessage() == "hook evaluated"]
    assert "missed" == lines[-1].__dict__["audit"]
    assert any(r.getMessage() == "audit step missed" for r in caplog.records)
    health = app.test_client().get("/healthz").get_json()
    assert "degraded" == health["status"]
    assert "unavailable" == health["checks"]["audit"]


def test_database_on_a_closed_port_still_answers_and_health_is_degraded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """DATABASE_URL at a closed port: 200 with the cards within the bound, /healthz degraded.
    (REQUIRE_JWT is off here: the database is also the default jti replay store, which refuses
    every signed call while it is down; with REDIS_URL it is not.)"""
    url = f"postgresql+psycopg://b12@127.0.0.1:{free_port()}/b12"
    app = _app(url, REQUIRE_JWT=False, AUDIT_TIMEOUT_S=0.5)
    _assert_down(app, caplog, bound_s=3.0)


def test_stopped_postgres_still_answers_and_health_is_degraded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A PostgreSQL server that stops under a running app: the hook still answers with cards,
    SNOOZE on included (nothing is hidden because of an error); /healthz degraded."""
    with postgres_server() as url:
        app = _app(url, REQUIRE_JWT=False, AUDIT_TIMEOUT_S=0.5, SNOOZE={"*": 30})
        assert _call(app, CRITICAL)
        assert "ok" == app.test_client().get("/healthz").get_json()["checks"]["audit"]
    _assert_down(app, caplog, bound_s=3.0)
    before = app.extensions["b12cds.audit"].missed
    assert before >= 1
    cards = _call(app, WARNING)
    assert 1 == len(cards)  # the snooze lookup failed: the card is shown


def test_snooze_hides_an_overridden_warning_until_its_evidence_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Overridden within the rule's days: held back and audited as snoozed; new evidence shows
    it again; an override older than the days does not hide it."""
    url = f"sqlite:///{tmp_path / 'b12cds.sqlite'}"
    app = _app(url, SNOOZE='{"acid-suppression-monitoring": 90}')
    body = _hook(WARNING)
    (card,) = _call(app, WARNING, body)
    assert "warning" == card["indicator"]
    _override(url, card["uuid"])
    with caplog.at_level(logging.INFO, logger="b12cds"):
        assert [] == _call(app, WARNING, body)
    line = [r for r in caplog.records if r.getMessage() == "hook evaluated"][-1]
    assert 1 == line.__dict__["snoozed"]
    assert [False, True] == [r["snoozed"] for r in _rows(url)]

    changed = copy.deepcopy(body)
    changed["prefetch"]["observations"]["entry"][0]["resource"]["id"] = "b12-2"
    (again,) = _call(app, WARNING, changed)
    assert again["uuid"] != card["uuid"]

    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    old_app = _app(other, SNOOZE={"acid-suppression-monitoring": 90})
    _call(old_app, WARNING, body)
    _override(other, card["uuid"], datetime(2026, 6, 1, tzinfo=UTC))  # 181 days before T
    assert [card["uuid"]] == [c["uuid"] for c in _call(old_app, WARNING, body)]


@pytest.mark.parametrize("name", [CRITICAL, DRAFT_WARNING])
def test_snooze_never_hides_a_critical_card_or_a_card_about_a_draft(
    tmp_path: Path, name: str
) -> None:
    """Every card overridden, every rule snoozed: a critical card and an order hook's card
    (a warning about the drafted order) are shown all the same."""
    url = f"sqlite:///{tmp_path / 'b12cds.sqlite'}"
    app = _app(url, SNOOZE={"*": 365})
    cards = _call(app, name)
    assert cards
    if name == DRAFT_WARNING:
        assert ["warning"] == [c["indicator"] for c in cards]
    else:
        assert "critical" in {c["indicator"] for c in cards}
    for card in cards:
        _override(url, card["uuid"])
    assert [c["uuid"] for c in cards] == [c["uuid"] for c in _call(app, name)]


def test_snooze_off_hides_nothing(tmp_path: Path) -> None:
    """SNOOZE unset (the default): an overridden warning card shows again."""
    url = f"sqlite:///{tmp_path / 'b12cds.sqlite'}"
    app = _app(url)
    (card,) = _call(app, WARNING)
    _override(url, card["uuid"])
    assert [card["uuid"]] == [c["uuid"] for c in _call(app, WARNING)]


@pytest.mark.parametrize(
    "snooze",
    [{"no-such-rule": 3}, {"*": 0}, {"*": "30"}, {"acid-suppression-monitoring": 1.5}],
    ids=["unknown-rule", "zero-days", "days-as-text", "fractional-days"],
)
def test_a_snooze_that_cannot_be_used_refuses_to_start(tmp_path: Path, snooze: Any) -> None:
    """An unknown rule id or days that are not a whole number >= 1 stop the app at start."""
    with pytest.raises(ValueError, match="SNOOZE"):
        _app(f"sqlite:///{tmp_path / 'b12cds.sqlite'}", SNOOZE=snooze)
