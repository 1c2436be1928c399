"""Recordings: processing status, the original WAV, duration, when stored, attempts and the last error.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="recording"))
        batch.add_column(sa.Column("wav_path", sa.Text()))
        batch.add_column(sa.Column("duration_s", sa.Float()))
        batch.add_column(sa.Column("stored_at", UtcDateTime()))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("error", sa.Text()))
        batch.create_index("ix_recordings_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.drop_index("ix_recordings_status")
        for column in ("error", "attempts", "stored_at", "duration_s", "wav_path", "status"):
            batch.drop_column(column)
