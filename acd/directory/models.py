"""Tables of the agent directory: `agents` and `teams`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db.base import Base


class Team(Base):
    """A team (班组) of agents, looked after by its supervisors (a supervisor's account names its team)."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class DirectoryAgent(Base):
    """An agent and their phone: the id is the agent's number (工号) and their phone's SIP user."""

    __tablename__ = "agents"
    __table_args__ = (CheckConstraint("seat IN ('general', 'expert', 'sub_centre')", name="ck_agents_seat"),
                      CheckConstraint("phone IN ('sip', 'webrtc')", name="ck_agents_phone"))

    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    seat: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(ForeignKey("teams.name"), index=True)
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)  # skill -> level 1-5
    phone: Mapped[str] = mapped_column(String(8), default="sip")  # sip | webrtc
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
