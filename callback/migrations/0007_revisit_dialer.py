"""Revisit dialer: attempts, retry schedule, outcome and answers on tasks; one row per call placed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("revisit_tasks") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", UtcDateTime()))
        batch.add_column(sa.Column("last_outcome", sa.String(32)))
        batch.add_column(sa.Column("result", sa.String(32)))
        batch.add_column(sa.Column("answers", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("finished_at", UtcDateTime()))
        batch.add_column(sa.Column("salutation", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("topic", sa.String(100), nullable=False, server_default=""))
        batch.create_index("ix_revisit_tasks_next_attempt_at", ["next_attempt_at"])
        batch.create_unique_constraint("uq_revisit_tasks_call_reason", ["call_id", "reason"])
    op.create_table(
        "revisit_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("revisit_tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False, unique=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("outcome", sa.String(32)),
        sa.Column("cause", sa.Integer()),
    )
    op.create_index("ix_revisit_attempts_task_id", "revisit_attempts", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_revisit_attempts_task_id", "revisit_attempts")
    op.drop_table("revisit_attempts")
    with op.batch_alter_table("revisit_tasks") as batch:
        batch.drop_constraint("uq_revisit_tasks_call_reason", type_="unique")
        batch.drop_index("ix_revisit_tasks_next_attempt_at")
        for column in ("topic", "salutation", "finished_at", "answers", "result", "last_outcome", "next_attempt_at",
                       "attempts"):
            batch.drop_column(column)
