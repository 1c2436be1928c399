"""Accounts of departments' knowledge editors: the users table's role check lets `editor` in (issue 20).

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BEFORE = "role IN ('agent', 'supervisor', 'engineer', 'auditor', 'admin')"
AFTER = "role IN ('agent', 'supervisor', 'engineer', 'auditor', 'admin', 'editor')"


def _role_check(condition: str) -> None:
    with op.batch_alter_table("users", recreate="always") as batch:
        batch.drop_constraint("ck_users_role", type_="check")
        batch.create_check_constraint("ck_users_role", condition)


def upgrade() -> None:
    _role_check(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE role = 'editor'")
    _role_check(BEFORE)
