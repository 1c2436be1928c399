"""People call citizens back (issue 16): a callback item is claimed by one agent at a time, and each of the
agent's calls is an attempt with its agent, the dial's status and the agent's note.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no table rebuild on SQLite): the attempts' cascade is never touched
    op.add_column("revisit_tasks", sa.Column("claimed_by", sa.String(32)))
    op.add_column("revisit_tasks", sa.Column("claimed_at", UtcDateTime()))
    op.create_index("ix_revisit_tasks_claimed_by", "revisit_tasks", ["claimed_by"])
    op.add_column("revisit_attempts", sa.Column("agent", sa.String(32)))
    op.add_column("revisit_attempts", sa.Column("dial_status", sa.String(16)))
    op.add_column("revisit_attempts", sa.Column("note", sa.String(500)))


def downgrade() -> None:
    with op.batch_alter_table("revisit_attempts") as batch:
        batch.drop_column("note")
        batch.drop_column("dial_status")
        batch.drop_column("agent")
    op.drop_index("ix_revisit_tasks_claimed_by", "revisit_tasks")
    with op.batch_alter_table("revisit_tasks") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
