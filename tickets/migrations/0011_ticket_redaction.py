"""Tickets remember when the retention policy blanked their personal fields.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("redacted_at", UtcDateTime()))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("redacted_at")
