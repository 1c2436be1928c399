"""The call figures of a span, straight from the call records, grouped by China day and one optional key
(line, skill, hour, agent). What each count takes is in docs/kpis.md; in short, of the inbound calls started
in the span (the hotline's own calls out are left out):

- answered: an agent answered (`agent` set);
- self_served: no agent, and self-service served it (`self_service`: a ticket's progress told, a callback booked);
- abandoned: no agent, not self-served, left the queue (`abandoned_in_queue`, or still `queued` at hang-up);
- offered = answered + self_served + abandoned (as `acd/connection.py`'s asked, plus the self-served);
- queued: put in a queue for a person (`queued_at`); answered_15s: answered with `wait_s` ≤ 15.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from console.reports.figures import ANSWER_WITHIN_S, LEVELS, Figures
from console.reports.periods import Span
from console.reports.sql import ceil_s, china_day, china_hour
from hotline.calls.models import CallRecord
from hotline.calls.records import OUTBOUND_MODES

C = CallRecord
INBOUND = or_(C.route_mode.is_(None), C.route_mode.not_in(OUTBOUND_MODES))
ANSWERED = C.agent.is_not(None)
SELF_SERVED = and_(C.agent.is_(None), C.self_service.is_not(None))
ABANDONED = and_(C.agent.is_(None), C.self_service.is_(None),
                 or_(C.outcome == "abandoned_in_queue", and_(C.outcome == "queued", C.ended_at.is_not(None))))
QUEUED = C.queued_at.is_not(None)
KEYS = ("line", "skill", "hour", "agent")


@dataclass(frozen=True)
class CallFilter:
    """Which calls: a line (dialled number), a skill, the agents who answered (None: any)."""

    line: str | None = None
    skill: str | None = None
    agents: Collection[str] | None = None

    def where(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [INBOUND]
        if self.line:
            out.append(C.dialled == self.line)
        if self.skill:
            out.append(C.route_skill == self.skill)
        if self.agents is not None:
            out.append(C.agent.in_(list(self.agents)))
        return out


def _key(key: str | None, dialect: str) -> ColumnElement[Any] | None:
    columns = {"line": C.dialled, "skill": C.route_skill, "agent": C.agent}
    if key is None:
        return None
    return china_hour(C.started_at, dialect) if key == "hour" else columns[key]  # type: ignore[return-value]


async def call_figures(s: AsyncSession, span: Span, which: CallFilter, short_abandon_s: float,
                       key: str | None = None) -> dict[tuple[int, Hashable], Figures]:
    """{(day number, key value or None): Figures} of the calls started in the span."""
    dialect = s.get_bind().dialect.name
    day = china_day(C.started_at, dialect)
    by = _key(key, dialect)
    group = [day] if by is None else [day, by]
    where = [C.started_at >= span.start, C.started_at < span.end, *which.where()]
    count = func.count
    answered_wait = and_(ANSWERED, C.wait_s.is_not(None))
    query = select(
        *group,
        count().filter(or_(ANSWERED, SELF_SERVED, ABANDONED)), count().filter(ANSWERED), count().filter(SELF_SERVED),
        count().filter(QUEUED), count().filter(QUEUED, answered_wait, C.wait_s <= ANSWER_WITHIN_S),
        count().filter(ABANDONED), count().filter(ABANDONED, C.wait_s < short_abandon_s),
        count().filter(C.agent.is_(None), C.outcome == "voice_message"),
        count().filter(answered_wait), func.sum(C.wait_s).filter(answered_wait),
        count().filter(ANSWERED, C.talk_s.is_not(None)), func.sum(C.talk_s).filter(ANSWERED),
        count().filter(ANSWERED, C.wrap_up_s.is_not(None)), func.sum(C.wrap_up_s).filter(ANSWERED),
        count().filter(ANSWERED, C.rating.is_not(None)),
        *(count().filter(ANSWERED, C.rating == int(level)) for level in LEVELS),
    ).where(*where).group_by(*group)
    out: dict[tuple[int, Hashable], Figures] = {}
    width = len(group)
    for row in (await s.execute(query)).all():
        k = (int(row[0]), row[1] if width == 2 else None)
        v = list(row[width:])
        f = Figures(offered=v[0], answered=v[1], self_served=v[2], queued=v[3], answered_15s=v[4], abandoned=v[5],
                    short_abandoned=v[6], voice_messages=v[7], wait_n=v[8], wait_sum=float(v[9] or 0),
                    talk_n=v[10], talk_sum=float(v[11] or 0), wrap_up_n=v[12], wrap_up_sum=float(v[13] or 0),
                    rated=v[14])
        for level, n in zip(LEVELS, v[15:], strict=True):
            if n:
                f.satisfaction[level] = n
        out[k] = f
    second = ceil_s(C.wait_s, dialect)
    waits = select(*group, second, count()).where(*where, answered_wait).group_by(*group, second)
    for row in (await s.execute(waits)).all():
        k = (int(row[0]), row[1] if width == 2 else None)
        out.setdefault(k, Figures()).waits[int(row[width])] += row[width + 1]
    return out


def by_key(parts: dict[tuple[int, Hashable], Figures]) -> dict[Hashable, Figures]:
    """The per-day figures merged over the days, per key."""
    out: dict[Hashable, Figures] = defaultdict(Figures)
    for (_, key), f in parts.items():
        out[key].add(f)
    return dict(out)


def by_day(parts: dict[tuple[int, Hashable], Figures]) -> dict[int, Figures]:
    out: dict[int, Figures] = defaultdict(Figures)
    for (day, _), f in parts.items():
        out[day].add(f)
    return dict(out)
