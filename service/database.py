"""The embedded database (DATABASE_URL): one SQLAlchemy engine per app, and its tables.

DATABASE_URL names the database; FEEDBACK_DATABASE_URL (the contract's name) is an alias, and
DATABASE_URL wins when both are set. Without either, a SQLite file in the Flask instance folder
(`b12cds.sqlite`, folder created) is used, in WAL mode with a busy timeout so that every worker of
one `serve` shares it safely. PostgreSQL is named as `postgresql+psycopg://user@host/db`.

This module owns the engine and the schema: `engine(app)` returns the app's engine, `METADATA`
holds every table (`jti_seen`, the replay store of `service.auth`; `card_audit` and `feedback`,
the learning loop of issue 12), and `ensure_schema` migrates the database to the code's newest
Alembic revision (`service.migrations`), tolerating several workers doing it at once.

The engine is created in `create_app`, which every server worker runs after it is forked, so no
connection is shared across a fork.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from datetime import UTC
from datetime import datetime
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


def utc(moment: datetime) -> datetime:
    """Return an aware UTC datetime (a moment without an offset is read as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A moment stored in UTC and read back as an aware UTC datetime on every backend.

    PostgreSQL keeps the offset (timestamptz); SQLite keeps none and gave back naive values, so
    each reader had to add UTC again. Here it is done once, for every timestamp column.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        moment = utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else utc(value)


# Every card the service returned (or held back by the snooze), one row per card per answer
# (issue 12). The patient is a keyed hash (HMAC-SHA256 with AUDIT_KEY), never the id.
CARD_AUDIT = sa.Table(
    "card_audit",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("card_uuid", sa.String(36), nullable=False, index=True),
    sa.Column("rule_id", sa.String(64), nullable=False, index=True),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("hook", sa.String(32), nullable=False),
    sa.Column("indicator", sa.String(16), nullable=False),
    sa.Column("suggestion_uuids", sa.JSON, nullable=False),  # list of the card's suggestion uuids
    sa.Column("hook_instance", sa.String(128), nullable=False),
    sa.Column("patient_hash", sa.String(64), nullable=False, index=True),
    sa.Column("shown_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("snoozed", sa.Boolean, nullable=False, default=False),  # held back, not shown
)

# What clinicians did with a card (CDS Hooks 2.0 feedback), one row per distinct item.
FEEDBACK = sa.Table(
    "feedback",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # hex SHA-256 of the item's content: the same item sent twice is stored once
    sa.Column("item_key", sa.String(64), nullable=False, unique=True),
    sa.Column("service", sa.String(64), nullable=False),
    sa.Column("card_uuid", sa.String(36), nullable=False, index=True),
    sa.Column("outcome", sa.String(16), nullable=False),  # accepted | overridden
    sa.Column("accepted_suggestions", sa.JSON, nullable=False),  # list of suggestion uuids
    sa.Column("override_system", sa.String(255), nullable=True),
    sa.Column("override_code", sa.String(64), nullable=True),
    sa.Column("override_display", sa.String(255), nullable=True),
    sa.Column("user_comment", sa.Text, nullable=True),  # free text a clinician typed: never logged
    sa.Column("outcome_at", UtcDateTime(), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False, index=True),
    # what the audit knew of the card when the feedback came (empty when it did not know it)
    sa.Column("rule_id", sa.String(64), nullable=True, index=True),
    sa.Column("patient_hash", sa.String(64), nullable=True, index=True),
    sa.Column("unknown_card", sa.Boolean, nullable=False, default=False),
    sa.Column("unknown_suggestions", sa.Boolean, nullable=False, default=False),
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
    """Turn WAL on (synchronous NORMAL) and wait for a busy database rather than failing at once."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL's recommended durability: a commit survives the process (a restart loses nothing);
    # only a power cut can lose the last commits. FULL costs an fsync per audit write (bench/).
    cursor.execute("PRAGMA synchronous=NORMAL")
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
        """Migrate the database to the code's newest revision once (`service.migrations`).

        Raises:
            SchemaAhead: the database was migrated by a newer release.
            SQLAlchemyError: the database is unusable.
        """
        if self._schema_ready:
            return
        with self._lock:
            if self._schema_ready:
                return
            from service import migrations

            migrations.upgrade(self.engine)
            self._schema_ready = True

    def ping(self) -> bool:
        """Return whether the database answers and holds the schema."""
        from service.migrations import SchemaAhead

        try:
            self.ensure_schema()
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return True
        except (sa.exc.SQLAlchemyError, SchemaAhead):
            return False


def init_app(app: Flask) -> Database:
    """Create the app's database handle and migrate it (a database that cannot be reached is
    logged, not raised: calls that need it are then refused and /healthz says `degraded`).

    Raises:
        SchemaAhead: the database was migrated by a newer release; the service must not start.
    """
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
