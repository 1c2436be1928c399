"""Revisit tasks through the dialer: which are due, one attempt at a time, and what each outcome means.

A task is `pending` until its first call, `calling` while a call is up, `retry` after a call that
did not finish the survey (no answer, busy, unreachable, silence, a hang-up mid-survey), and ends as
`done` (with `result` completed / refused / human) or `failed` (invalid number, attempts exhausted,
opted out). Taking a task for a call is one conditional UPDATE, so two dialers (or a restart racing
an old call) never call it twice; tasks left `calling` by a crash are put back to `retry` at start-up,
and their attempt is marked `interrupted`, so a restart neither repeats a finished call nor skips one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callback.outcome import FINAL, RETRY
from dialplans.model import RevisitSettings
from hotline.db.engine import SessionFactory
from hotline.db.models import (
    CallerListEntry,
    OutboxMessage,
    RevisitAttempt,
    RevisitTask,
    Ticket,
    TicketEvent,
)

OPEN = ("pending", "retry")
NUMBER = re.compile(r"^\d{5,20}$")
UPLOAD_FIELDS = ("number", "salutation", "topic", "reason")
MAX_UPLOAD = 5000


class BadUpload(ValueError):
    """An upload with bad rows; nothing of it was stored. `rows` says which and why."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(rows)} bad row(s); nothing imported")
        self.rows = rows


def check_rows(rows: list[Any]) -> list[dict[str, str]]:
    """Validated task rows from an upload (JSON objects or CSV records); BadUpload naming every bad row."""
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
        unknown = sorted(set(row) - set(UPLOAD_FIELDS))
        number = str(row.get("number", "")).strip().removeprefix("+86")
        problems = [f"unknown field {u}" for u in unknown]
        if not NUMBER.match(number):
            problems.append("number must be 5-20 digits")
        for field, limit in (("salutation", 64), ("topic", 100), ("reason", 32)):
            value = row.get(field, "")
            if not isinstance(value, str) or len(value) > limit:
                problems.append(f"{field} must be a text of at most {limit} characters")
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


def _now() -> datetime:
    return datetime.now(UTC)


def _dissatisfied(task: RevisitTask) -> bool:
    """A finished survey with 不满意 or 非常不满意: a person follows up (the second revisit, R-REV-2)."""
    level = (task.answers.get("satisfaction") or {}).get("level") if task.result == "completed" else None
    return isinstance(level, int) and level >= 4


async def _report(s: AsyncSession, task: RevisitTask, now: datetime) -> None:
    """A finished revisit of a ticket: on its timeline, and to the case system through the outbox, in the
    same transaction (R-REV-3: answers go back to the case system)."""
    ticket = await s.get(Ticket, task.ticket_id)
    if ticket is None:
        return
    calls = list((await s.scalars(select(RevisitAttempt.call_id).where(RevisitAttempt.task_id == task.id)
                                  .order_by(RevisitAttempt.id))).all())
    payload = {"ticket": ticket.number, "case_number": ticket.case_number, "result": task.result,
               "answers": task.answers, "attempts": task.attempts, "finished_at": now.isoformat(), "calls": calls,
               "reason": task.reason}
    s.add(TicketEvent(ticket_id=ticket.id, at=now, kind="revisited", status=None, source="revisit-robot",
                      detail={"result": task.result, "answers": task.answers, "attempts": task.attempts}))
    s.add(OutboxMessage(ticket_id=ticket.id, kind="revisit.result", payload=payload,
                        idempotency_key=f"revisit-{task.id}", created_at=now, next_attempt_at=now))


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
                    RevisitTask.mode == "robot", RevisitTask.status.in_(OPEN),
                    (RevisitTask.next_attempt_at.is_(None)) | (RevisitTask.next_attempt_at <= now),
                    RevisitTask.number.not_in(recent))
                .order_by(RevisitTask.next_attempt_at.is_not(None), RevisitTask.id).limit(limit))).all()
        return [DueTask(r.id, r.number, r.salutation, r.topic, r.attempts) for r in rows]

    async def begin(self, task_id: int, call_id: str) -> bool:
        """Take the task for a call now; False when it is not open any more or the number opted out."""
        now = _now()
        async with self.sessions.begin() as s:
            task = await s.get(RevisitTask, task_id, with_for_update=True)
            if task is None or task.status not in OPEN:
                return False
            opted_out = await s.scalar(select(func.count()).select_from(CallerListEntry).where(
                CallerListEntry.number == task.number, CallerListEntry.kind == "no_revisit"))
            if opted_out:
                task.status, task.result, task.finished_at = "failed", "opted_out", now
                return False
            taken = await s.execute(update(RevisitTask).where(RevisitTask.id == task_id,
                                                              RevisitTask.status.in_(OPEN))
                                    .values(status="calling", attempts=RevisitTask.attempts + 1))
            if not taken.rowcount:  # type: ignore[attr-defined]
                return False
            s.add(RevisitAttempt(task_id=task_id, call_id=call_id, started_at=now))
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
            attempt.ended_at, attempt.outcome, attempt.cause = now, outcome, cause
            task.last_outcome = outcome
            if outcome in ("completed", "refused", "human"):
                task.status, task.result, task.finished_at = "done", outcome, now
            elif outcome in FINAL:
                task.status, task.result, task.finished_at = "failed", outcome, now
            elif outcome in RETRY or outcome == "answered":
                if task.attempts >= self.settings.max_attempts:
                    task.status, task.result, task.finished_at = "failed", "exhausted", now
                else:
                    task.status = "retry"
                    task.next_attempt_at = now + timedelta(seconds=self.settings.retry_after_s)
            else:
                raise ValueError(f"unknown outcome {outcome}")
            if task.finished_at is not None and task.ticket_id is not None:
                await _report(s, task, now)
            if _dissatisfied(task) and task.reason != "second_revisit":
                s.add(RevisitTask(ticket_id=task.ticket_id, number=task.number, reason="second_revisit", mode="human",
                                  created_at=now, salutation=task.salutation, topic=task.topic))
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

    async def for_call(self, call_id: str) -> RevisitTask | None:
        async with self.sessions() as s:
            return await s.scalar(select(RevisitTask).join(RevisitAttempt, RevisitAttempt.task_id == RevisitTask.id)
                                  .where(RevisitAttempt.call_id == call_id))

    async def add(self, rows: list[dict[str, str]]) -> list[int]:
        """Store checked rows as robot tasks, all in one transaction."""
        now = _now()
        async with self.sessions.begin() as s:
            tasks = [RevisitTask(number=r["number"], salutation=r["salutation"], topic=r["topic"], reason=r["reason"],
                                 mode="robot", created_at=now) for r in rows]
            s.add_all(tasks)
            await s.flush()
            return [t.id for t in tasks]

    async def listing(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Tasks with their results and answers, newest first (the export)."""
        query = select(RevisitTask).order_by(RevisitTask.id.desc()).limit(limit)
        if status:
            query = query.where(RevisitTask.status == status)
        async with self.sessions() as s:
            rows = (await s.scalars(query)).all()
        return [{"id": t.id, "number": t.number, "ticket_id": t.ticket_id, "call_id": t.call_id, "reason": t.reason,
                 "mode": t.mode, "status": t.status, "result": t.result, "attempts": t.attempts,
                 "last_outcome": t.last_outcome, "answers": t.answers,
                 "next_attempt_at": t.next_attempt_at.isoformat() if t.next_attempt_at else None,
                 "finished_at": t.finished_at.isoformat() if t.finished_at else None} for t in rows]

    async def recover(self) -> int:
        """After a crash: calls we were placing are gone; their tasks go back to `retry` at once."""
        now = _now()
        async with self.sessions.begin() as s:
            stuck = (await s.scalars(select(RevisitTask).where(RevisitTask.status == "calling")
                                     .with_for_update())).all()
            for task in stuck:
                open_attempts = (await s.scalars(select(RevisitAttempt).where(
                    RevisitAttempt.task_id == task.id, RevisitAttempt.ended_at.is_(None)))).all()
                for attempt in open_attempts:
                    attempt.ended_at, attempt.outcome = now, "interrupted"
                task.status, task.next_attempt_at = "retry", now
        return len(stuck)

    async def progress(self) -> dict[str, Any]:
        """Totals for the operators: by status, by result, and how many were reached."""
        async with self.sessions() as s:
            by_status = dict((await s.execute(select(RevisitTask.status, func.count()).where(
                RevisitTask.mode == "robot").group_by(RevisitTask.status))).all())
            by_result = dict((await s.execute(select(RevisitTask.result, func.count()).where(
                RevisitTask.mode == "robot", RevisitTask.result.is_not(None)).group_by(RevisitTask.result))).all())
            # reached: a person answered and pressed something (silence may be a voicemail or a machine)
            reached = await s.scalar(select(func.count(func.distinct(RevisitAttempt.task_id))).where(
                RevisitAttempt.outcome.in_(("completed", "refused", "human", "hung_up"))))
        total = sum(by_status.values())
        done = by_status.get("done", 0) + by_status.get("failed", 0)
        return {"total": total, "done": done, "pending": total - done, "by_status": by_status,
                "by_result": by_result, "reached": int(reached or 0),
                "reached_rate": round(int(reached or 0) / total, 3) if total else 0.0}
