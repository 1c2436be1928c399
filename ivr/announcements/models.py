"""The announcements' table: one row per announcement, never deleted (the log of who published what, when,
for which lines)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db.base import Base


class Announcement(Base):
    """A hot-issue announcement (热点播报): its words, its audio, its lines and hours, and its changes."""

    __tablename__ = "announcements"
    __table_args__ = (CheckConstraint("audio IN ('synthesised', 'recorded')", name="ck_announcements_audio"),
                      Index("ix_announcements_window", "ended_at", "ends_at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(1200))  # what is said (≤ 300 characters); the recording's words
    audio: Mapped[str] = mapped_column(String(16))  # synthesised | recorded
    sound: Mapped[str] = mapped_column(String(64))  # the audio file's name in the announcements folder
    seconds: Mapped[float] = mapped_column(Float)  # how long callers hear it
    lines: Mapped[list[Any]] = mapped_column(default=list)  # inbound numbers; [] = every line
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    ended_by: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None]
    entry_id: Mapped[int | None]  # the knowledge-base entry it points to (issue 20), if any
    changes: Mapped[list[Any]] = mapped_column(default=list)  # [{"at", "by", "change", …}]: every change kept
