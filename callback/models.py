"""Tables of the callback domain: revisit campaigns, tasks and the calls placed for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db.base import Base

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
    # a person's callback (mode human): the agent working it, since when (callback.worklist: 15 min without a call)
    claimed_by: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None]


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
    # an agent's callback: who called, how the dial to the citizen ended (ANSWER, NOANSWER…), their note
    agent: Mapped[str | None] = mapped_column(String(32))
    dial_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500))
