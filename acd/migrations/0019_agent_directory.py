"""The agent directory: agents (their number, name, seat, team, skills and levels, phone kind, active) and teams.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("seat", sa.String(16), nullable=False),
        sa.Column("team", sa.String(32), sa.ForeignKey("teams.name"), nullable=True),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(8), nullable=False, server_default="sip"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.CheckConstraint("seat IN ('general', 'expert', 'sub_centre')", name="ck_agents_seat"),
        sa.CheckConstraint("phone IN ('sip', 'webrtc')", name="ck_agents_phone"),
    )
    op.create_index("ix_agents_team", "agents", ["team"])


def downgrade() -> None:
    op.drop_index("ix_agents_team", table_name="agents")
    op.drop_table("agents")
    op.drop_table("teams")
