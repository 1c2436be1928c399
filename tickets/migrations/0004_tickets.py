"""Tickets, their calls and timeline, the case-system outbox and webhook receipts, revisit tasks.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hotline.core.db.base import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("request_type", sa.String(8)),
        sa.Column("category", sa.String(16)),
        sa.Column("urgency", sa.String(8), nullable=False),
        sa.Column("complex_case", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("title", sa.String(100), nullable=False, server_default=""),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("petitioner_name", sa.String(64), nullable=False, server_default=""),
        sa.Column("petitioner_phone", sa.String(32), index=True),
        sa.Column("petitioner_address", sa.String(200), nullable=False, server_default=""),
        sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("revisit_consent", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("petitioner_enterprise", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("handling_unit", sa.String(100), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False, index=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("submitted_at", UtcDateTime()),
        sa.Column("deadlines", sa.JSON(), nullable=False),
        sa.Column("case_number", sa.String(64), unique=True),
    )
    op.create_table(
        "ticket_calls",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("call_id", sa.String(64), sa.ForeignKey("calls.call_id", ondelete="RESTRICT"), primary_key=True,
                  index=True),
        sa.Column("linked_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_table(
        "case_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("delivered_at", UtcDateTime()),
        sa.Column("dead", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index("ix_case_outbox_pending", "case_outbox", ["delivered_at", "dead", "next_attempt_at"])
    op.create_table(
        "case_webhook_receipts",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", UtcDateTime(), nullable=False, index=True),
    )
    op.create_table(
        "revisit_tasks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True),
        sa.Column("call_id", sa.String(64), index=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending", index=True),
        sa.Column("mode", sa.String(16), nullable=False, server_default="robot"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "reason", name="uq_revisit_tasks_ticket_reason"),
    )


def downgrade() -> None:
    for table in ("revisit_tasks", "case_webhook_receipts", "case_outbox", "ticket_events", "ticket_calls",
                  "tickets"):
        op.drop_table(table)
