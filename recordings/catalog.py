"""Finding recordings (R-REC-1): by call, caller's number, agent, ticket, day or the review flag, each with the
call's agent and caller and the tickets it belongs to (whether one of them is confidential).

Who may hear what is the access table's (`recordings.search`, `recordings.play`, `tickets.confidential`),
applied by the routes in `recordings.http`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select

from hotline.calls.models import CallRecord, Recording
from hotline.core.clock import CHINA
from hotline.core.db.engine import SessionFactory
from recordings.store import Store
from tickets.models import Ticket, TicketCall


@dataclass(frozen=True)
class Found:
    """A recording with what deciding on it needs: its call's agent, whether a confidential ticket holds it."""

    recording: Recording
    agent: str | None
    caller: str
    confidential: bool
    tickets: list[str]

    def to_json(self, group: str | None = None) -> dict[str, Any]:
        """The recording as the API shows it; `group`: the team of the agent who took the call."""
        r = self.recording
        return {"id": r.id, "call_id": r.call_id, "status": r.status, "format": r.format, "size_bytes": r.size_bytes,
                "sha256": r.sha256, "duration_s": r.duration_s, "started_at": r.started_at.isoformat(),
                "stored_at": r.stored_at.isoformat() if r.stored_at else None, "channels": r.channels,
                "review": r.review, "analysis": r.analysis, "waveform": r.waveform_path is not None,
                "expired_at": r.expired_at.isoformat() if r.expired_at else None, "agent": self.agent,
                "caller": self.caller, "group": group, "tickets": self.tickets, "confidential": self.confidential}


class RecordingCatalog:
    """The recordings' index in the database and the store that holds their audio."""

    def __init__(self, sessions: SessionFactory, store: Store) -> None:
        self.sessions, self.store = sessions, store

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
                      [n for n, _ in by_call.get(c.call_id, [])]) for r, c in rows]

    async def get(self, recording_id: int) -> Found | None:
        found = await self._found(select(Recording, CallRecord).join(CallRecord)
                                  .where(Recording.id == recording_id))
        return found[0] if found else None

    async def search(self, *, call_id: str | None = None, number: str | None = None, agent: str | None = None,
                     ticket: str | None = None, day: date | None = None, review: bool = False,
                     agents: Collection[str] | None = None, limit: int = 50) -> list[Found]:
        """Newest first; `agents` limits them to the calls these agents handled (None: any)."""
        query = select(Recording, CallRecord).join(CallRecord).order_by(Recording.started_at.desc()).limit(limit)
        if review:
            query = query.where(Recording.review.is_(True))
        if call_id:
            query = query.where(Recording.call_id == call_id)
        if number:
            query = query.where(CallRecord.caller == number)
        if agent:
            query = query.where(CallRecord.agent == agent)
        if agents is not None:
            query = query.where(CallRecord.agent.in_(agents))
        if ticket:
            query = query.where(Recording.call_id.in_(
                select(TicketCall.call_id).join(Ticket).where(Ticket.number == ticket)))
        if day:
            start = datetime.combine(day, time(0), tzinfo=CHINA)
            query = query.where(Recording.started_at >= start, Recording.started_at < start + timedelta(days=1))
        return await self._found(query)
