"""The database schema is migrated by Alembic (issue 12): at start, by `b12-cds db upgrade`, on
SQLite and on a real PostgreSQL; the code's tables and the migrations agree; a database migrated
by a newer release refuses to start with one clear line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service import create_app
from service import migrations
from service.cli import main
from service.database import JTI_SEEN
from service.database import METADATA
from service.database import create_engine
from service.migrations import SchemaAhead
from tests.conftest import base_config
from tests.servers import postgres_server


@pytest.fixture(name="postgres_url", scope="module")
def _postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'b12cds.sqlite'}"


def _drift(url: str) -> list[object]:
    engine = create_engine(url, 3.0)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), METADATA))
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_the_code_declares_on_sqlite(tmp_path):
    """After the migrations, the database matches the code's tables, columns and indexes."""
    url = _sqlite(tmp_path)
    engine = create_engine(url, 3.0)
    assert migrations.upgrade(engine) == migrations.head()
    engine.dispose()

    assert [] == _drift(url)


def test_upgrade_creates_every_table_the_code_declares_on_postgres(postgres_url):
    """The same on a real PostgreSQL server; a second upgrade changes nothing."""
    engine = create_engine(postgres_url, 3.0)
    assert migrations.upgrade(engine) == migrations.head()
    assert migrations.upgrade(engine) == migrations.head()
    engine.dispose()

    assert [] == _drift(postgres_url)


def test_a_database_from_before_migrations_keeps_its_replay_rows(tmp_path):
    """A jti_seen table created by the first release (create_all, no alembic_version) is kept,
    with its rows, and the rest of the schema is added."""
    url = _sqlite(tmp_path)
    engine = create_engine(url, 3.0)
    JTI_SEEN.create(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(JTI_SEEN).values(key="a" * 64, expires_at=1e12))

    migrations.upgrade(engine)

    with engine.connect() as connection:
        assert 1 == connection.execute(sa.select(sa.func.count()).select_from(JTI_SEEN)).scalar()
        assert migrations.head() == migrations.current(connection)
    engine.dispose()


def test_app_start_migrates_the_database(tmp_path):
    """`create_app` (every worker of `serve`) leaves the database at the newest revision."""
    url = _sqlite(tmp_path)
    create_app(base_config(DATABASE_URL=url))

    engine = create_engine(url, 3.0)
    with engine.connect() as connection:
        assert migrations.head() == migrations.current(connection)
    engine.dispose()


def _ahead(url: str) -> None:
    engine = create_engine(url, 3.0)
    migrations.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()


def test_a_database_ahead_of_the_code_refuses_to_start(tmp_path):
    """A revision the code does not know stops the app before it serves anything."""
    url = _sqlite(tmp_path)
    _ahead(url)

    with pytest.raises(SchemaAhead, match="revision 9999, which this release does not know"):
        create_app(base_config(DATABASE_URL=url))


def test_a_database_ahead_of_the_code_is_one_line_from_the_cli(tmp_path, monkeypatch, capsys):
    """`b12-cds db upgrade` on a newer database changes nothing and says why in one line."""
    url = _sqlite(tmp_path)
    _ahead(url)
    monkeypatch.setenv("B12CDS_DATABASE_URL", url)

    assert 2 == main(["db", "upgrade"])

    err = capsys.readouterr().err.strip()
    assert 1 == len(err.splitlines())
    assert err.startswith("b12-cds: cannot start: the database is at schema revision 9999")


def test_db_upgrade_and_current_from_the_cli(tmp_path, monkeypatch, capsys):
    """`b12-cds db current` names the revision; `db upgrade` brings it to the newest."""
    monkeypatch.setenv("B12CDS_DATABASE_URL", _sqlite(tmp_path))

    assert 0 == main(["db", "current"])
    assert "schema revision none" in capsys.readouterr().out
    assert 0 == main(["db", "upgrade"])
    assert f"at schema revision {migrations.head()} (newest)" in capsys.readouterr().out
    assert 0 == main(["db", "current"])
    assert f"schema revision {migrations.head()} (newest)" in capsys.readouterr().out
