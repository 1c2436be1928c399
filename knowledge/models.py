"""Tables of the knowledge base: entries, their versions, searches, uses in calls and gaps.

The search index (`knowledge_fts` on SQLite, `knowledge_index` on PostgreSQL) is made by the migration and
kept by `knowledge.index`; it holds the published entries only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db.base import Base

STATES = ("draft", "checked", "published", "expired", "withdrawn")


class KnowledgeEntry(Base):
    """One agreed answer (答复口径) of a department, with the questions citizens ask it by.

    `pending` holds the edited content of a published entry (its fields, `state` draft|checked, `edited_by`,
    `checked_by`): the published content stays found until the pending one is published over it."""

    __tablename__ = "knowledge_entries"
    __table_args__ = (CheckConstraint("state IN ('draft', 'checked', 'published', 'expired', 'withdrawn')",
                                      name="ck_knowledge_entries_state"),
                      Index("ix_knowledge_entries_department_state", "department", "state"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    questions: Mapped[list[Any]]
    answer: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16), default="")
    region: Mapped[str] = mapped_column(String(64), default="")
    keywords: Mapped[list[Any]]
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    review_by: Mapped[date] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(500), default="")
    source_date: Mapped[date | None] = mapped_column(Date)  # when the source document (the policy) took effect
    phone: Mapped[bool] = mapped_column(default=False)  # may be read to callers by the IVR
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    edited_by: Mapped[str] = mapped_column(String(64))  # who wrote the content being checked
    updated_at: Mapped[datetime]
    checked_by: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    policy_changed_at: Mapped[datetime | None]  # the source changed in an update not yet published
    withdrawn_reason: Mapped[str | None] = mapped_column(String(500))
    uses: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[dict[str, Any] | None]


class KnowledgeVersion(Base):
    """One change of an entry: who, when, what (each changed field's old and new value)."""

    __tablename__ = "knowledge_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # created imported edited checked published withdrawn expired
    changes: Mapped[dict[str, Any]]


class KnowledgeSearch(Base):
    """One search by an agent or the public API: for the "searches without results" figure."""

    __tablename__ = "knowledge_searches"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    q: Mapped[str] = mapped_column(String(200))
    results: Mapped[int] = mapped_column(Integer)
    by: Mapped[str] = mapped_column(String(64))
    line: Mapped[str | None] = mapped_column(String(32))


class KnowledgeUse(Base):
    """A call answered from an entry (the direct-answer figure)."""

    __tablename__ = "knowledge_uses"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    agent: Mapped[str | None] = mapped_column(String(32))
    line: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(index=True)
    by: Mapped[str] = mapped_column(String(64))


class KnowledgeGap(Base):
    """A question the knowledge base had no answer for (知识库查无), for the knowledge staff."""

    __tablename__ = "knowledge_gaps"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    question: Mapped[str] = mapped_column(String(500))
    agent: Mapped[str | None] = mapped_column(String(32))
    line: Mapped[str | None] = mapped_column(String(32))
    reported_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(8), default="open", index=True)  # open | closed
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_entries.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
