"""Call records' report columns (R-KPI-1): when the caller queued and an agent answered, the wait, talk and
wrap-up seconds, and what self-service served; written as the call happens (console.reports reads them).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

COLUMNS = (("queued_at", UtcDateTime()), ("connected_at", UtcDateTime()), ("wait_s", sa.Float()),
           ("talk_s", sa.Float()), ("wrap_up_s", sa.Float()), ("self_service", sa.String(16)))


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
