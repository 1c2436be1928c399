"""SQL tables: call records, their recordings and ratings, tickets and their delivery, API tokens, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


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
    recordings: Mapped[list[Recording]] = relationship(back_populates="call", order_by="Recording.id",
                                                      lazy="selectin")


class Recording(Base):
    """A recording of a call: the WAV Asterisk writes (`recording`), then the compact stored copy (`stored`)."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)  # where the audio is now: the WAV, then the stored file
    format: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(index=True)
    size_bytes: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="recording", index=True)  # recording | stored
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


class Ticket(Base):
    """A ticket (工单): one issue of one petitioner (R-TKT-1, R-TKT-2), from draft to the case system's closure."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    request_type: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(8))
    complex_case: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(100), default="")
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    petitioner_name: Mapped[str] = mapped_column(String(64), default="")
    petitioner_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    petitioner_address: Mapped[str] = mapped_column(String(200), default="")
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    revisit_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    petitioner_enterprise: Mapped[bool] = mapped_column(Boolean, default=False)  # revisited by a person
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)  # its recordings outlive the retention period
    legal_hold_reason: Mapped[str] = mapped_column(String(200), default="")
    handling_unit: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    deadlines: Mapped[dict[str, Any]] = mapped_column(default=dict)
    case_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    calls: Mapped[list[TicketCall]] = relationship(order_by="TicketCall.linked_at", lazy="selectin",
                                                   cascade="all, delete-orphan")


class TicketCall(Base):
    """A call a ticket came from: a call may give several tickets, a ticket may gather several calls."""

    __tablename__ = "ticket_calls"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="RESTRICT"), primary_key=True,
                                         index=True)
    linked_at: Mapped[datetime]


class TicketEvent(Base):
    """One line of a ticket's timeline: created, submitted, delivered, and each case-system status."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxMessage(Base):
    """A message to the case system, written in the same transaction as the change it reports."""

    __tablename__ = "case_outbox"
    __table_args__ = (Index("ix_case_outbox_pending", "delivered_at", "dead", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    dead: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookReceipt(Base):
    """A case-system event already accepted: a replay of the same event id is refused."""

    __tablename__ = "case_webhook_receipts"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


RULES_CAMPAIGN = 1  # the standing campaign of tasks made by rules (closed tickets, calls, callback requests)


class RevisitCampaign(Base):
    """A named set of revisit tasks that operators follow, pause and resume: the standing one of the
    rules (RULES_CAMPAIGN, made by the migration) or one per upload."""

    __tablename__ = "revisit_campaigns"
    __table_args__ = (CheckConstraint("source IN ('rules', 'upload')", name="ck_revisit_campaigns_source"),
                      CheckConstraint("state IN ('active', 'paused', 'finished')", name="ck_revisit_campaigns_state"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))  # rules | upload
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | paused | finished
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class RevisitTask(Base):
    """A petitioner to call back (R-REV-1/2): from a closed ticket, an unrated call, a bad rating..."""

    __tablename__ = "revisit_tasks"
    __table_args__ = (UniqueConstraint("ticket_id", "reason", name="uq_revisit_tasks_ticket_reason"),
                      UniqueConstraint("call_id", "reason", name="uq_revisit_tasks_call_reason"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    number: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    mode: Mapped[str] = mapped_column(String(16), default="robot")  # robot | human
    created_at: Mapped[datetime]
    # the dialer's bookkeeping (callback.tasks): pending → calling → done | retry → … | failed | human
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str | None] = mapped_column(String(32))  # completed | refused | human | no_input | exhausted…
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    finished_at: Mapped[datetime | None]
    salutation: Mapped[str] = mapped_column(String(64), default="")  # 李女士: whom the robot asks for
    topic: Mapped[str] = mapped_column(String(100), default="")  # the issue, as the petitioner put it
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("revisit_campaigns.id", name="fk_revisit_tasks_campaign"), index=True, default=RULES_CAMPAIGN,
        server_default=str(RULES_CAMPAIGN))


class RevisitAttempt(Base):
    """One call the dialer placed for a revisit task, and how it ended."""

    __tablename__ = "revisit_attempts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("revisit_tasks.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))  # answered | no_answer | busy | invalid_number …
    cause: Mapped[int | None]


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(32))
    group: Mapped[str | None] = mapped_column(String(32))  # a supervisor's team; None: the whole centre
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who accessed what, when, from where, and whether it was allowed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(Text)
    allowed: Mapped[bool]
    remote: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
