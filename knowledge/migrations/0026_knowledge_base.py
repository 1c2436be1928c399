"""The knowledge base (issue 20): the `editor` role on user accounts; entries and their versions, searches, uses in calls, gaps, and the search
index of the published entries (an FTS5 table on SQLite; a tsvector with a GIN index on PostgreSQL).

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


ROLES = ("agent", "supervisor", "engineer", "auditor", "admin")


def _roles(roles: tuple[str, ...]) -> None:
    """The users' role check (0018) with these roles; no table references users, so its rebuild on SQLite
    touches nothing else."""
    with op.batch_alter_table("users", recreate="always") as batch:
        batch.drop_constraint("ck_users_role", type_="check")
        batch.create_check_constraint("ck_users_role", "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")")


def upgrade() -> None:
    _roles((*ROLES, "editor"))  # a department's knowledge editor
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("questions", sa.JSON, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("keywords", sa.JSON, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date),
        sa.Column("review_by", sa.Date, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("source_date", sa.Date),
        sa.Column("phone", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("edited_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("checked_by", sa.String(64)),
        sa.Column("checked_at", UtcDateTime()),
        sa.Column("published_at", UtcDateTime()),
        sa.Column("policy_changed_at", UtcDateTime()),
        sa.Column("withdrawn_reason", sa.String(500)),
        sa.Column("uses", sa.Integer, nullable=False),
        sa.Column("pending", sa.JSON),
        sa.CheckConstraint("state IN ('draft', 'checked', 'published', 'expired', 'withdrawn')",
                           name="ck_knowledge_entries_state"),
    )
    op.create_index("ix_knowledge_entries_department_state", "knowledge_entries", ["department", "state"])
    op.create_index("ix_knowledge_entries_state", "knowledge_entries", ["state"])
    op.create_index("ix_knowledge_entries_review_by", "knowledge_entries", ["review_by"])
    op.create_table(
        "knowledge_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("knowledge_entries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
    )
    op.create_index("ix_knowledge_versions_entry_id", "knowledge_versions", ["entry_id"])
    op.create_table(
        "knowledge_searches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("q", sa.String(200), nullable=False),
        sa.Column("results", sa.Integer, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("line", sa.String(32)),
    )
    op.create_index("ix_knowledge_searches_at", "knowledge_searches", ["at"])
    op.create_table(
        "knowledge_uses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("knowledge_entries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(32)),
        sa.Column("line", sa.String(32)),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
    )
    op.create_index("ix_knowledge_uses_entry_id", "knowledge_uses", ["entry_id"])
    op.create_index("ix_knowledge_uses_call_id", "knowledge_uses", ["call_id"])
    op.create_index("ix_knowledge_uses_at", "knowledge_uses", ["at"])
    op.create_table(
        "knowledge_gaps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("agent", sa.String(32)),
        sa.Column("line", sa.String(32)),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("closed_at", UtcDateTime()),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("knowledge_entries.id", ondelete="SET NULL")),
        sa.Column("note", sa.String(500)),
    )
    op.create_index("ix_knowledge_gaps_call_id", "knowledge_gaps", ["call_id"])
    op.create_index("ix_knowledge_gaps_state", "knowledge_gaps", ["state"])
    if op.get_bind().dialect.name == "sqlite":
        # rowid = the entry's id; each column is space-joined terms (see knowledge.index)
        op.execute("CREATE VIRTUAL TABLE knowledge_fts USING fts5(terms, pinyin, initials, grams, "
                   "tokenize='unicode61')")
    else:
        op.execute("CREATE TABLE knowledge_index (entry_id INTEGER PRIMARY KEY REFERENCES knowledge_entries(id) "
                   "ON DELETE CASCADE, document tsvector NOT NULL)")
        op.execute("CREATE INDEX ix_knowledge_index_document ON knowledge_index USING GIN (document)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE knowledge_fts")
    else:
        op.execute("DROP TABLE knowledge_index")
    for table in ("knowledge_gaps", "knowledge_uses", "knowledge_searches", "knowledge_versions",
                  "knowledge_entries"):
        op.drop_table(table)
    op.execute("DELETE FROM users WHERE role = 'editor'")
    _roles(ROLES)
