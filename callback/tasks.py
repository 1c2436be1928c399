"""Revisit tasks through the dialer: which are due, one attempt at a time, and what each outcome means.

A task is `pending` until its first call, `calling` while a call is up, `retry` after a call that
did not finish the survey (no answer, busy, unreachable, silence, a hang-up mid-survey), and ends as
`done` (with `result` completed / refused / human) or `failed` (invalid number, attempts exhausted,
opted out). Taking a task for a call is one conditional UPDATE, so two dialers (or a restart racing
an old call) never call it twice; tasks left `calling` by a crash are put back to `retry` at start-up,
and their attempt is marked `interrupted`, so a restart neither repeats a finished call nor skips one.
Every task belongs to a campaign (`callback.campaigns`): tasks of a paused campaign are neither due nor
taken, and an upload's campaign is finished when its last robot task ends.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callback.models import RULES_CAMPAIGN, RevisitAttempt, RevisitCampaign, RevisitTask
from callback.outcome import FINAL, RETRY, retry_delay_s
from dialplans.model import RevisitSettings
from hotline.calls.models import CallerListEntry
from hotline.core.clock import now as _now
from hotline.core.db.engine import SessionFactory
from tickets.timeline import RevisitResult, record_revisit

log = logging.getLogger(__name__)

OPEN = ("pending", "retry")
REACHED = ("completed", "refused", "human", "hung_up")  # a person answered and pressed something
_ACTIVE = select(RevisitCampaign.id).where(RevisitCampaign.state == "active")  # campaigns the dialer works
NUMBER = re.compile(r"[0-9]{5,20}", re.ASCII)  # ASCII digits only: no full-width or other scripts' digits
UPLOAD_FIELDS = ("number", "salutation", "topic", "reason")
MAX_UPLOAD = 5000


class BadUpload(ValueError):
    """An upload with bad rows; nothing of it was stored. `rows` says which and why."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(rows)} bad row(s); nothing imported")
        self.rows = rows


def check_rows(rows: list[Any], refusal: Callable[[str], str | None] | None = None) -> list[dict[str, str]]:
    """Validated task rows from an upload (JSON objects or CSV records); BadUpload naming every bad row.
    `refusal` says why a number may not be dialled (the dial-out check; the dialer checks again)."""
    if not rows:
        raise BadUpload([{"row": 0, "error": "no tasks in the upload"}])
    if len(rows) > MAX_UPLOAD:
        raise BadUpload([{"row": 0, "error": f"at most {MAX_UPLOAD} tasks per upload"}])
    bad: list[dict[str, Any]] = []
    good: list[dict[str, str]] = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            bad.append({"row": i, "error": "a task is an object with number, salutation, topic"})
            continue
        unknown = set(row) - set(UPLOAD_FIELDS)
        number = str(row.get("number", "")).strip().removeprefix("+86")
        problems = [f"unknown field {u}" for u in sorted(str(u) for u in unknown - {None})]
        if None in unknown:  # csv.DictReader's key for values beyond the header
            problems.append("more values than the header has columns")
        if not NUMBER.fullmatch(number):
            problems.append("number must be 5-20 digits")
        elif refusal is not None and (why := refusal(number)) is not None:
            problems.append(f"number_not_allowed: {why}")
        for key, limit in (("salutation", 64), ("topic", 100), ("reason", 32)):
            value = row.get(key, "")
            if not isinstance(value, str) or len(value) > limit:
                problems.append(f"{key} must be a text of at most {limit} characters")
        if problems:
            bad.append({"row": i, "error": "; ".join(problems)})
        else:
            good.append({"number": number, "salutation": row.get("salutation", ""), "topic": row.get("topic", ""),
                         "reason": row.get("reason") or "campaign"})
    if bad:
        raise BadUpload(bad)
    return good


@dataclass(frozen=True)
class DueTask:
    id: int
    number: str
    salutation: str
    topic: str
    attempts: int


def _dissatisfied(task: RevisitTask) -> bool:
    """A finished survey with 不满意 or 非常不满意: a person follows up (the second revisit, R-REV-2)."""
    level = (task.answers.get("satisfaction") or {}).get("level") if task.result == "completed" else None
    return isinstance(level, int) and level >= 4


async def _report(s: AsyncSession, task: RevisitTask, now: datetime) -> None:
    """A finished revisit of a ticket goes to the tickets domain, in the same transaction: on the ticket's
    timeline and to the case system (R-REV-3: answers go back to the case system)."""
    if task.ticket_id is None:
        return
    calls = list((await s.scalars(select(RevisitAttempt.call_id).where(RevisitAttempt.task_id == task.id)
                                  .order_by(RevisitAttempt.id))).all())
    await record_revisit(s, task.ticket_id, RevisitResult(task.id, task.result, task.answers, task.attempts,
                                                          task.reason, now, calls))


class RevisitTasks:
    def __init__(self, sessions: SessionFactory, settings: RevisitSettings) -> None:
        self.sessions, self.settings = sessions, settings

    async def due(self, now: datetime, limit: int) -> list[DueTask]:
        """Robot tasks whose time has come, oldest first; numbers called within the quiet time and
        numbers that opted out are left for later (opted-out ones are closed by `begin`)."""
        quiet_since = now - timedelta(seconds=self.settings.quiet_s)
        recent = (select(RevisitTask.number).join(RevisitAttempt, RevisitAttempt.task_id == RevisitTask.id)
                  .where(RevisitAttempt.started_at > quiet_since))
        async with self.sessions() as s:
            rows = (await s.scalars(
                select(RevisitTask).where(
                    RevisitTask.mode == "robot", RevisitTask.status.in_(OPEN), RevisitTask.campaign_id.in_(_ACTIVE),
                    (RevisitTask.next_attempt_at.is_(None)) | (RevisitTask.next_attempt_at <= now),
                    RevisitTask.number.not_in(recent))
                .order_by(RevisitTask.next_attempt_at.is_not(None), RevisitTask.id).limit(limit))).all()
        return [DueTask(r.id, r.number, r.salutation, r.topic, r.attempts) for r in rows]

    async def begin(self, task_id: int, call_id: str) -> bool:
        """Take the task for a call now; False when it is not open any more, its campaign was paused since
        it was found due, or the number opted out."""
        now = _now()
        async with self.sessions.begin() as s:
            task = await s.get(RevisitTask, task_id, with_for_update=True)
            if task is None or task.status not in OPEN:
                return False
            opted_out = await s.scalar(select(func.count()).select_from(CallerListEntry).where(
                CallerListEntry.number == task.number, CallerListEntry.kind == "no_revisit"))
            if opted_out:
                task.status, task.result, task.finished_at = "failed", "opted_out", now
                await _finish_when_done(s, task.campaign_id)
                return False
            taken = await s.execute(update(RevisitTask).where(RevisitTask.id == task_id,
                                                              RevisitTask.status.in_(OPEN),
                                                              RevisitTask.campaign_id.in_(_ACTIVE))
                                    .values(status="calling", attempts=RevisitTask.attempts + 1))
            if not taken.rowcount:  # type: ignore[attr-defined]
                return False
            s.add(RevisitAttempt(task_id=task_id, call_id=call_id, started_at=now))
        return True

    async def refuse(self, task_id: int, reason: str) -> bool:
        """The task's number may not be dialled (`reason`, e.g. number_not_allowed): failed, never called.
        False when the task is not open any more."""
        now = _now()
        async with self.sessions.begin() as s:
            task = await s.get(RevisitTask, task_id, with_for_update=True)
            if task is None or task.status not in OPEN:
                return False
            task.status, task.result, task.last_outcome, task.finished_at = "failed", reason, reason, now
            await _report(s, task, now)
            await _finish_when_done(s, task.campaign_id)
        return True

    async def ended(self, call_id: str, outcome: str, cause: int | None = None) -> str:
        """The call is over: `outcome` is the network's (answered, no_answer, busy…) or the survey's
        (completed, refused, human, no_input, hung_up). Returns the task's new status."""
        now = _now()
        async with self.sessions.begin() as s:
            attempt = await s.scalar(select(RevisitAttempt).where(RevisitAttempt.call_id == call_id)
                                     .with_for_update())
            if attempt is None:
                raise LookupError(f"no revisit attempt {call_id}")
            task = await s.get(RevisitTask, attempt.task_id, with_for_update=True)
            assert task is not None
            if attempt.ended_at is not None or task.status != "calling":
                # this call was settled already (the survey's word comes first); a late word about it must
                # not touch the task, which may be on its next call by now
                return task.status
            before = task.last_outcome
            attempt.ended_at, attempt.outcome, attempt.cause = now, outcome, cause
            task.last_outcome = outcome
            if outcome in ("completed", "refused", "human"):
                task.status, task.result, task.finished_at = "done", outcome, now
            elif outcome in FINAL or outcome in RETRY or outcome == "answered":
                wait_s = retry_delay_s(outcome, before, self.settings.retry_after_s)
                if wait_s is None:  # 空号, or not in service twice in a row
                    task.status, task.result, task.finished_at = "failed", outcome, now
                elif task.attempts >= self.settings.max_attempts:
                    task.status, task.result, task.finished_at = "failed", "exhausted", now
                else:
                    task.status = "retry"
                    task.next_attempt_at = now + timedelta(seconds=wait_s)
            else:
                raise ValueError(f"unknown outcome {outcome}")
            if task.finished_at is not None:
                await _report(s, task, now)
            if _dissatisfied(task) and task.reason != "second_revisit":
                s.add(RevisitTask(ticket_id=task.ticket_id, number=task.number, reason="second_revisit", mode="human",
                                  created_at=now, salutation=task.salutation, topic=task.topic,
                                  campaign_id=task.campaign_id))
            if task.finished_at is not None:
                await _finish_when_done(s, task.campaign_id)
            return task.status

    async def answer(self, call_id: str, question: str, value: object) -> None:
        """One answer from the survey, kept at once (a hang-up later loses nothing already said)."""
        async with self.sessions.begin() as s:
            attempt = await s.scalar(select(RevisitAttempt).where(RevisitAttempt.call_id == call_id))
            if attempt is None:
                raise LookupError(f"no revisit attempt {call_id}")
            task = await s.get(RevisitTask, attempt.task_id, with_for_update=True)
            assert task is not None
            task.answers = {**task.answers, question: value}

    async def of_ticket(self, ticket_id: int) -> list[dict[str, Any]]:
        """A ticket's revisit tasks (shown on its timeline)."""
        async with self.sessions() as s:
            rows = (await s.scalars(select(RevisitTask).where(RevisitTask.ticket_id == ticket_id)
                                    .order_by(RevisitTask.id))).all()
        return [{"id": r.id, "reason": r.reason, "status": r.status, "mode": r.mode, "number": r.number}
                for r in rows]

    async def for_call(self, call_id: str) -> RevisitTask | None:
        async with self.sessions() as s:
            return await s.scalar(select(RevisitTask).join(RevisitAttempt, RevisitAttempt.task_id == RevisitTask.id)
                                  .where(RevisitAttempt.call_id == call_id))

    async def add(self, rows: list[dict[str, str]], campaign: int = RULES_CAMPAIGN) -> list[int]:
        """Store checked rows as robot tasks of `campaign`, all in one transaction."""
        async with self.sessions.begin() as s:
            return await add_tasks(s, rows, campaign)

    async def listing(self, status: str | None = None, limit: int = 100,
                      campaign: int | None = None) -> list[dict[str, Any]]:
        """Tasks with their results and answers, newest first (the export), of every campaign or one."""
        query = select(RevisitTask).order_by(RevisitTask.id.desc()).limit(limit)
        if status:
            query = query.where(RevisitTask.status == status)
        if campaign is not None:
            query = query.where(RevisitTask.campaign_id == campaign)
        async with self.sessions() as s:
            rows = (await s.scalars(query)).all()
        return [{"id": t.id, "campaign_id": t.campaign_id, "number": t.number, "ticket_id": t.ticket_id,
                 "call_id": t.call_id, "reason": t.reason,
                 "mode": t.mode, "status": t.status, "result": t.result, "attempts": t.attempts,
                 "last_outcome": t.last_outcome, "answers": t.answers,
                 "next_attempt_at": t.next_attempt_at.isoformat() if t.next_attempt_at else None,
                 "finished_at": t.finished_at.isoformat() if t.finished_at else None} for t in rows]

    async def recover(self) -> int:
        """After a crash: calls we were placing are gone; their tasks go back to `retry` at once, unless they
        used up their attempts (a call that brings the service down each time is not placed for ever)."""
        now = _now()
        async with self.sessions.begin() as s:
            stuck = (await s.scalars(select(RevisitTask).where(RevisitTask.status == "calling",
                                                               RevisitTask.mode == "robot")
                                     .with_for_update())).all()
            for task in stuck:
                open_attempts = (await s.scalars(select(RevisitAttempt).where(
                    RevisitAttempt.task_id == task.id, RevisitAttempt.ended_at.is_(None)))).all()
                for attempt in open_attempts:
                    attempt.ended_at, attempt.outcome = now, "interrupted"
                if task.attempts >= self.settings.max_attempts:
                    task.status, task.result, task.finished_at = "failed", "exhausted", now
                    log.error("revisit task %s exhausted: its last %d call(s) were cut by a restart", task.id,
                              task.attempts)
                    await _report(s, task, now)
                    await _finish_when_done(s, task.campaign_id)
                else:
                    task.status, task.next_attempt_at = "retry", now
        return len(stuck)

    async def progress(self, campaign: int | None = None) -> dict[str, Any]:
        """Totals for the operators, of every campaign or one: by status, by result, and how many were reached."""
        tallies = await self._tallies(None if campaign is None else [campaign])
        return sum(tallies.values(), _Tally()).figures()

    async def progress_by_campaign(self, campaigns: Sequence[int]) -> dict[int, dict[str, Any]]:
        """`progress` of each of these campaigns (an empty one too)."""
        tallies = await self._tallies(campaigns)
        return {c: tallies.get(c, _Tally()).figures() for c in campaigns}

    async def _tallies(self, campaigns: Sequence[int] | None) -> dict[int, _Tally]:
        scope = [RevisitTask.mode == "robot"]
        if campaigns is not None:
            scope.append(RevisitTask.campaign_id.in_(campaigns))
        by_status = (select(RevisitTask.campaign_id, RevisitTask.status, func.count()).where(*scope)
                     .group_by(RevisitTask.campaign_id, RevisitTask.status))
        by_result = (select(RevisitTask.campaign_id, RevisitTask.result, func.count())
                     .where(*scope, RevisitTask.result.is_not(None))
                     .group_by(RevisitTask.campaign_id, RevisitTask.result))
        # reached: a person answered and pressed something (silence may be a voicemail or a machine)
        reached = (select(RevisitTask.campaign_id, func.count(func.distinct(RevisitAttempt.task_id)))
                   .join(RevisitAttempt, RevisitAttempt.task_id == RevisitTask.id)
                   .where(*scope, RevisitAttempt.outcome.in_(REACHED)).group_by(RevisitTask.campaign_id))
        tallies: dict[int, _Tally] = {}
        async with self.sessions() as s:
            for campaign, status, n in await s.execute(by_status):
                tallies.setdefault(campaign, _Tally()).by_status[status] += n
            for campaign, result, n in await s.execute(by_result):
                tallies.setdefault(campaign, _Tally()).by_result[str(result)] += n
            for campaign, n in await s.execute(reached):
                tallies.setdefault(campaign, _Tally()).reached += n
        return tallies


@dataclass
class _Tally:
    """Robot tasks counted by status and result, and how many reached a person."""

    by_status: Counter[str] = field(default_factory=Counter)
    by_result: Counter[str] = field(default_factory=Counter)
    reached: int = 0

    def __add__(self, other: _Tally) -> _Tally:
        return _Tally(self.by_status + other.by_status, self.by_result + other.by_result, self.reached + other.reached)

    def figures(self) -> dict[str, Any]:
        total = sum(self.by_status.values())
        done = self.by_status["done"] + self.by_status["failed"]
        return {"total": total, "done": done, "pending": total - done, "by_status": dict(self.by_status),
                "by_result": dict(self.by_result), "reached": self.reached,
                "reached_rate": round(self.reached / total, 3) if total else 0.0}


async def add_tasks(s: AsyncSession, rows: list[dict[str, str]], campaign: int) -> list[int]:
    """Checked upload rows as robot tasks of `campaign`, in the caller's transaction."""
    now = _now()
    tasks = [RevisitTask(number=r["number"], salutation=r["salutation"], topic=r["topic"], reason=r["reason"],
                         mode="robot", created_at=now, campaign_id=campaign) for r in rows]
    s.add_all(tasks)
    await s.flush()
    return [t.id for t in tasks]


async def _finish_when_done(s: AsyncSession, campaign: int) -> None:
    """An upload's campaign is finished once none of its robot tasks is open or on a call (the campaign row
    is locked first, so two last tasks ending at once still see each other)."""
    if await s.scalar(select(RevisitCampaign.id).where(RevisitCampaign.id == campaign,
                                                       RevisitCampaign.source == "upload",
                                                       RevisitCampaign.state != "finished").with_for_update()) is None:
        return
    await s.flush()
    left = await s.scalar(select(func.count()).select_from(RevisitTask).where(
        RevisitTask.campaign_id == campaign, RevisitTask.mode == "robot",
        RevisitTask.status.in_((*OPEN, "calling"))))
    if not left:
        await s.execute(update(RevisitCampaign).where(RevisitCampaign.id == campaign).values(state="finished"))
