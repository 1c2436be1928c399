"""The reports' daily rollups count tickets by region too; every rolled-up day is built again (its markers are
dropped: the rollups worker rebuilds the days it finds unmarked, oldest first).

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_rollups") as batch:
        batch.add_column(sa.Column("region", sa.String(32), nullable=False, server_default=""))
    op.execute("DELETE FROM report_rollup_days")


def downgrade() -> None:
    with op.batch_alter_table("report_rollups") as batch:
        batch.drop_column("region")
