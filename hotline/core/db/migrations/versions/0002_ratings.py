"""Post-call ratings (once per call), rating status and sub-centre overflow on the call record.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("rating_status", sa.String(16)))
        batch.add_column(sa.Column("route_overflow", sa.String(32)))
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(64), sa.ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("agent", sa.String(32), index=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("rated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_ratings_level"),
    )


def downgrade() -> None:
    op.drop_table("ratings")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("route_overflow")
        batch.drop_column("rating_status")
