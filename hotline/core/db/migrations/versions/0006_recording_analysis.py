"""Recordings: channels kept, speech analysis and review flag, waveform image, retention; legal hold on tickets; a supervisor token's team.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("channels", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("analysis", sa.JSON()))
        batch.add_column(sa.Column("review", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("waveform_path", sa.Text()))
        batch.add_column(sa.Column("expired_at", UtcDateTime()))
        batch.create_index("ix_recordings_review", ["review"])
        batch.create_index("ix_recordings_started_at", ["started_at"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("group", sa.String(32)))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("legal_hold_reason", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("group")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("legal_hold_reason")
        batch.drop_column("legal_hold")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_index("ix_recordings_started_at")
        batch.drop_index("ix_recordings_review")
        for column in ("expired_at", "waveform_path", "review", "analysis", "channels"):
            batch.drop_column(column)
