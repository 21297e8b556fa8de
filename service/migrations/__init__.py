"""Schema migrations of the embedded database (Alembic), run at start and by `b12-cds db upgrade`.

The revisions live in `versions/`. `upgrade(engine)` brings a database to the newest revision the
code knows, once even when several workers start together (a PostgreSQL advisory lock; SQLite
serialises writers and the loser retries). `current(engine)` reads the database's revision, and
`SchemaAhead` is raised when that revision is one this code does not know: the database was
migrated by a newer release, and running on it could lose or misread data.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine


HERE = Path(__file__).resolve().parent
_LOCK_ID = 0x0B12CD5  # pg_advisory_xact_lock key of the migration step


class SchemaAhead(RuntimeError):
    """The database holds a revision this code does not know."""


def config() -> Config:
    """Return the Alembic configuration of the packaged migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def head() -> str:
    """Return the newest revision the code knows."""
    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None
    return found


def current(connection: Connection) -> str | None:
    """Return the database's revision (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def check(connection: Connection) -> str | None:
    """Return the database's revision; raise SchemaAhead when the code does not know it."""
    revision = current(connection)
    if revision is None:
        return None
    script = ScriptDirectory.from_config(config())
    try:
        script.get_revision(revision)
    except Exception as exc:  # alembic raises ResolutionError / CommandError subclasses
        raise SchemaAhead(
            f"the database is at schema revision {revision}, which this release does not know "
            f"(newest known: {head()}): it was migrated by a newer b12-cds; run that release or "
            "restore a matching backup"
        ) from exc
    return revision


def upgrade(engine: Engine, attempts: int = 5) -> str:
    """Migrate the database to the newest revision; return it.

    Raises:
        SchemaAhead: the database is newer than the code (nothing is changed).
        sqlalchemy.exc.SQLAlchemyError: the database cannot be reached or migrated.
    """
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
                if check(connection) == head():
                    return head()
                cfg = config()
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")
            return head()
        except sa.exc.OperationalError:  # SQLite: another worker is migrating; wait and retry
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
        except sa.exc.IntegrityError:  # the other worker created the same table first
            if attempt == attempts - 1:
                raise
    return head()
