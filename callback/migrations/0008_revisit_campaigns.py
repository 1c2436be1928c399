"""Revisit campaigns: named sets of tasks with their own pause; the standing campaign of the rules holds
every task made so far and every task the rules make from now on.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    campaigns = op.create_table(
        "revisit_campaigns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="active"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.CheckConstraint("source IN ('rules', 'upload')", name="ck_revisit_campaigns_source"),
        sa.CheckConstraint("state IN ('active', 'paused', 'finished')", name="ck_revisit_campaigns_state"),
    )
    # the first row of a new table: id 1 (RULES_CAMPAIGN) on SQLite and PostgreSQL alike, sequence included
    op.bulk_insert(campaigns, [{"name": "规则回访", "source": "rules", "state": "active",
                                "created_at": datetime.now(UTC), "created_by": "hotline"}])
    with _attempts_kept():
        with op.batch_alter_table("revisit_tasks") as batch:
            batch.add_column(sa.Column("campaign_id", sa.Integer(), nullable=False, server_default="1"))
            batch.create_foreign_key("fk_revisit_tasks_campaign", "revisit_campaigns", ["campaign_id"], ["id"])
            batch.create_index("ix_revisit_tasks_campaign_id", ["campaign_id"])


def downgrade() -> None:
    with _attempts_kept():
        with op.batch_alter_table("revisit_tasks") as batch:
            batch.drop_index("ix_revisit_tasks_campaign_id")
            batch.drop_constraint("fk_revisit_tasks_campaign", type_="foreignkey")
            batch.drop_column("campaign_id")
    op.drop_table("revisit_campaigns")


@contextlib.contextmanager
def _attempts_kept() -> Iterator[None]:
    """SQLite rebuilds revisit_tasks to change it, and with foreign keys on (they cannot be turned off inside
    the migration's transaction) dropping the old table deletes its attempts by cascade: keep them aside."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute("CREATE TEMPORARY TABLE kept_revisit_attempts AS SELECT * FROM revisit_attempts")
    yield
    op.execute("INSERT INTO revisit_attempts SELECT * FROM kept_revisit_attempts "
               "WHERE id NOT IN (SELECT id FROM revisit_attempts)")
    op.execute("DROP TABLE kept_revisit_attempts")
