"""What agents report from a call: answered from entry N (the direct-answer figure; a line on the call's
tickets) or not in the knowledge base (a gap for the knowledge staff, closed with an entry or a note)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hotline.calls.records import CallView
from hotline.core.clock import now
from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Conflict, NotFound
from knowledge.models import KnowledgeEntry, KnowledgeGap, KnowledgeUse
from tickets.timeline import note_call


class GapNotFound(NotFound):
    error_id = "gap_not_found"


def _gap(row: KnowledgeGap) -> dict[str, Any]:
    return {"id": row.id, "call_id": row.call_id, "question": row.question, "agent": row.agent, "line": row.line,
            "reported_by": row.reported_by, "at": row.at.isoformat(), "state": row.state,
            "closed_by": row.closed_by, "closed_at": row.closed_at.isoformat() if row.closed_at else None,
            "entry_id": row.entry_id, "note": row.note}


class CallKnowledge:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def used(self, call: CallView, entry_id: int, by: str) -> dict[str, Any]:
        """The call was answered from the entry (a published one); the call's tickets get a line."""
        async with self.sessions.begin() as s:
            entry = await s.get(KnowledgeEntry, entry_id, with_for_update=True)
            if entry is None or entry.state != "published":
                raise NotFound(f"no published knowledge entry {entry_id}", error_id="entry_not_found")
            if await s.scalar(select(KnowledgeUse.id).where(KnowledgeUse.call_id == call.call_id,
                                                            KnowledgeUse.entry_id == entry_id)) is not None:
                raise Conflict(f"call {call.call_id} is marked answered from entry {entry_id} already",
                               error_id="already_used")
            entry.uses += 1
            s.add(KnowledgeUse(entry_id=entry_id, call_id=call.call_id, agent=call.agent, line=call.dialled,
                               at=now(), by=by))
            tickets = await note_call(s, call.call_id, "knowledge_used", by, entry_id=entry_id, title=entry.title)
        return {"call_id": call.call_id, "entry_id": entry_id, "uses": entry.uses, "tickets": tickets}

    async def gap(self, call: CallView, question: str, by: str) -> dict[str, Any]:
        async with self.sessions.begin() as s:
            row = KnowledgeGap(call_id=call.call_id, question=question, agent=call.agent, line=call.dialled,
                               reported_by=by, at=now(), state="open")
            s.add(row)
            await s.flush()
        return _gap(row)

    async def gaps(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        query = select(KnowledgeGap).order_by(KnowledgeGap.id.desc()).limit(limit)
        if state:
            query = query.where(KnowledgeGap.state == state)
        async with self.sessions() as s:
            return [_gap(r) for r in (await s.scalars(query)).all()]

    async def close_gap(self, gap_id: int, by: str, entry_id: int | None, note: str | None) -> dict[str, Any]:
        async with self.sessions.begin() as s:
            row = await s.get(KnowledgeGap, gap_id, with_for_update=True)
            if row is None:
                raise GapNotFound(f"no gap {gap_id}")
            if row.state == "closed":
                raise Conflict(f"gap {gap_id} is closed already", error_id="gap_closed")
            if entry_id is not None and await s.get(KnowledgeEntry, entry_id) is None:
                raise NotFound(f"no knowledge entry {entry_id}", error_id="entry_not_found")
            row.state, row.closed_by, row.closed_at, row.entry_id, row.note = "closed", by, now(), entry_id, note
        return _gap(row)
