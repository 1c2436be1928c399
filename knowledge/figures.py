"""The knowledge base's figures (for the console and the departments' assessment).

- `by_department`: entries per state; `past_review` (published, review_by passed); `expiring` (review or
  validity ending within 14 days); `update_days_avg`: for publications in the period that followed a change
  of the entry's source (the policy): days from the source document's date (or, without one, from the edit
  that changed the source) to publishing the updated entry.
- `no_result_searches`: the queries that found nothing, most frequent first.
- `most_used`: entries by the calls answered from them in the period.
- `direct_answer`: per agent and per line, calls answered (taken by an agent) and how many of them were
  answered from an entry (the direct-answer rate, a KPI).
- `gaps_open`: gaps not closed yet.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import distinct, func, or_, select

from hotline.calls.models import CallRecord
from hotline.core.clock import china_today
from hotline.core.db.engine import SessionFactory
from knowledge.models import STATES, KnowledgeEntry, KnowledgeGap, KnowledgeSearch, KnowledgeUse, KnowledgeVersion
from knowledge.service import REMIND_DAYS, Reach, day_start

PERIOD_DAYS = 30  # without from=


def _rate(direct: int, calls: int) -> float:
    return round(direct / calls, 4) if calls else 0.0


class Figures:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def figures(self, reach: Reach, start: date | None, end: date | None) -> dict[str, Any]:
        today = china_today()
        end = end or today
        start = start or end - timedelta(days=PERIOD_DAYS - 1)
        since, until = day_start(start), day_start(end + timedelta(days=1))
        async with self.sessions() as s:
            return {"from": start.isoformat(), "to": end.isoformat(),
                    "by_department": await self._departments(s, reach, today, since, until),
                    "no_result_searches": await self._no_results(s, since, until),
                    "most_used": await self._most_used(s, reach, since, until),
                    "direct_answer": await self._direct(s, reach, since, until),
                    "gaps_open": await s.scalar(select(func.count()).select_from(KnowledgeGap)
                                                .where(KnowledgeGap.state == "open")) or 0}

    async def _departments(self, s: Any, reach: Reach, today: date, since: Any, until: Any) -> list[dict[str, Any]]:
        where = [] if reach.department is None else [KnowledgeEntry.department == reach.department]
        rows: dict[str, dict[str, Any]] = defaultdict(lambda: {**dict.fromkeys(STATES, 0), "past_review": 0,
                                                               "expiring": 0, "update_days_avg": None})
        for department, state, n in await s.execute(select(KnowledgeEntry.department, KnowledgeEntry.state,
                                                           func.count()).where(*where)
                                                    .group_by(KnowledgeEntry.department, KnowledgeEntry.state)):
            rows[department][state] = n
        for department, n in await s.execute(select(KnowledgeEntry.department, func.count()).where(
                *where, KnowledgeEntry.state == "published", KnowledgeEntry.review_by < today)
                .group_by(KnowledgeEntry.department)):
            rows[department]["past_review"] = n
        soon = today + timedelta(days=REMIND_DAYS)
        for department, n in await s.execute(select(KnowledgeEntry.department, func.count()).where(
                *where, KnowledgeEntry.state.in_(("draft", "checked", "published")),
                or_(KnowledgeEntry.review_by <= soon, KnowledgeEntry.valid_until <= soon))
                .group_by(KnowledgeEntry.department)):
            rows[department]["expiring"] = n
        days: dict[str, list[float]] = defaultdict(list)
        published = (select(KnowledgeEntry.department, KnowledgeVersion.changes)
                     .join(KnowledgeVersion, KnowledgeVersion.entry_id == KnowledgeEntry.id)
                     .where(*where, KnowledgeVersion.action == "published", KnowledgeVersion.at >= since,
                            KnowledgeVersion.at < until))
        for department, changes in await s.execute(published):
            if isinstance(changes, dict) and "update_days" in changes:
                days[department].append(float(changes["update_days"]))
        for department, values in days.items():
            rows[department]["update_days_avg"] = round(sum(values) / len(values), 2)
        return [{"department": d, **v} for d, v in sorted(rows.items())]

    async def _no_results(self, s: Any, since: Any, until: Any) -> list[dict[str, Any]]:
        n = func.count().label("n")
        rows = await s.execute(select(KnowledgeSearch.q, n).where(
            KnowledgeSearch.results == 0, KnowledgeSearch.at >= since, KnowledgeSearch.at < until)
            .group_by(KnowledgeSearch.q).order_by(n.desc(), KnowledgeSearch.q).limit(50))
        return [{"q": q, "count": c} for q, c in rows]

    async def _most_used(self, s: Any, reach: Reach, since: Any, until: Any) -> list[dict[str, Any]]:
        n = func.count(KnowledgeUse.id).label("n")
        query = (select(KnowledgeEntry.id, KnowledgeEntry.title, KnowledgeEntry.department, n)
                 .join(KnowledgeUse, KnowledgeUse.entry_id == KnowledgeEntry.id)
                 .where(KnowledgeUse.at >= since, KnowledgeUse.at < until)
                 .group_by(KnowledgeEntry.id, KnowledgeEntry.title, KnowledgeEntry.department)
                 .order_by(n.desc(), KnowledgeEntry.id).limit(20))
        if reach.department is not None:
            query = query.where(KnowledgeEntry.department == reach.department)
        return [{"id": i, "title": t, "department": d, "uses": c} for i, t, d, c in await s.execute(query)]

    async def _direct(self, s: Any, reach: Reach, since: Any, until: Any) -> dict[str, Any]:
        """Per agent and per line: answered calls (by the record's last agent), and those answered from an entry
        (by the agent who marked it); agents' figures are not a department editor's: empty for them."""
        if reach.department is not None:
            return {"by_agent": [], "by_line": []}
        out: dict[str, Any] = {}
        for key, column, used_by in (("agent", CallRecord.agent, KnowledgeUse.agent),
                                     ("line", CallRecord.dialled, CallRecord.dialled)):
            calls = dict((await s.execute(select(column, func.count()).where(
                CallRecord.agent.is_not(None), CallRecord.answered_at.is_not(None),
                CallRecord.started_at >= since, CallRecord.started_at < until).group_by(column))).all())
            # the agent who marked the entry (a call transferred on keeps its last agent in the record)
            direct = dict((await s.execute(select(used_by, func.count(distinct(KnowledgeUse.call_id)))
                                           .select_from(CallRecord)
                                           .join(KnowledgeUse, KnowledgeUse.call_id == CallRecord.call_id)
                                           .where(CallRecord.started_at >= since, CallRecord.started_at < until)
                                           .group_by(used_by))).all())
            out[f"by_{key}"] = [{key: k, "calls": max(calls.get(k, 0), direct.get(k, 0)), "direct": direct.get(k, 0),
                                 "rate": _rate(direct.get(k, 0), max(calls.get(k, 0), direct.get(k, 0)))}
                                for k in sorted(set(calls) | set(direct), key=str) if k is not None]
        return out
