"""Hot-issue announcements (热点播报, issue 17): what callers hear after the greeting, on chosen lines, for
the hours set; rows are never deleted.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("text", sa.String(1200), nullable=False),
        sa.Column("audio", sa.String(16), nullable=False),
        sa.Column("sound", sa.String(64), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("ended_by", sa.String(64)),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.CheckConstraint("audio IN ('synthesised', 'recorded')", name="ck_announcements_audio"),
    )
    op.create_index("ix_announcements_window", "announcements", ["ended_at", "ends_at"])


def downgrade() -> None:
    op.drop_index("ix_announcements_window", "announcements")
    op.drop_table("announcements")
