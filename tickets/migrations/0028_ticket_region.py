"""A ticket names the district (区县) its matter belongs to (R-KPI-1: volumes by region).

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("region", sa.String(32), nullable=False, server_default=""))
        batch.create_index("ix_tickets_region", ["region"])


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_region")
        batch.drop_column("region")
