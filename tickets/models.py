"""Tables of the tickets domain: tickets, the calls linked to them, their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.db.base import Base


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
    region: Mapped[str] = mapped_column(String(32), default="", index=True)  # the district (区县) it is about
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    deadlines: Mapped[dict[str, Any]] = mapped_column(default=dict)
    case_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    redacted_at: Mapped[datetime | None]  # personal fields blanked by the retention policy (tickets.retention)
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
