"""Tables of quality review: the current score of a call, every scoring kept as history, the comment thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db.base import Base


class QualityScore(Base):
    """A call's current score on the sheet (one per call); each change is also a `QualityScoreChange`."""

    __tablename__ = "quality_scores"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True)
    agent: Mapped[str | None] = mapped_column(String(32), index=True)  # who took the call (for per-agent figures)
    items: Mapped[dict[str, Any]] = mapped_column()  # sheet item key -> points given
    total: Mapped[int] = mapped_column(Integer)
    max: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    scored_by: Mapped[str] = mapped_column(String(64))
    scored_at: Mapped[datetime] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class QualityScoreChange(Base):
    """One scoring of a call, as given (the first and every change after it); never altered."""

    __tablename__ = "quality_score_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[dict[str, Any]] = mapped_column()
    total: Mapped[int] = mapped_column(Integer)
    max: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    scored_by: Mapped[str] = mapped_column(String(64))
    scored_at: Mapped[datetime]


class QualityComment(Base):
    """A remark on a reviewed call: from the reviewer, or the agent's reply on their own call."""

    __tablename__ = "quality_comments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
