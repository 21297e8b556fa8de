"""The embedded database (DATABASE_URL): one SQLAlchemy engine per app, and its tables.

DATABASE_URL names the database; FEEDBACK_DATABASE_URL (the contract's name) is an alias, and
DATABASE_URL wins when both are set. Without either, a SQLite file in the Flask instance folder
(`b12cds.sqlite`, folder created) is used, in WAL mode with a busy timeout so that every worker of
one `serve` shares it safely. PostgreSQL is named as `postgresql+psycopg://user@host/db`.

This module owns the engine and the schema: `engine(app)` returns the app's engine, `METADATA`
holds every table (today `jti_seen`, the replay store of `service.auth`; the feedback store will
add its own here), and `ensure_schema` creates what is missing, tolerating several workers doing
it at once. A later move to migrations replaces `ensure_schema` and nothing else.

The engine is created in `create_app`, which every server worker runs after it is forked, so no
connection is shared across a fork.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine


log = logging.getLogger("b12cds")
SQLITE_FILE = "b12cds.sqlite"
METADATA = sa.MetaData()

JTI_SEEN = sa.Table(
    "jti_seen",
    METADATA,
    # hex SHA-256 of issuer + "\x1f" + jti: no token material is stored
    sa.Column("key", sa.String(64), primary_key=True),
    # epoch seconds after which the row may be swept (token exp plus the clock-skew leeway)
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)

_EXTENSION = "b12cds.database"


def database_url(config: Any, instance_path: str) -> str:
    """Return the database URL: DATABASE_URL, else FEEDBACK_DATABASE_URL, else SQLite in the
    instance folder (which is created)."""
    for name in ("DATABASE_URL", "FEEDBACK_DATABASE_URL"):
        value = config.get(name)
        if value:
            return str(value)
    os.makedirs(instance_path, exist_ok=True)
    return f"sqlite:///{os.path.join(instance_path, SQLITE_FILE)}"


def describe(url: str) -> str:
    """Return the URL without its password (for logs)."""
    return sa.make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Turn WAL on and wait for a busy database rather than failing at once."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, timeout_s: float) -> Engine:
    """Return an engine for a URL; a database that cannot be reached fails within `timeout_s`."""
    parsed = sa.make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = max(2, math.ceil(timeout_s))  # libpq's minimum is 2
    elif parsed.get_backend_name() == "sqlite":
        connect_args["timeout"] = 5.0
    engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """An app's engine and whether its schema is known to exist."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.engine = create_engine(url, timeout_s)
        self._schema_ready = False
        self._lock = threading.Lock()

    def ensure_schema(self) -> None:
        """Create the missing tables once; raise SQLAlchemyError if the database is unusable.

        Two workers starting together may both find a table missing; the loser's CREATE fails,
        and the retry finds the table there.
        """
        if self._schema_ready:
            return
        with self._lock:
            if self._schema_ready:
                return
            for attempt in range(3):
                try:
                    METADATA.create_all(self.engine, checkfirst=True)
                    break
                except sa.exc.SQLAlchemyError:
                    if attempt == 2:
                        raise
            self._schema_ready = True

    def ping(self) -> bool:
        """Return whether the database answers and holds the schema."""
        try:
            self.ensure_schema()
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False


def init_app(app: Flask) -> Database:
    """Create the app's database handle and its tables (a failure is logged, not raised: calls
    that need the database are then refused and /healthz says `degraded`)."""
    url = database_url(app.config, app.instance_path)
    database = Database(url, float(app.config["FHIR_TIMEOUT_S"]))
    app.extensions[_EXTENSION] = database
    try:
        database.ensure_schema()
    except sa.exc.SQLAlchemyError as exc:
        log.error(
            "database unusable at start",
            extra={"database": describe(url), "error": type(exc).__name__},
        )
    return database


def database(app: Flask) -> Database:
    """Return the app's database handle."""
    found: Database = app.extensions[_EXTENSION]
    return found


def engine(app: Flask) -> Engine:
    """Return the app's SQLAlchemy engine."""
    return database(app).engine
