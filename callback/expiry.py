"""Revisits when a ticket's time limit expires unclosed (R-REV-1).

Beijing 5.5.1: "12345 热线电话的诉求，办理时限期满后，应全部或抽样联系诉求人进行回访。" A submitted ticket
still open when its handling time limit (the `feedback` deadline fixed at submission, Beijing or Tangshan
rules, `tickets.timelimits`), or that the case system reports `overdue`, gets the line `time_limit_expired`
on its timeline and, if the rules allow (`callback.closure`: the same exclusions as for closed tickets), a
revisit task (`time_limit_expired`): every such ticket, as these are the ones the standards single out to
check (Beijing 5.3.3 超期未办结的诉求, Tangshan 7.7.1 未解决问题重点核实). Once per ticket: the timeline
line marks it seen, in the transaction that plans the task, and the database allows one task per ticket
and reason.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select

from callback.closure import plan_revisit
from hotline.core.db.engine import SessionFactory
from hotline.core.workers import LoopWorker
from tickets.models import Ticket, TicketEvent
from tickets.timeline import add_event

log = logging.getLogger(__name__)
REASON = "time_limit_expired"
NOT_OPEN = ("draft", "closed")
OVERDUE = "overdue"  # the case system's word for it


def expired(status: str, deadlines: dict[str, Any], now: datetime) -> bool:
    """Whether an open ticket's handling time limit has passed (or the case system says so)."""
    if status == OVERDUE:
        return True
    due = deadlines.get("feedback")
    return isinstance(due, str) and datetime.fromisoformat(due) <= now


class ExpiredTickets(LoopWorker):
    """Looks every `every_s` for open tickets past their time limit that it has not seen yet."""

    name = "revisit-expired-tickets"

    def __init__(self, sessions: SessionFactory, every_s: float = 60.0) -> None:
        super().__init__()
        self._sessions, self._every_s = sessions, every_s

    async def step(self) -> float:
        planned = await self.scan()
        if planned:
            log.info("revisit: %d task(s) planned for tickets past their time limit", planned)
        return self._every_s

    async def scan(self, now: datetime | None = None) -> int:
        """Mark each newly expired ticket and plan its revisit; how many tasks were planned."""
        now = now or datetime.now(UTC)
        seen = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == REASON)
        async with self._sessions() as s:
            rows = (await s.execute(select(Ticket.id, Ticket.status, Ticket.deadlines).where(
                Ticket.status.not_in(NOT_OPEN), Ticket.submitted_at.is_not(None), ~seen))).all()
        planned = 0
        for ticket_id, status, deadlines in rows:
            if expired(status, deadlines or {}, now):
                planned += await self._expire(ticket_id)
        return planned

    async def _expire(self, ticket_id: int) -> bool:
        async with self._sessions.begin() as s:
            ticket = await s.get(Ticket, ticket_id, with_for_update=True)
            if ticket is None or ticket.status in NOT_OPEN or await s.scalar(select(TicketEvent.id).where(
                    TicketEvent.ticket_id == ticket_id, TicketEvent.kind == REASON)):
                return False  # closed meanwhile, or another scan was first
            add_event(s, ticket_id, REASON, "rules", deadline=(ticket.deadlines or {}).get("feedback"))
            return await plan_revisit(s, ticket, REASON)
