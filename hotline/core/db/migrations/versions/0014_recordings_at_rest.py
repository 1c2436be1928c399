"""Recordings at rest: the key a stored file is sealed with, the backup copy, attempt caps with indexed due times.

Revision ID: 0014
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("next_attempt_at", UtcDateTime()))
        batch.add_column(sa.Column("key_id", sa.String(16)))
        batch.add_column(sa.Column("backup_path", sa.Text()))
        batch.add_column(sa.Column("backup_state", sa.String(16)))
        batch.add_column(sa.Column("backup_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("backup_next_at", UtcDateTime()))
        batch.add_column(sa.Column("backup_error", sa.Text()))
        batch.create_index("ix_recordings_due", ["status", "next_attempt_at"])
        batch.create_index("ix_recordings_backup_due", ["status", "backup_state", "backup_next_at"])


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_index("ix_recordings_backup_due")
        batch.drop_index("ix_recordings_due")
        for column in ("backup_error", "backup_next_at", "backup_attempts", "backup_state", "backup_path", "key_id",
                       "next_attempt_at"):
            batch.drop_column(column)
