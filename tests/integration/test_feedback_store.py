"""Stored feedback (issue 12, point 4): every item is stored once, joined to the card audit when
the audit knows the card and flagged when it does not, on SQLite and on a real PostgreSQL; a
database that is down answers 503; 200 concurrent posts to a running `b12-cds serve --workers 2`
leave exactly 200 rows, which a restart keeps and a re-post does not grow."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service import create_app
from service.database import CARD_AUDIT
from service.database import FEEDBACK
from service.database import create_engine
from service.database import engine
from tests.conftest import FIXTURES
from tests.conftest import ISSUER
from tests.conftest import JWKS
from tests.conftest import TODAY
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import make_token
from tests.conftest import post_hook
from tests.conftest import signed
from tests.servers import free_port
from tests.servers import live_server
from tests.servers import postgres_server


pytestmark = pytest.mark.integration

SERVICE = "b12-patient-view"
URL = f"/cds-services/{SERVICE}/feedback"
HOOK = load(FIXTURES / "hooks" / SERVICE / "ex01-neuro-paraesthesia.json")
COMMENT = "Patient seen by haematology last week, B12 started there"


@pytest.fixture(name="postgres_url", scope="module")
def _postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(name="database_url", params=["sqlite", "postgresql"])
def _database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'b12cds.sqlite'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = create_engine(url, 3.0)  # the server is shared by the module: empty its tables
    with engine.begin() as connection:
        connection.execute(sa.delete(FEEDBACK))
        connection.execute(sa.delete(CARD_AUDIT))
    engine.dispose()


@pytest.fixture(name="make_client")
def _make_client() -> Iterator[Any]:
    """Return a factory of test clients whose apps' engines are disposed afterwards (a pooled
    PostgreSQL connection left to the garbage collector warns)."""
    apps: list[Any] = []

    def make(**config: Any) -> Any:
        app = create_app(base_config(**config))
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        engine(app).dispose()


def _feedback_rows(url: str) -> list[dict[str, Any]]:
    engine = create_engine(url, 3.0)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(FEEDBACK).order_by(FEEDBACK.c.id))
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def _audit(url: str, card: dict[str, Any], rule_id: str, patient_hash: str) -> None:
    """Insert the audit row the hook answer's audit writer records (it lands in parallel)."""
    engine = create_engine(url, 3.0)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(CARD_AUDIT).values(
                    card_uuid=card["uuid"],
                    rule_id=rule_id,
                    service=SERVICE,
                    hook="patient-view",
                    indicator=card["indicator"],
                    suggestion_uuids=[s["uuid"] for s in card.get("suggestions", [])],
                    hook_instance=HOOK["hookInstance"],
                    patient_hash=patient_hash,
                    shown_at=datetime.now(UTC),
                    snoozed=False,
                )
            )
    finally:
        engine.dispose()


def _post(client: Any, *items: dict[str, Any]) -> Any:
    return client.post(URL, json={"feedback": list(items)}, headers=signed(URL))


def _card_with_suggestion(cards: list[dict[str, Any]]) -> dict[str, Any]:
    with_suggestions = [c for c in cards if c.get("suggestions")]
    assert with_suggestions, "the fixture's answer has a card with suggestions"
    return with_suggestions[0]


def test_feedback_round_trip_joins_the_audit_and_flags_the_unknown(database_url, make_client):
    """Hook call → audit row → feedback: the accepted item copies the card's rule id and patient
    hash; an override keeps its coding and comment; an unknown card and an unknown suggestion
    are stored and flagged; the answer is `{}`."""
    client = make_client(DATABASE_URL=database_url)
    answer = post_hook(client, SERVICE, HOOK)
    assert 200 == answer.status_code
    cards = answer.get_json()["cards"]
    card = _card_with_suggestion(cards)
    patient_hash = "f" * 64
    _audit(database_url, card, "rule-under-test", patient_hash)
    suggestion = card["suggestions"][0]["uuid"]
    stranger = str(uuid.uuid4())

    rv = _post(
        client,
        {
            "card": card["uuid"],
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": suggestion}],
            "outcomeTimestamp": "2026-11-29T10:10:23Z",
        },
        {
            "card": card["uuid"],
            "outcome": "overridden",
            "overrideReason": {
                "reason": {"system": "https://example.org/reasons", "code": "elsewhere"},
                "userComment": COMMENT,
            },
            "outcomeTimestamp": "2026-11-29T10:11:00+01:00",
        },
        {"card": stranger, "outcome": "overridden", "outcomeTimestamp": "2026-11-29T10:12:00Z"},
        {
            "card": card["uuid"],
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": str(uuid.uuid4())}],
            "outcomeTimestamp": "2026-11-29T10:13:00Z",
        },
    )
    assert 200 == rv.status_code, rv.get_data(as_text=True)
    assert {} == rv.get_json()

    accepted, overridden, unknown_card, unknown_suggestion = _feedback_rows(database_url)
    assert (accepted["card_uuid"], accepted["outcome"]) == (card["uuid"], "accepted")
    assert [suggestion] == accepted["accepted_suggestions"]
    assert ("rule-under-test", patient_hash) == (accepted["rule_id"], accepted["patient_hash"])
    assert (False, False) == (accepted["unknown_card"], accepted["unknown_suggestions"])
    assert SERVICE == accepted["service"]
    assert accepted["received_at"] is not None

    assert "https://example.org/reasons" == overridden["override_system"]
    assert "elsewhere" == overridden["override_code"]
    assert overridden["override_display"] is None
    assert COMMENT == overridden["user_comment"]
    outcome_at = overridden["outcome_at"]
    outcome_at = outcome_at if outcome_at.tzinfo else outcome_at.replace(tzinfo=UTC)
    assert datetime(2026, 11, 29, 9, 11, tzinfo=UTC) == outcome_at

    assert stranger == unknown_card["card_uuid"]
    assert unknown_card["unknown_card"] is True
    assert (None, None) == (unknown_card["rule_id"], unknown_card["patient_hash"])

    assert unknown_suggestion["unknown_card"] is False
    assert unknown_suggestion["unknown_suggestions"] is True
    assert "rule-under-test" == unknown_suggestion["rule_id"]


def test_the_same_item_sent_twice_is_stored_once(database_url, make_client):
    """A repeated item, in the same body or in a second post, adds no row; a changed item does."""
    client = make_client(DATABASE_URL=database_url)
    item = {
        "card": str(uuid.uuid4()),
        "outcome": "overridden",
        "outcomeTimestamp": TODAY + "T09:00:00Z",
    }
    assert 200 == _post(client, item, item).status_code
    assert 200 == _post(client, item).status_code
    assert 1 == len(_feedback_rows(database_url))
    assert 200 == _post(client, {**item, "outcomeTimestamp": TODAY + "T09:00:01Z"}).status_code
    assert 2 == len(_feedback_rows(database_url))


def test_a_database_that_is_down_answers_503(make_client, caplog):
    """Feedback that cannot be stored is a 503 OperationOutcome, not a 200 that loses it."""
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    # without JWT checks, which need the same database for their replay store
    client = make_client(DATABASE_URL=url, REQUIRE_JWT=False)
    item = {
        "card": str(uuid.uuid4()),
        "outcome": "overridden",
        "overrideReason": {"userComment": COMMENT},
        "outcomeTimestamp": "2026-11-29T09:00:00Z",
    }
    rv = _post(client, item)
    assert 503 == rv.status_code
    body = rv.get_json()
    assert "OperationOutcome" == body["resourceType"]
    assert "transient" == body["issue"][0]["code"]
    assert COMMENT not in caplog.text


# --- a running server ---------------------------------------------------------------------------


def _items(count: int) -> list[dict[str, Any]]:
    return [
        {
            "card": str(uuid.UUID(int=n + 1)),
            "outcome": "overridden",
            "overrideReason": {"reason": {"code": "declined"}, "userComment": f"comment {n}"},
            "outcomeTimestamp": "2026-11-29T09:00:00Z",
        }
        for n in range(count)
    ]


def _send(base_url: str, item: dict[str, Any]) -> int:
    token = make_token(URL, base_url=base_url)
    request = urllib.request.Request(
        base_url + URL,
        data=json.dumps({"feedback": [item]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _post_all(base_url: str, items: list[dict[str, Any]]) -> list[int]:
    with ThreadPoolExecutor(max_workers=32) as pool:
        return list(pool.map(lambda item: _send(base_url, item), items))


def _settings(port: int, database_url: str) -> dict[str, Any]:
    return {
        "TRUSTED_ISSUERS": {ISSUER: {"jwks": JWKS}},
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TODAY": TODAY,
        "DATABASE_URL": database_url,
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_200_concurrent_posts_to_two_workers_are_200_rows_that_survive_a_restart(
    tmp_path, request, backend
):
    """200 posts in 32 threads → 200 rows; after a restart the rows are there, and posting the
    same 200 again adds none."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'b12cds.sqlite'}"
        _run_concurrent(tmp_path, url)
    else:
        with postgres_server() as url:
            _run_concurrent(tmp_path, url)


def _run_concurrent(tmp_path: Path, database_url: str) -> None:
    items = _items(200)
    port = free_port()
    with live_server(tmp_path, "--workers", "2", port=port, **_settings(port, database_url)) as s:
        assert [200] * 200 == _post_all(s.url, items), s.log()
    assert 200 == len(_feedback_rows(database_url))
    with live_server(
        tmp_path, "--workers", "2", name="restart", port=port, **_settings(port, database_url)
    ) as s:
        assert 200 == len(_feedback_rows(database_url))
        assert [200] * 200 == _post_all(s.url, items), s.log()
        log = s.log()
    rows = _feedback_rows(database_url)
    assert 200 == len(rows)
    assert {str(uuid.UUID(int=n + 1)) for n in range(200)} == {r["card_uuid"] for r in rows}
    assert "comment 7" not in log
