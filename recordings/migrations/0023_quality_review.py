"""Quality review (issue 17): a call's current score on the sheet, every scoring kept, the comment thread.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _call() -> sa.Column[str]:
    return sa.Column("call_id", sa.String(64), sa.ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "quality_scores",
        sa.Column("call_id", sa.String(64), sa.ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agent", sa.String(32)),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("max", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("scored_by", sa.String(64), nullable=False),
        sa.Column("scored_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_quality_scores_agent", "quality_scores", ["agent"])
    op.create_index("ix_quality_scores_scored_at", "quality_scores", ["scored_at"])
    op.create_table(
        "quality_score_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _call(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("max", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("scored_by", sa.String(64), nullable=False),
        sa.Column("scored_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_quality_score_history_call_id", "quality_score_history", ["call_id"])
    op.create_table(
        "quality_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _call(),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_quality_comments_call_id", "quality_comments", ["call_id"])


def downgrade() -> None:
    op.drop_table("quality_comments")
    op.drop_table("quality_score_history")
    op.drop_table("quality_scores")
