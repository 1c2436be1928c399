"""The reports' daily rollups (R-KPI-1 at scale): each closed day's figures per hour, line and skill, per agent,
and its tickets per request type and category (console.reports.rollup).

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


def upgrade() -> None:
    op.create_table(
        "report_rollups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(32), nullable=False),
        sa.Column("skill", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(32), nullable=False),
        sa.Column("request_type", sa.String(8), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
    )
    op.create_index("ix_report_rollups_day_kind", "report_rollups", ["day", "kind"])
    op.create_table(
        "report_rollup_days",
        sa.Column("day", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("built_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_rollup_days")
    op.drop_index("ix_report_rollups_day_kind", table_name="report_rollups")
    op.drop_table("report_rollups")
