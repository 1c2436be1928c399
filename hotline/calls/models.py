"""Tables of the calls domain: call records, their recording files and ratings, caller lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.db.base import Base


class CallRecord(Base):
    """One call into (or out of) the hotline, as the parts saw it."""

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sip_call_id: Mapped[str | None] = mapped_column(String(255), index=True)
    caller: Mapped[str] = mapped_column(String(64), index=True)
    dialled: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    route_mode: Mapped[str | None] = mapped_column(String(32))
    route_skill: Mapped[str | None] = mapped_column(String(64))
    route_prompt: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(32), index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_status: Mapped[str | None] = mapped_column(String(16))  # rated | not_rated
    route_overflow: Mapped[str | None] = mapped_column(String(32))  # why a sub-centre call went to 12345
    outcome: Mapped[str | None] = mapped_column(String(32))
    hangup_cause: Mapped[str | None] = mapped_column(String(64))
    failsafe_reason: Mapped[str | None] = mapped_column(String(128))
    steps: Mapped[list[Any]] = mapped_column(default=list)
    # written as it happens, for the reports (console.reports, docs/kpis.md); see CallRecords
    queued_at: Mapped[datetime | None]  # first put in a queue for a person
    connected_at: Mapped[datetime | None]  # first answered by an agent
    wait_s: Mapped[float | None]  # queued → agent answered, or → hang-up for a caller who left the queue
    talk_s: Mapped[float | None]  # agent answered → hang-up
    wrap_up_s: Mapped[float | None]  # the agent's wrap-up after the call (from the agent-state log)
    self_service: Mapped[str | None] = mapped_column(String(16))  # what served it: ticket_progress|callback|knowledge
    recordings: Mapped[list[Recording]] = relationship(back_populates="call", order_by="Recording.id",
                                                      lazy="selectin")


class Recording(Base):
    """A recording of a call: the WAV Asterisk writes (`recording`), then the compact stored copy (`stored`)."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_due", "status", "next_attempt_at"),
                      Index("ix_recordings_backup_due", "status", "backup_state", "backup_next_at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)  # where the audio is now: the WAV, then the stored file
    format: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(index=True)
    size_bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    # recording | stored | expired | dead (gave up after the attempt cap: the WAV stays, see `error`)
    status: Mapped[str] = mapped_column(String(16), default="recording", index=True)
    wav_path: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float | None]
    stored_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    channels: Mapped[int] = mapped_column(Integer, default=1)  # 2: caller left, what the caller heard right
    analysis: Mapped[dict[str, Any] | None]  # speech ratios, longest silence, talk-over (recordings.analysis)
    review: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # flagged for quality review
    waveform_path: Mapped[str | None] = mapped_column(Text)
    expired_at: Mapped[datetime | None]  # audio deleted by the retention policy; the row stays as evidence
    next_attempt_at: Mapped[datetime | None]  # after a failure: not tried again before
    key_id: Mapped[str | None] = mapped_column(String(16))  # the key the stored files are sealed with; None: plain
    backup_path: Mapped[str | None] = mapped_column(Text)  # the copy in the backup store
    backup_state: Mapped[str | None] = mapped_column(String(16))  # None: due | done | dead (see backup_error)
    backup_attempts: Mapped[int] = mapped_column(Integer, default=0)
    backup_next_at: Mapped[datetime | None]
    backup_error: Mapped[str | None] = mapped_column(Text)
    call: Mapped[CallRecord] = relationship(back_populates="recordings")


class Rating(Base):
    """The caller's keypad rating of a call (R-RATE-1); one per call, enforced by the database."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="ck_ratings_level"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"), unique=True)
    agent: Mapped[str | None] = mapped_column(String(32), index=True)
    rating: Mapped[int]
    label: Mapped[str] = mapped_column(String(16))
    rated_at: Mapped[datetime]


class CallerListEntry(Base):
    """A number on a caller list: vip / elderly (queue priority), watch (warned, flagged), blocked (refused)."""

    __tablename__ = "caller_lists"
    __table_args__ = (UniqueConstraint("number", "kind", name="uq_caller_lists_number_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime]


class CallerMeasure(Base):
    """One decision on a nuisance caller (R-ACC-7): a warning, a pause / stop / suspension of service for a
    set period, or the lifting of the measure in force; who decided and why. Rows are never changed: the
    latest decision for a number governs until its `ends_at` passes."""

    __tablename__ = "caller_measures"
    __table_args__ = (
        Index("ix_caller_measures_number_decided", "number", "decided_at"),
        CheckConstraint("measure IN ('warning', 'pause', 'stop', 'suspend', 'lift')", name="ck_caller_measures_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32))
    measure: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]  # None: until lifted or replaced (a warning); refusals always end
