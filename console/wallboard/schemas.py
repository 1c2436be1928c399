"""The wallboard's answer, as the OpenAPI document shows it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class QueueRow(BaseModel):
    name: str
    waiting: int
    longest_wait_s: float
    sl_15s_today: float = Field(description="answered within 15 s ÷ decided callers, today (console.wallboard.figures)")
    sl_15s_30min: float = Field(description="the same over the last 30 minutes")
    abandoned_today: int
    offered_today: int
    answered_today: int
    answered_15s_today: int
    offered_30min: int
    answered_15s_30min: int
    decided_30min: int


class LineRow(QueueRow):
    line: str


class SkillRow(QueueRow):
    skill: str


class AgentRow(BaseModel):
    agent: str
    name: str
    team: str | None
    state: str
    since_s: float
    reason: str
    call_id: str | None
    caller_wait_s: float | None
    skills: list[str]


class CallbacksDue(BaseModel):
    due: int
    voice_messages_due: int
    overdue: int


class CampaignProgress(BaseModel):
    campaign: int
    name: str
    state: str
    total: int
    done: int
    pending: int
    reached: int
    reached_rate: float


class AlertRow(BaseModel):
    kind: str
    level: Literal["warning", "critical"]
    text: str
    subject: str


class Backlog(BaseModel):
    recordings: dict[str, int] | None
    case_outbox: dict[str, int] | None


class SupervisorPhone(BaseModel):
    phone: str
    name: str


class Snapshot(BaseModel):
    at: str
    figures_at: str
    lines: list[LineRow]
    skills: list[SkillRow]
    agents: list[AgentRow]
    states: dict[str, int]
    waiting: int
    callbacks: CallbacksDue
    revisits: list[CampaignProgress]
    alerts: list[AlertRow]
    backlog: Backlog
    thresholds: dict[str, float]
    supervisor_phones: list[SupervisorPhone]
