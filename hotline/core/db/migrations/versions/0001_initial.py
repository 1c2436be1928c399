"""Call records, recordings, API tokens, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("sip_call_id", sa.String(255), index=True),
        sa.Column("caller", sa.String(64), nullable=False, index=True),
        sa.Column("dialled", sa.String(32), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False, index=True),
        sa.Column("answered_at", UtcDateTime()),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("route_mode", sa.String(32)),
        sa.Column("route_skill", sa.String(64)),
        sa.Column("route_prompt", sa.String(64)),
        sa.Column("agent", sa.String(32), index=True),
        sa.Column("rating", sa.Integer()),
        sa.Column("outcome", sa.String(32)),
        sa.Column("hangup_cause", sa.String(64)),
        sa.Column("failsafe_reason", sa.String(128)),
        sa.Column("steps", sa.JSON(), nullable=False),
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(64), sa.ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("size_bytes", sa.Integer()),
        sa.Column("sha256", sa.String(64)),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(32)),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime()),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("remote", sa.String(64)),
        sa.Column("detail", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "api_tokens", "recordings", "calls"):
        op.drop_table(table)
