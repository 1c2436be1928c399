"""The reports' daily rollups (R-KPI-1 at scale): each closed day's figures per hour, line and skill, per agent,
its tickets per request type and category, and its waits by second (console.reports.rollup).

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


COUNTS = ("offered", "answered", "self_served", "queued", "answered_15s", "abandoned", "voice_messages", "wait_n",
          "talk_n", "wrap_up_n", "rated", "sat_1", "sat_2", "sat_3", "sat_4", "sat_5", "tickets")
SUMS = ("wait_sum", "talk_sum", "wrap_up_sum")


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
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        *(sa.Column(name, sa.Float(), nullable=False) for name in SUMS),
    )
    op.create_index("ix_report_rollups_kind_day", "report_rollups", ["kind", "day"])
    op.create_table(
        "report_rollup_seconds",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("measure", sa.String(8), nullable=False),
        sa.Column("second", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index("ix_report_rollup_seconds_kind_day", "report_rollup_seconds", ["kind", "day"])
    # the rows around the calls, counted live for the open day by when they happened (tickets are submitted,
    # revisit and callback tasks planned): without these a day's report scans both tables
    op.create_index("ix_tickets_submitted_at", "tickets", ["submitted_at"])
    op.create_index("ix_revisit_tasks_created_at", "revisit_tasks", ["created_at"])
    op.create_table(
        "report_rollup_days",
        sa.Column("day", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("built_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_rollup_days")
    op.drop_index("ix_revisit_tasks_created_at", table_name="revisit_tasks")
    op.drop_index("ix_tickets_submitted_at", table_name="tickets")
    op.drop_index("ix_report_rollup_seconds_kind_day", table_name="report_rollup_seconds")
    op.drop_table("report_rollup_seconds")
    op.drop_index("ix_report_rollups_kind_day", table_name="report_rollups")
    op.drop_table("report_rollups")
