"""Measures on nuisance callers (R-ACC-7): warning, then pause / stop / suspend of service for a set period;
each decision a row with who and why.

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "caller_measures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("measure", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("measure IN ('warning', 'pause', 'stop', 'suspend', 'lift')",
                           name="ck_caller_measures_kind"),
    )
    op.create_index("ix_caller_measures_number_decided", "caller_measures", ["number", "decided_at"])


def downgrade() -> None:
    op.drop_index("ix_caller_measures_number_decided", table_name="caller_measures")
    op.drop_table("caller_measures")
