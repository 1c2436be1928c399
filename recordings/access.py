"""Finding recordings and deciding who may hear them (R-REC-1, R-SEC-1).

An agent hears the calls they took; a supervisor the calls of their team's agents (a supervisor
token without a team: the whole centre); auditors and admins all calls; a call that belongs to a
confidential ticket only supervisors and admins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select

from hotline.calls.models import CallRecord, Recording
from hotline.core.clock import CHINA
from hotline.core.db.engine import SessionFactory
from hotline.core.web.tokens import Principal
from recordings.store import Store
from tickets.models import Ticket, TicketCall

LISTENERS = frozenset({"agent", "supervisor", "auditor", "admin"})
CONFIDENTIAL_LISTENERS = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class Found:
    recording: Recording
    agent: str | None
    caller: str
    confidential: bool
    tickets: list[str]
    group: str | None = None  # the team of the agent who took the call

    def may_listen(self, who: Principal) -> bool:
        if who.role not in LISTENERS:
            return False
        if self.confidential and who.role not in CONFIDENTIAL_LISTENERS:
            return False
        if who.role == "supervisor" and who.group is not None:
            return who.group == self.group
        return who.role != "agent" or (who.agent_id is not None and who.agent_id == self.agent)

    def to_json(self) -> dict[str, Any]:
        r = self.recording
        return {"id": r.id, "call_id": r.call_id, "status": r.status, "format": r.format, "size_bytes": r.size_bytes,
                "sha256": r.sha256, "duration_s": r.duration_s, "started_at": r.started_at.isoformat(),
                "stored_at": r.stored_at.isoformat() if r.stored_at else None, "channels": r.channels,
                "review": r.review, "analysis": r.analysis, "waveform": r.waveform_path is not None,
                "expired_at": r.expired_at.isoformat() if r.expired_at else None, "agent": self.agent,
                "caller": self.caller, "group": self.group, "tickets": self.tickets, "confidential": self.confidential}


class RecordingCatalog:
    def __init__(self, sessions: SessionFactory, store: Store, groups: Mapping[str, str] | None = None) -> None:
        self.sessions, self.store = sessions, store
        self.groups = dict(groups or {})  # agent id → team, from the dialplan file

    async def _found(self, query: Select[Recording, CallRecord]) -> list[Found]:
        async with self.sessions() as s:
            rows = (await s.execute(query)).all()
            calls = [c.call_id for _, c in rows]
            links = (await s.execute(select(TicketCall.call_id, Ticket.number, Ticket.confidential).join(Ticket)
                                     .where(TicketCall.call_id.in_(calls)))).all() if calls else []
        by_call: dict[str, list[tuple[str, bool]]] = {}
        for call_id, number, confidential in links:
            by_call.setdefault(call_id, []).append((number, confidential))
        return [Found(r, c.agent, c.caller, any(conf for _, conf in by_call.get(c.call_id, [])),
                      [n for n, _ in by_call.get(c.call_id, [])], self.groups.get(c.agent or "")) for r, c in rows]

    async def get(self, recording_id: int) -> Found | None:
        found = await self._found(select(Recording, CallRecord).join(CallRecord)
                                  .where(Recording.id == recording_id))
        return found[0] if found else None

    async def search(self, *, call_id: str | None = None, number: str | None = None, agent: str | None = None,
                     ticket: str | None = None, day: date | None = None, review: bool = False,
                     limit: int = 50) -> list[Found]:
        query = select(Recording, CallRecord).join(CallRecord).order_by(Recording.started_at.desc()).limit(limit)
        if review:
            query = query.where(Recording.review.is_(True))
        if call_id:
            query = query.where(Recording.call_id == call_id)
        if number:
            query = query.where(CallRecord.caller == number)
        if agent:
            query = query.where(CallRecord.agent == agent)
        if ticket:
            query = query.where(Recording.call_id.in_(
                select(TicketCall.call_id).join(Ticket).where(Ticket.number == ticket)))
        if day:
            start = datetime.combine(day, time(0), tzinfo=CHINA)
            query = query.where(Recording.started_at >= start, Recording.started_at < start + timedelta(days=1))
        return await self._found(query)
