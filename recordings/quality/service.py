"""Quality review in the database: the flagged calls within a reach, one call's review, scoring, comments and the
per-agent figures.

Who may see or change what is the access table's, applied by `recordings.quality.http`: listings take the
agents in reach (None: all) and whether calls of confidential tickets may be shown.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select

from acd.directory.models import DirectoryAgent
from hotline.calls.models import CallRecord, Recording
from hotline.core.accounts.models import User
from hotline.core.clock import CHINA, now
from hotline.core.db.engine import SessionFactory
from hotline.core.errors import BadRequest, NotFound
from recordings.quality.flags import FlagRules, flags_of, talk_seconds
from recordings.quality.models import QualityComment, QualityScore, QualityScoreChange
from recordings.quality.sheet import Sheet
from tickets.models import Ticket, TicketCall

SCAN_BATCH = 200
SCAN_MAX = 5000  # calls looked at per listing request; `next` continues from where the scan stopped


@dataclass(frozen=True)
class Wanted:
    """What a listing asks for (the reach is given apart)."""

    start: date
    end: date  # inclusive, days in China
    flag: str = "any"  # a flag of FLAGS, review (the recording's own review mark), any (one flag at least), all
    agent: str | None = None
    team: str | None = None
    scored: bool | None = None
    limit: int = 50
    before: tuple[datetime, str] | None = None


@dataclass(frozen=True)
class Reviewed:
    """A call under review with what deciding on it needs: its agent, whether a confidential ticket holds it."""

    call: CallRecord
    confidential: bool


def cursor(at: datetime, call_id: str) -> str:
    return f"{at.isoformat()}~{call_id}"


def read_cursor(raw: str) -> tuple[datetime, str]:
    """A `next` value of a listing; 400 when it is not one."""
    at, sep, call_id = raw.partition("~")
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        when = None
    if not sep or not call_id or when is None or when.tzinfo is None:
        raise BadRequest("before: give the `next` value of the previous page", error_id="bad_param")
    return when, call_id


def _older_than(at: datetime, call_id: str) -> ColumnElement[bool]:
    """Calls listed after this one (newest first)."""
    return or_(CallRecord.started_at < at, and_(CallRecord.started_at == at, CallRecord.call_id < call_id))


def _day_span(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(0), tzinfo=CHINA), datetime.combine(end, time(0), tzinfo=CHINA) + timedelta(
        days=1)


def _score_json(score: QualityScore | QualityScoreChange) -> dict[str, Any]:
    return {"total": score.total, "max": score.max, "scored_by": score.scored_by,
            "scored_at": score.scored_at.isoformat()}


class QualityReview:
    """The quality staff's work on recorded calls."""

    def __init__(self, sessions: SessionFactory, sheet: Sheet, rules: FlagRules, rating_labels: Sequence[str]) -> None:
        self.sessions, self.sheet, self.rules, self.labels = sessions, sheet, rules, tuple(rating_labels)

    def _label(self, rating: int | None) -> str | None:
        return self.labels[rating - 1] if rating and 0 < rating <= len(self.labels) else None

    def _query(self, wanted: Wanted, agents: Collection[str] | None) -> Select[CallRecord]:
        start, end = _day_span(wanted.start, wanted.end)
        stored = select(Recording.id).where(Recording.call_id == CallRecord.call_id, Recording.status == "stored")
        query = (select(CallRecord).where(CallRecord.agent.is_not(None), CallRecord.started_at >= start,
                                          CallRecord.started_at < end, exists(stored))
                 .order_by(CallRecord.started_at.desc(), CallRecord.call_id.desc()))
        if agents is not None:
            query = query.where(CallRecord.agent.in_(agents))
        if wanted.agent:
            query = query.where(CallRecord.agent == wanted.agent)
        if wanted.team:
            team = select(DirectoryAgent.id).where(DirectoryAgent.team == wanted.team)
            query = query.where(CallRecord.agent.in_(team))
        if wanted.scored is not None:
            has = exists(select(QualityScore.call_id).where(QualityScore.call_id == CallRecord.call_id))
            query = query.where(has if wanted.scored else ~has)
        if wanted.before is not None:
            query = query.where(_older_than(*wanted.before))
        analysed = Recording.analysis
        narrowing = {  # what the database can decide alone; the rest is decided per call below
            "bad_rating": CallRecord.rating.in_(self.rules.bad_ratings),
            "review": exists(stored.where(Recording.review.is_(True))),
            "silence": exists(stored.where(analysed["longest_silence_s"].as_float() >= self.rules.silence_s)),
            "talk_over": exists(stored.where(analysed["talk_over_s"].as_float() >= self.rules.talk_over_s)),
        }
        if wanted.flag in narrowing:
            query = query.where(narrowing[wanted.flag])
        return query

    def _keep(self, wanted: Wanted, flags: list[str]) -> bool:
        if wanted.flag == "all" or wanted.flag == "review":
            return True
        return bool(flags) if wanted.flag == "any" else wanted.flag in flags

    async def flagged(self, wanted: Wanted, agents: Collection[str] | None,
                      confidential: bool) -> tuple[list[dict[str, Any]], str | None]:
        """The calls asked for, newest first, and the cursor of the next page (None: no more)."""
        query, scanned = self._query(wanted, agents), 0
        rows: list[tuple[CallRecord, list[str]]] = []
        last: CallRecord | None = None
        exhausted = False
        async with self.sessions() as s:
            while len(rows) < wanted.limit and scanned < SCAN_MAX:
                page = query if last is None else query.where(_older_than(last.started_at, last.call_id))
                batch = list((await s.scalars(page.limit(SCAN_BATCH))).all())
                secret = await self._confidential(s, [c.call_id for c in batch]) if not confidential else set()
                for call in batch:
                    scanned, last = scanned + 1, call
                    flags = flags_of(call, self._main(call).analysis, self.rules)
                    if call.call_id not in secret and self._keep(wanted, flags):
                        rows.append((call, flags))
                        if len(rows) == wanted.limit:
                            break
                if len(batch) < SCAN_BATCH and (not batch or last is batch[-1]):
                    exhausted = True
                    break
            names = await self._agents(s, {c.agent for c, _ in rows if c.agent})
            scores = await self._scores(s, [c.call_id for c, _ in rows])
            shown = [self._row(c, f, names, scores.get(c.call_id)) for c, f in rows]
            await self._named(s, [r["score"] for r in shown if r["score"]])
        more = None if exhausted or last is None else cursor(last.started_at, last.call_id)
        return shown, more

    @staticmethod
    def _main(call: CallRecord) -> Recording:
        """The call's stored recording (the first, when several)."""
        return next(r for r in call.recordings if r.status == "stored")

    def _row(self, call: CallRecord, flags: list[str], names: dict[str, tuple[str, str | None]],
             score: QualityScore | None) -> dict[str, Any]:
        rec = self._main(call)
        name, team = names.get(call.agent or "", (None, None))
        talk = talk_seconds(call)
        return {"call_id": call.call_id, "recording_id": rec.id, "started_at": call.started_at.isoformat(),
                "agent": call.agent, "agent_name": name, "team": team, "line": call.dialled, "caller": call.caller,
                "duration_s": rec.duration_s, "talk_s": None if talk is None else round(talk, 1), "flags": flags,
                "review": rec.review, "analysis": rec.analysis, "rating": call.rating,
                "rating_label": self._label(call.rating), "score": _score_json(score) if score else None}

    @staticmethod
    async def _confidential(s: Any, calls: list[str]) -> set[str]:
        if not calls:
            return set()
        found = await s.scalars(select(TicketCall.call_id).join(Ticket).where(
            TicketCall.call_id.in_(calls), Ticket.confidential.is_(True)))
        return set(found.all())

    @staticmethod
    async def _agents(s: Any, agents: Collection[str]) -> dict[str, tuple[str, str | None]]:
        if not agents:
            return {}
        rows = await s.execute(select(DirectoryAgent.id, DirectoryAgent.name, DirectoryAgent.team)
                               .where(DirectoryAgent.id.in_(agents)))
        return {a: (n, t) for a, n, t in rows.all()}

    @staticmethod
    async def _named(s: Any, shown: list[dict[str, Any]]) -> None:
        """Add the people's display names beside the account names of scores and comments (`scored_by_name`,
        `author_name`; the account name when it is a token's, which has none)."""
        by = {"scored_by": "scored_by_name", "author": "author_name"}
        found = [d for d in shown if d is not None and any(k in d for k in by)]
        names = {d[k] for d in found for k in by if k in d}
        rows = (await s.execute(select(User.username, User.name).where(User.username.in_(names)))).all() \
            if names else []
        people = {u: n for u, n in rows}
        for d in found:
            for key, named in by.items():
                if key in d:
                    d[named] = people.get(d[key], d[key])

    @staticmethod
    async def _scores(s: Any, calls: list[str]) -> dict[str, QualityScore]:
        if not calls:
            return {}
        return {q.call_id: q for q in (await s.scalars(select(QualityScore).where(
            QualityScore.call_id.in_(calls)))).all()}

    async def reviewed(self, call_id: str) -> Reviewed:
        """The call (404 unless it has a stored recording and an agent) with its confidentiality."""
        async with self.sessions() as s:
            call = await s.get(CallRecord, call_id)
            if call is None or call.agent is None or not any(r.status == "stored" for r in call.recordings):
                raise NotFound(f"no recorded call {call_id} to review", error_id="call_not_found")
            return Reviewed(call, bool(await self._confidential(s, [call_id])))

    async def detail(self, reviewed: Reviewed) -> dict[str, Any]:
        """The call with its recordings, analysis, rating, current score with items and comment, the scoring
        history and the comment thread."""
        call = reviewed.call
        async with self.sessions() as s:
            names = await self._agents(s, [call.agent] if call.agent else [])
            score = await s.get(QualityScore, call.call_id)
            history = (await s.scalars(select(QualityScoreChange).where(QualityScoreChange.call_id == call.call_id)
                                       .order_by(QualityScoreChange.version.desc()))).all()
            comments = await self._comments(s, call.call_id)
            row = self._row(call, flags_of(call, self._main(call).analysis, self.rules), names, score)
            row["score"] = self._full(score) if score else None
            full = [self._full(h) for h in history]
            await self._named(s, [*([row["score"]] if score else []), *full])
        recordings = [{"id": r.id, "status": r.status, "duration_s": r.duration_s, "channels": r.channels,
                       "format": r.format, "waveform": r.waveform_path is not None} for r in call.recordings]
        return {**row, "recordings": recordings, "recording_ids": [r["id"] for r in recordings],
                "confidential": reviewed.confidential, "answered_at": _iso(call.answered_at),
                "ended_at": _iso(call.ended_at), "history": full, "comments": comments}

    @staticmethod
    def _full(score: QualityScore | QualityScoreChange) -> dict[str, Any]:
        return {**_score_json(score), "items": score.items, "comment": score.comment, "version": score.version}

    @staticmethod
    async def _comments(s: Any, call_id: str) -> list[dict[str, Any]]:
        rows = (await s.scalars(select(QualityComment).where(QualityComment.call_id == call_id)
                                .order_by(QualityComment.at, QualityComment.id))).all()
        thread = [{"id": c.id, "author": c.author, "role": c.role, "text": c.text, "at": c.at.isoformat()}
                  for c in rows]
        await QualityReview._named(s, thread)
        return thread

    async def score(self, reviewed: Reviewed, given: Mapping[str, object], comment: str, by: str) -> dict[str, Any]:
        """Store the call's score (replacing the current one) and keep it in the history; the stored score."""
        items = self.sheet.checked(given)
        call = reviewed.call
        at, total = now(), sum(items.values())
        async with self.sessions.begin() as s:
            current = await s.get(QualityScore, call.call_id, with_for_update=True)
            if current is None:
                current = QualityScore(call_id=call.call_id, version=0)
                s.add(current)
            current.version += 1
            current.agent, current.items, current.total, current.max = call.agent, items, total, self.sheet.max
            current.comment, current.scored_by, current.scored_at = comment, by, at
            s.add(QualityScoreChange(call_id=call.call_id, version=current.version, items=items, total=total,
                                     max=self.sheet.max, comment=comment, scored_by=by, scored_at=at))
            stored = {"call_id": call.call_id, "agent": call.agent, **self._full(current)}
            await self._named(s, [stored])
            return stored

    async def comment(self, reviewed: Reviewed, text: str, author: str, role: str) -> list[dict[str, Any]]:
        """Add a remark to the call's thread; the whole thread."""
        async with self.sessions.begin() as s:
            s.add(QualityComment(call_id=reviewed.call.call_id, author=author, role=role, text=text, at=now()))
        async with self.sessions() as s:
            return await self._comments(s, reviewed.call.call_id)

    async def scores(self, agents: Collection[str] | None, agent: str | None, start: date, end: date,
                     limit: int = 500) -> dict[str, Any]:
        """Per-agent averages of the scores of calls in the period, and the scores themselves (newest first)."""
        first, after = _day_span(start, end)
        where = [CallRecord.started_at >= first, CallRecord.started_at < after]
        if agents is not None:
            where.append(QualityScore.agent.in_(agents))
        if agent:
            where.append(QualityScore.agent == agent)
        async with self.sessions() as s:
            per_agent = (await s.execute(
                select(QualityScore.agent, func.count(), func.avg(QualityScore.total), func.avg(QualityScore.max),
                       func.min(QualityScore.total), func.max(QualityScore.total))
                .join(CallRecord, CallRecord.call_id == QualityScore.call_id).where(*where)
                .group_by(QualityScore.agent).order_by(QualityScore.agent))).all()
            listed = (await s.execute(
                select(QualityScore, CallRecord.started_at, CallRecord.dialled)
                .join(CallRecord, CallRecord.call_id == QualityScore.call_id).where(*where)
                .order_by(CallRecord.started_at.desc(), QualityScore.call_id.desc()).limit(limit))).all()
            names = await self._agents(s, {a for a, *_ in per_agent if a})
            listed_json = [{"call_id": q.call_id, "agent": q.agent, "started_at": started.isoformat(), "line": line,
                            **self._full(q)} for q, started, line in listed]
            await self._named(s, listed_json)
        return {
            "agents": [{"agent": a, "agent_name": names.get(a or "", (None, None))[0],
                        "team": names.get(a or "", (None, None))[1], "scored": n, "average": round(float(avg), 1),
                        "average_max": round(float(mx), 1), "average_pct": round(100 * float(avg) / float(mx), 1),
                        "lowest": lo, "highest": hi} for a, n, avg, mx, lo, hi in per_agent],
            "scores": listed_json}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None
