"""Service figures per line and per skill from the stored call records, for the wallboard.

A call counts once, on the line it dialled (`dialled`) and the skill of its first `queued` step, when that
first `queued` step lies in the window (today since 00:00 China time, or the last 30 minutes). Its wait is
from that step to its first `agent` step (the agent answered). Calls the hotline placed (revisits, duty calls,
callbacks) never count. For each line and skill:

    offered      = calls that queued for an agent in the window, less the deflected (outcome `callback_requested`
                   or `voice_message`: served otherwise, as in the ACD's own figures)
    answered     = offered calls an agent answered
    answered_15s = answered calls whose wait was at most 15 s
    abandoned    = offered calls that left without an agent (`abandoned_in_queue`, or ended while `queued`)
    sl_15s       = answered_15s ÷ decided, where decided = offered less the callers still waiting for 15 s or less
                   (they may still be answered in time); 1.0 when nobody was decided yet

so the 30-minute service level is "answered within 15 s ÷ offered" over the callers whose fate is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from acd.scripts import SL_THRESHOLD_MS
from hotline.calls.models import CallRecord
from hotline.calls.records import OUTBOUND_MODES
from hotline.core.db.engine import SessionFactory

DEFLECTED = ("callback_requested", "voice_message")
LONGEST_IVR = timedelta(minutes=15)  # how long before its queueing a counted call may have started
SL_S = SL_THRESHOLD_MS / 1000


@dataclass(frozen=True)
class QueuedCall:
    """What the figures need of one call record."""

    line: str
    skill: str
    queued_at: datetime
    answered_after_s: float | None  # the wait until an agent answered; None: no agent
    outcome: str | None
    ended: bool

    @staticmethod
    def of(line: str, route_skill: str | None, steps: list[dict[str, Any]] | None, outcome: str | None,
           ended_at: datetime | None) -> QueuedCall | None:
        """The call as queued (from its record's columns), or None when it never queued for an agent."""
        steps = list(steps or [])
        queued = next((s for s in steps if s.get("step") == "queued"), None)
        if queued is None:
            return None
        at = datetime.fromisoformat(queued["at"])
        agent = next((s for s in steps if s.get("step") == "agent"), None)
        waited = (datetime.fromisoformat(agent["at"]) - at).total_seconds() if agent is not None else None
        skill = str((queued.get("detail") or {}).get("skill") or route_skill or "")
        return QueuedCall(line, skill, at, None if waited is None else max(0.0, waited), outcome,
                          ended_at is not None)


@dataclass
class Tally:
    """Counts of one line or skill over one window."""

    offered: int = 0
    answered: int = 0
    answered_15s: int = 0
    abandoned: int = 0
    undecided: int = 0  # still waiting, for 15 s or less

    def add(self, call: QueuedCall, now: datetime) -> None:
        if call.outcome in DEFLECTED and call.answered_after_s is None:
            return
        self.offered += 1
        if call.answered_after_s is not None:
            self.answered += 1
            self.answered_15s += call.answered_after_s <= SL_S
        elif call.outcome == "abandoned_in_queue" or call.ended:
            self.abandoned += 1
        elif (now - call.queued_at).total_seconds() <= SL_S:
            self.undecided += 1

    @property
    def sl_15s(self) -> float:
        decided = self.offered - self.undecided
        return round(self.answered_15s / decided, 4) if decided > 0 else 1.0


@dataclass
class Figures:
    """Tallies by line and by skill for one window."""

    lines: dict[str, Tally] = field(default_factory=dict)
    skills: dict[str, Tally] = field(default_factory=dict)

    def add(self, call: QueuedCall, now: datetime) -> None:
        self.lines.setdefault(call.line, Tally()).add(call, now)
        self.skills.setdefault(call.skill, Tally()).add(call, now)


def tally(calls: Iterable[QueuedCall], since: datetime, now: datetime) -> Figures:
    """The figures of the calls first queued at or after `since` (see the module's docstring)."""
    figures = Figures()
    for call in calls:
        if call.queued_at >= since:
            figures.add(call, now)
    return figures


async def queued_calls(sessions: SessionFactory, since: datetime) -> list[QueuedCall]:
    """The inbound calls that may have queued since `since` (those that never queued are left out)."""
    query = select(CallRecord.dialled, CallRecord.route_skill, CallRecord.steps, CallRecord.outcome,
                   CallRecord.ended_at).where(
        CallRecord.started_at >= since - LONGEST_IVR,
        or_(CallRecord.route_mode.is_(None), CallRecord.route_mode.not_in(OUTBOUND_MODES)))
    async with sessions() as s:
        rows = (await s.execute(query)).all()
    return [c for c in (QueuedCall.of(*r) for r in rows) if c is not None]
