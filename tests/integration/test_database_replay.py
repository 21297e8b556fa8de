"""The jti replay store in the embedded database (DATABASE_URL), without Redis.

SQLite files in `tmp_path` stand for the default (a file in the instance folder); the same
checks run against a real PostgreSQL server started on loopback (`.ci/run` installs it).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from service import create_app
from service import database
from service.auth import DatabaseReplayCache
from service.auth import jti_digest
from tests.conftest import FIXTURES
from tests.conftest import ISSUER
from tests.conftest import base_config
from tests.conftest import load
from tests.conftest import signed
from tests.servers import free_port
from tests.servers import postgres_server


URL = "/cds-services/b12-patient-view"
BODY = load(FIXTURES / "hooks" / "b12-patient-view" / "ex04-normal-pmol.json")


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'replay.sqlite'}"


def _race(stores: list[DatabaseReplayCache], jti: str, threads: int = 16) -> list[bool]:
    """Return the answers of `threads` threads offering one jti at once, spread over stores."""
    barrier = threading.Barrier(threads)
    results: list[bool] = []
    lock = threading.Lock()
    exp = time.time() + 300

    def offer(store: DatabaseReplayCache) -> None:
        barrier.wait()
        answer = store.check_and_add(ISSUER, jti, exp)
        with lock:
            results.append(answer)

    workers = [
        threading.Thread(target=offer, args=(stores[i % len(stores)],)) for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return results


_ENGINES: list[sa.engine.Engine] = []


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Close the pooled connections of the apps a test made (open ones warn when collected)."""
    yield
    while _ENGINES:
        _ENGINES.pop().dispose()


def _app(url: str) -> Flask:
    """Return an app on the database at `url`, its engine disposed after the test."""
    app = create_app(base_config(DATABASE_URL=url))
    _ENGINES.append(database.engine(app))
    return app


def _db(url: str) -> database.Database:
    """Return a database handle, its engine disposed after the test."""
    db = database.Database(url, 1.0)
    _ENGINES.append(db.engine)
    return db


def _stores(url: str, count: int = 2) -> list[DatabaseReplayCache]:
    """Return replay stores of `count` separate apps on one database."""
    return [_app(url).extensions["b12cds.auth"]["replay"] for _ in range(count)]


# ---- SQLite (the default) -----------------------------------------------------------------------


def test_two_apps_sharing_one_sqlite_file_refuse_each_others_replays(tmp_path):
    """A token accepted by one app (a worker) is refused by another on the same database."""
    first = _app(_sqlite(tmp_path)).test_client()
    second = _app(_sqlite(tmp_path)).test_client()
    headers = signed(URL)
    assert 200 == first.post(URL, json=BODY, headers=headers).status_code
    assert 401 == second.post(URL, json=BODY, headers=headers).status_code
    assert 401 == first.post(URL, json=BODY, headers=headers).status_code
    assert 200 == second.post(URL, json=BODY, headers=signed(URL)).status_code


def test_threads_racing_one_jti_exactly_one_wins_on_sqlite(tmp_path):
    """16 threads over two apps offer one jti at the same moment: exactly one is accepted."""
    results = _race(_stores(_sqlite(tmp_path)), str(uuid.uuid4()))
    assert 16 == len(results)
    assert 1 == results.count(True)


def test_the_store_holds_only_a_hash_of_issuer_and_jti(tmp_path):
    """The row is the SHA-256 of issuer and jti with the expiry; no file holds the jti."""
    app = _app(_sqlite(tmp_path))
    jti = f"jti-under-test-{uuid.uuid4()}"
    exp = int(time.time()) + 120
    headers = signed(URL, jti=jti, exp=exp)
    assert 200 == app.test_client().post(URL, json=BODY, headers=headers).status_code
    with database.engine(app).connect() as connection:
        rows = connection.execute(sa.select(database.JTI_SEEN)).all()
    assert [(jti_digest(ISSUER, jti), exp + 60)] == [tuple(row) for row in rows]
    token = headers["Authorization"].removeprefix("Bearer ").encode()
    for path in tmp_path.glob("replay.sqlite*"):  # the database, its WAL and shared memory
        content = path.read_bytes()
        assert jti.encode() not in content and token not in content


def test_sqlite_runs_in_wal_mode(tmp_path):
    """Several workers share the SQLite file: it is in WAL mode with a busy timeout."""
    app = _app(_sqlite(tmp_path))
    with database.engine(app).connect() as connection:
        assert "wal" == connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert 0 < connection.exec_driver_sql("PRAGMA busy_timeout").scalar()


def test_expired_rows_are_swept_and_an_expired_jti_may_be_used_again(tmp_path):
    """Rows past their expiry are deleted by the sweep; a live row stays."""
    now = [time.time()]
    db = _db(_sqlite(tmp_path))
    store = DatabaseReplayCache(db, clock=lambda: now[0], sweep_interval_s=3600)
    assert store.check_and_add(ISSUER, "old", now[0] + 10)
    assert store.check_and_add(ISSUER, "live", now[0] + 1000)
    assert not store.check_and_add(ISSUER, "old", now[0] + 10)
    now[0] += 10 + 60 + 1  # past exp plus the leeway of "old"
    assert 1 == store.sweep()
    with db.engine.connect() as connection:
        keys = connection.execute(sa.select(database.JTI_SEEN.c.key)).scalars().all()
    assert [jti_digest(ISSUER, "live")] == keys
    assert not store.check_and_add(ISSUER, "live", now[0] + 1000)


def test_the_sweep_runs_from_the_calls_without_running_on_every_call(tmp_path):
    """check_and_add sweeps at most once per interval: the first call sweeps, the next not."""
    now = [time.time()]
    db = _db(_sqlite(tmp_path))
    store = DatabaseReplayCache(db, clock=lambda: now[0], sweep_interval_s=3600)
    assert store.check_and_add(ISSUER, "a", now[0] - 70)  # already past its expiry
    with db.engine.connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).select_from(database.JTI_SEEN))
        assert 0 == left.scalar()  # swept by the first call
    assert store.check_and_add(ISSUER, "b", now[0] - 70)
    with db.engine.connect() as connection:
        left = connection.execute(sa.select(sa.func.count()).select_from(database.JTI_SEEN))
        assert 1 == left.scalar()  # within the interval: not swept again


def test_a_row_past_its_expiry_is_taken_over_atomically(tmp_path):
    """A jti whose old row has expired (not yet swept) is accepted once more, then refused."""
    now = [time.time()]
    db = _db(_sqlite(tmp_path))
    store = DatabaseReplayCache(db, clock=lambda: now[0], sweep_interval_s=3600)
    store.sweep = lambda now=None: 0  # type: ignore[method-assign]  # keep the expired row
    assert store.check_and_add(ISSUER, "again", now[0])
    now[0] += 61
    assert store.check_and_add(ISSUER, "again", now[0] + 300)
    assert not store.check_and_add(ISSUER, "again", now[0] + 300)


def test_feedback_database_url_is_an_alias_and_database_url_wins(tmp_path, monkeypatch):
    """FEEDBACK_DATABASE_URL (the contract's name) works alone; DATABASE_URL wins over it."""
    monkeypatch.delenv("B12CDS_DATABASE_URL")
    alias = f"sqlite:///{tmp_path / 'alias.sqlite'}"
    main = f"sqlite:///{tmp_path / 'main.sqlite'}"
    app = create_app(base_config(FEEDBACK_DATABASE_URL=alias))
    _ENGINES.append(database.engine(app))
    assert alias == database.database(app).url
    assert (tmp_path / "alias.sqlite").exists()
    app = create_app(base_config(FEEDBACK_DATABASE_URL=alias, DATABASE_URL=main))
    _ENGINES.append(database.engine(app))
    assert main == database.database(app).url
    monkeypatch.setenv("B12CDS_FEEDBACK_DATABASE_URL", alias)
    app = create_app(base_config())
    _ENGINES.append(database.engine(app))
    assert alias == database.database(app).url


def test_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path):
    """Without a URL the database is a SQLite file in the instance folder, which is created."""
    instance = tmp_path / "instance"
    url = database.database_url({}, str(instance))
    assert f"sqlite:///{instance / database.SQLITE_FILE}" == url
    assert instance.is_dir()


def _answers_through_an_outage(url: str) -> None:
    """Signed calls are answered with the replay check run in this process; a replay of the same
    token to the same worker is still refused; /healthz says degraded (issue 12: hook answers do
    not depend on the database; before, every call got 401 while it was down)."""
    client = _app(url).test_client()
    headers = signed(URL)
    assert 200 == client.post(URL, json=BODY, headers=headers).status_code
    assert 401 == client.post(URL, json=BODY, headers=headers).status_code  # the same jti
    assert 200 == client.post(URL, json=BODY, headers=signed(URL)).status_code  # a new one
    health = client.get("/healthz").get_json()
    assert "degraded" == health["status"]
    assert "unavailable" == health["checks"]["replay_cache"]


def test_unusable_database_still_answers_and_refuses_a_replay_in_process(tmp_path):
    """A database that cannot be opened (SQLite in a missing folder)."""
    _answers_through_an_outage(f"sqlite:///{tmp_path / 'no-such-folder' / 'replay.sqlite'}")


# ---- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(name="postgres_url", scope="module")
def _postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def test_two_apps_sharing_postgres_refuse_each_others_replays(postgres_url):
    """Two apps on one PostgreSQL database: a token used on one is refused on the other."""
    first = _app(postgres_url).test_client()
    second = _app(postgres_url).test_client()
    headers = signed(URL)
    assert 200 == first.post(URL, json=BODY, headers=headers).status_code
    assert 401 == second.post(URL, json=BODY, headers=headers).status_code
    assert "ok" == second.get("/healthz").get_json()["checks"]["replay_cache"]


def test_threads_racing_one_jti_exactly_one_wins_on_postgres(postgres_url):
    """16 threads over two apps offer one jti to PostgreSQL at once: exactly one is accepted."""
    results = _race(_stores(postgres_url), str(uuid.uuid4()))
    assert 16 == len(results)
    assert 1 == results.count(True)


def test_postgres_holds_only_a_hash_and_sweeps_expired_rows(postgres_url):
    """PostgreSQL holds the hash and expiry only; expired rows are swept."""
    db = _db(postgres_url)
    now = [time.time()]
    store = DatabaseReplayCache(db, clock=lambda: now[0], sweep_interval_s=3600)
    jti = f"pg-{uuid.uuid4()}"
    assert store.check_and_add(ISSUER, jti, now[0] + 5)
    with db.engine.connect() as connection:
        row = connection.execute(
            sa.select(database.JTI_SEEN).where(database.JTI_SEEN.c.key == jti_digest(ISSUER, jti))
        ).one()
    assert now[0] + 65 == pytest.approx(row.expires_at)
    now[0] += 66
    assert 1 <= store.sweep()
    assert store.check_and_add(ISSUER, jti, now[0] + 5)


def test_unreachable_postgres_still_answers_and_refuses_a_replay_in_process():
    """PostgreSQL not answering (a closed port)."""
    _answers_through_an_outage(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres")


def test_the_database_store_takes_over_again_when_the_database_returns(tmp_path):
    """A jti accepted during the outage is refused again by this worker afterwards, and jti
    after the outage are in the database (seen by every worker) again."""
    url = _sqlite(tmp_path)
    app = _app(url)
    store = app.extensions["b12cds.auth"]["replay"]
    real = store._check_in_database
    calls = {"down": True}

    def flaky(issuer: str, jti: str, exp: float) -> bool:
        if calls["down"]:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("down"))
        return real(issuer, jti, exp)

    store._check_in_database = flaky
    exp = time.time() + 300
    assert store.check_and_add(ISSUER, "during", exp)
    calls["down"] = False
    assert not store.check_and_add(ISSUER, "during", exp)  # still this worker's
    assert store.check_and_add(ISSUER, "after", exp)
    other = DatabaseReplayCache(database.database(app))
    assert not other.check_and_add(ISSUER, "after", exp)  # another worker sees it
