"""An announcement may point to a knowledge-base entry (issue 20): waiting callers of its lines hear that entry
first in the phone list (key 3), and the page shows it.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("announcements") as table:
        table.add_column(sa.Column("entry_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("announcements") as table:
        table.drop_column("entry_id")
