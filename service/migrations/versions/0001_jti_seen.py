"""The jti replay store (issue 9).

Revision ID: 0001
Revises:
Created by `ensure_schema` before migrations existed: a database that already has the table keeps
it, and is only stamped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("jti_seen"):
        return
    op.create_table(
        "jti_seen",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_jti_seen_expires_at", "jti_seen", ["expires_at"])


def downgrade() -> None:
    op.drop_table("jti_seen")
