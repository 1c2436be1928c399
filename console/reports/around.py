"""The rows around the calls, per China day: tickets submitted (by request type, category or region), revisit
tasks of tickets (due when planned; done, with their result) and callbacks (requested, closed, reached).
Revisit and callback tasks change for days after they are planned, so they are always counted live (an index
on `created_at`), never rolled up."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callback.models import RevisitTask
from callback.worklist import CLOSED, KINDS
from console.reports.figures import Figures
from console.reports.periods import Span
from console.reports.sql import china_day
from tickets.models import Ticket

T, R = Ticket, RevisitTask
TICKET_KEYS = {"request_type": T.request_type, "category": T.category, "region": T.region}


async def ticket_counts(s: AsyncSession, span: Span, key: str | None = None,
                        creators: Collection[str] | None = None) -> dict[tuple[int, Any], int]:
    """{(day, key value): tickets submitted that day} (drafts are not tickets yet); `creators`: only theirs."""
    dialect = s.get_bind().dialect.name
    day = china_day(T.submitted_at, dialect)
    group: list[Any] = [day] if key is None else [day, TICKET_KEYS[key]]
    query = select(*group, func.count()).where(T.submitted_at >= span.start, T.submitted_at < span.end)
    if creators is not None:
        query = query.where(T.created_by.in_(list(creators)))
    rows = (await s.execute(query.group_by(*group))).all()
    return {(int(r[0]), r[1] if key else None): int(r[-1]) for r in rows}


async def around_figures(s: AsyncSession, span: Span) -> dict[int, Figures]:
    """{day: Figures with revisits and callbacks filled in} (tickets: `ticket_counts`)."""
    dialect = s.get_bind().dialect.name
    out: dict[int, Figures] = {}

    def at(day: int) -> Figures:
        return out.setdefault(day, Figures())

    planned = china_day(R.created_at, dialect)
    of_ticket = R.ticket_id.is_not(None)
    callback = and_(R.reason.in_(KINDS), R.mode == "human")
    tasks = select(planned, of_ticket, R.status, R.result, func.count()).where(
        or_(of_ticket, callback), R.created_at >= span.start, R.created_at < span.end
    ).group_by(planned, of_ticket, R.status, R.result)
    for day, revisit, status, result, n in (await s.execute(tasks)).all():
        f = at(int(day))
        if revisit:  # a ticket's revisit
            f.revisits_due += n
            if status == "done":
                f.revisits_done += n
                f.revisit_results[result or "done"] += n
        else:  # a person's callback: a callback request or a voice message
            f.callbacks_requested += n
            f.callbacks_done += n if status in CLOSED else 0
            f.callbacks_reached += n if result == "reached" else 0
    return out
