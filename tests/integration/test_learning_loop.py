"""The learning loop end to end (issue 12), on SQLite and on a real PostgreSQL: a hook call
writes its cards to the audit, clinicians' feedback is stored against them, the snooze holds back
the overridden warning, and the governance report counts all of it."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service import create_app
from service import report
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
from tests.conftest import post_hook
from tests.conftest import signed
from tests.servers import free_port
from tests.servers import live_server
from tests.servers import postgres_server


REASONS = "https://b12-cds.example.org/override-reason"  # any system: the store keeps it as sent
WARNING = FIXTURES / "hooks" / "b12-patient-view" / "ex03-deficient-pmol.json"
CRITICAL = FIXTURES / "hooks" / "b12-patient-view" / "ex01-neuro-paraesthesia.json"


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
    cleanup = create_engine(url, 3.0)
    with cleanup.begin() as connection:
        connection.execute(sa.delete(FEEDBACK))
        connection.execute(sa.delete(CARD_AUDIT))
    cleanup.dispose()


def _feedback(client: Any, items: list[dict[str, Any]]) -> None:
    url = "/cds-services/b12-patient-view/feedback"
    assert 200 == client.post(url, json={"feedback": items}, headers=signed(url)).status_code


def _rows(url: str, table: sa.Table) -> list[dict[str, Any]]:
    found = create_engine(url, 3.0)
    try:
        with found.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(sa.select(table))]
    finally:
        found.dispose()


def test_card_audit_feedback_snooze_and_report_round_trip(database_url):
    """card -> audit row -> feedback (joined to it) -> snoozed on the next call -> report counts."""
    app = create_app(
        base_config(DATABASE_URL=database_url, SNOOZE={"b12-deficiency-untreated": 30})
    )
    client = app.test_client()
    try:
        warning = post_hook(client, "b12-patient-view", load(WARNING)).get_json()["cards"]
        critical = post_hook(client, "b12-patient-view", load(CRITICAL)).get_json()["cards"]
        (deficiency,) = [
            c for c in warning if c["source"]["topic"]["code"] == "b12-deficiency-untreated"
        ]
        (neuro,) = [c for c in critical if c["source"]["topic"]["code"] == "b12-neuro-untreated"]
        outcome_at = f"{TODAY}T10:00:00Z"
        _feedback(
            client,
            [
                {
                    "card": deficiency["uuid"],
                    "outcome": "overridden",
                    "overrideReason": {
                        "reason": {
                            "system": REASONS,
                            "code": "already-treated-elsewhere",
                            "display": "Already treated elsewhere",
                        },
                        "userComment": "Treated by the practice nurse last week",
                    },
                    "outcomeTimestamp": outcome_at,
                },
                {
                    "card": neuro["uuid"],
                    "outcome": "accepted",
                    "acceptedSuggestions": [{"id": neuro["suggestions"][0]["uuid"]}],
                    "outcomeTimestamp": outcome_at,
                },
            ],
        )
        again = post_hook(client, "b12-patient-view", load(WARNING)).get_json()["cards"]
        still_critical = post_hook(client, "b12-patient-view", load(CRITICAL)).get_json()["cards"]
    finally:
        engine(app).dispose()

    # the overridden warning is held back; the critical card is never snoozed
    assert deficiency["uuid"] not in {c["uuid"] for c in again}
    assert neuro["uuid"] in {c["uuid"] for c in still_critical}

    audit = _rows(database_url, CARD_AUDIT)
    by_card = {}
    for row in audit:
        by_card.setdefault(row["card_uuid"], []).append(row)
    assert [False, True] == sorted(r["snoozed"] for r in by_card[deficiency["uuid"]])
    assert [False, False] == [r["snoozed"] for r in by_card[neuro["uuid"]]]
    assert len({r["patient_hash"] for r in by_card[deficiency["uuid"]]}) == 1
    assert all(len(r["patient_hash"]) == 64 for r in audit)

    stored = {r["card_uuid"]: r for r in _rows(database_url, FEEDBACK)}
    assert stored[deficiency["uuid"]]["rule_id"] == "b12-deficiency-untreated"
    assert stored[neuro["uuid"]]["rule_id"] == "b12-neuro-untreated"
    assert not any(r["unknown_card"] or r["unknown_suggestions"] for r in stored.values())
    assert (
        stored[deficiency["uuid"]]["patient_hash"] == by_card[deficiency["uuid"]][0]["patient_hash"]
    )

    counted = create_engine(database_url, 3.0)
    try:
        built = report.build(counted, since=date(2020, 1, 1))
    finally:
        counted.dispose()
    rules = {r.rule_id: r for r in built.rules}
    untreated = rules["b12-deficiency-untreated"].total
    assert (untreated.shown, untreated.snoozed, untreated.overridden, untreated.accepted) == (
        1,
        1,
        1,
        0,
    )
    assert rules["b12-deficiency-untreated"].reasons["Already treated elsewhere"] == 1
    neuro_counts = rules["b12-neuro-untreated"].total
    assert (neuro_counts.shown, neuro_counts.accepted, neuro_counts.overridden) == (2, 1, 0)
    assert 0 == built.unknown_feedback


def _post(url: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_serve_keeps_answering_signed_hooks_while_its_database_is_down(tmp_path):
    """`b12-cds serve --workers 2` on PostgreSQL: the database stopped under it, signed hook calls
    are still answered with their cards and /healthz says degraded (audit and replay store)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    path = "/cds-services/b12-patient-view"
    body = load(WARNING)
    with contextlib.ExitStack() as database_stack, contextlib.ExitStack() as server_stack:
        url = database_stack.enter_context(postgres_server())
        server = server_stack.enter_context(
            live_server(
                tmp_path,
                "--workers",
                "2",
                port=port,
                TRUSTED_ISSUERS={ISSUER: {"jwks": JWKS}},
                PUBLIC_BASE_URL=base,
                TODAY=TODAY,
                DATABASE_URL=url,
            )
        )
        status, answer = _post(base, path, body, signed(path, base_url=base))
        assert 200 == status, server.log()
        cards = {c["uuid"] for c in answer["cards"]}
        assert cards
        database_stack.close()  # PostgreSQL stops under the running service

        for _ in range(4):  # both workers, each with its own pool
            status, answer = _post(base, path, body, signed(path, base_url=base))
            assert 200 == status, server.log()
            assert cards == {c["uuid"] for c in answer["cards"]}
        with urllib.request.urlopen(base + "/healthz", timeout=20) as answer:
            health = json.loads(answer.read())
        assert "degraded" == health["status"]
        assert "unavailable" == health["checks"]["audit"]
        log = server.log()
    assert '"audit": "missed"' in log
