"""The agents' state log (R-KPI-1 occupancy): one row per interval in one state, from the ACD's events.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_states",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_agent_states_agent_started", "agent_states", ["agent", "started_at"])
    op.create_index("ix_agent_states_started", "agent_states", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_agent_states_started", table_name="agent_states")
    op.drop_index("ix_agent_states_agent_started", table_name="agent_states")
    op.drop_table("agent_states")
