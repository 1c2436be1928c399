"""The rows around the calls, per China day: tickets submitted (by request type, category or region), revisit
tasks of tickets (due when planned; done, with their result) and callbacks (requested, closed, reached)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callback.models import RevisitTask
from callback.worklist import CLOSED, KINDS
from console.reports.figures import Figures
from console.reports.periods import Span
from console.reports.sql import china_day
from tickets.models import Ticket

T, R = Ticket, RevisitTask
TICKET_KEYS = {"request_type": T.request_type, "category": T.category}  # no region on tickets yet


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
    """{day: Figures with tickets, revisits and callbacks filled in}."""
    dialect = s.get_bind().dialect.name
    out: dict[int, Figures] = {}

    def at(day: int) -> Figures:
        return out.setdefault(day, Figures())

    for (day, _), n in (await ticket_counts(s, span)).items():
        at(day).tickets = n
    planned = china_day(R.created_at, dialect)
    revisits = select(planned, R.status, R.result, func.count()).where(
        R.ticket_id.is_not(None), R.created_at >= span.start, R.created_at < span.end
    ).group_by(planned, R.status, R.result)
    for day, status, result, n in (await s.execute(revisits)).all():
        f = at(int(day))
        f.revisits_due += n
        if status == "done":
            f.revisits_done += n
            f.revisit_results[result or "done"] += n
    callbacks = select(planned, R.status, R.result, func.count()).where(
        R.reason.in_(KINDS), R.mode == "human", R.created_at >= span.start, R.created_at < span.end
    ).group_by(planned, R.status, R.result)
    for day, status, result, n in (await s.execute(callbacks)).all():
        f = at(int(day))
        f.callbacks_requested += n
        if status in CLOSED:
            f.callbacks_done += n
        if result == "reached":
            f.callbacks_reached += n
    return out
