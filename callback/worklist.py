"""People calling citizens back (issue 16): the work list of callback requests and voice messages.

Both are `RevisitTask` rows of mode `human` (`callback.requests` makes them; the robot never takes them).
An agent claims an item (one conditional UPDATE: one agent at a time; a claim lapses 15 minutes after the
claim or the agent's last call, so nothing stays stuck), dials it (an attempt row with the agent and the
call id; the item is `calling` meanwhile), then says how it went: `reached` closes it (done), `wrong_number`
closes it (failed), `no_answer` / `busy` put it back on the list due again after 10 min, 30 min, 2 h,
and the third such attempt closes it (failed, exhausted). Every change is published on the live feed.
Times come from `clock`, so tests move it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callback.models import RevisitAttempt, RevisitTask
from hotline.calls.models import CallRecord, Recording
from hotline.core.clock import now as _now
from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Conflict, NotFound
from hotline.core.logged import logged

log = logging.getLogger(__name__)

KINDS = ("callback_request", "voice_message")
Kind = Literal["callback_request", "voice_message"]
OUTCOMES = ("reached", "no_answer", "busy", "wrong_number")
Outcome = Literal["reached", "no_answer", "busy", "wrong_number"]
View = Literal["open", "claimed", "done"]
CLAIM_FOR = timedelta(minutes=15)  # a claim without a call lapses after this
RETRY_AFTER = (timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))  # after the 1st, 2nd, 3rd try
MAX_ATTEMPTS = 3
OPEN = ("pending", "retry")
CLOSED = ("done", "failed")
MESSAGE_SUFFIX = "-message.wav"  # how ivr.flows.voice_message names the message beside the call's recording
Publish = Callable[[dict[str, Any]], Awaitable[None]]


class AlreadyClaimed(Conflict):
    """409: another agent works this item now."""

    error_id = "already_claimed"


class NotClaimed(Conflict):
    """409: the agent has not claimed this item (or the claim lapsed): claim it first."""

    error_id = "not_claimed"


class CallbackClosed(Conflict):
    """409: the item is done (reached, wrong number, attempts used up)."""

    error_id = "callback_closed"


class CallInProgress(Conflict):
    """409: the item is on a call now."""

    error_id = "call_in_progress"


class NoCall(Conflict):
    """409: there is no call of this agent to give an outcome for (dial first), or it says otherwise."""

    error_id = "no_call"


@dataclass(frozen=True)
class Viewer:
    """Who reads the list: the agent (their own claims), or the agents whose claims they reach (None: all)."""

    agent: str | None
    reach: frozenset[str] | None


@dataclass(frozen=True)
class ToCall:
    """What the dialler needs of an item it is about to call."""

    id: int
    number: str
    kind: str


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def public_status(task: RevisitTask, cutoff: datetime) -> str:
    """open | claimed | calling | done | failed, as the desk shows it."""
    if task.status in CLOSED or task.status == "calling":
        return task.status
    return "claimed" if task.claimed_by and task.claimed_at and task.claimed_at >= cutoff else "open"


def _waited_s(call: CallRecord | None, until: datetime) -> float | None:
    """How long the caller waited in the queue before choosing a callback or a message."""
    if call is None:
        return None
    queued = next((s.get("at") for s in call.steps if s.get("step") == "queued"), None)
    if not queued:
        return None
    return round(max(0.0, (until - datetime.fromisoformat(queued)).total_seconds()), 1)


def _is_message(r: Recording) -> bool:
    return r.path.endswith(MESSAGE_SUFFIX) or (r.wav_path or "").endswith(MESSAGE_SUFFIX)


def _shown(task: RevisitTask, call: CallRecord | None, now: datetime) -> dict[str, Any]:
    """An item as the work list shows it, with the call it came from."""
    cutoff = now - CLAIM_FOR
    status = public_status(task, cutoff)
    return {
        "id": task.id, "kind": task.reason, "number": task.number, "status": status,
        "created_at": _iso(task.created_at),
        "due_at": _iso(task.next_attempt_at or task.created_at) if task.status in OPEN else None,
        "attempts": task.attempts, "max_attempts": MAX_ATTEMPTS,
        "claimed_by": task.claimed_by if status in ("claimed", "calling") or task.status in CLOSED else None,
        "claimed_until": _iso(task.claimed_at + CLAIM_FOR) if status == "claimed" and task.claimed_at else None,
        "outcome": task.result if task.status in CLOSED else task.last_outcome,
        "has_message": call is not None and any(_is_message(r) for r in call.recordings),
        "call": None if call is None else {
            "call_id": call.call_id, "started_at": _iso(call.started_at), "dialled": call.dialled,
            "skill": call.route_skill, "mode": call.route_mode, "waited_s": _waited_s(call, task.created_at)},
    }


async def _calls_of(s: AsyncSession, call_ids: list[str]) -> dict[str, CallRecord]:
    """The call records the items came from (with their recordings), in one query."""
    if not call_ids:
        return {}
    rows = (await s.scalars(select(CallRecord).where(CallRecord.call_id.in_(call_ids)))).all()
    return {c.call_id: c for c in rows}


class Worklist:
    def __init__(self, sessions: SessionFactory, clock: Callable[[], datetime] = _now,
                 publish: Publish | None = None) -> None:
        self.sessions, self._clock, self._publish = sessions, clock, publish

    def now(self) -> datetime:
        return self._clock()

    # reading

    def _scope(self, view: View | None, viewer: Viewer, cutoff: datetime) -> list[ColumnElement[bool]]:
        t = RevisitTask
        claim_live = and_(t.claimed_by.is_not(None), t.claimed_at >= cutoff)
        is_open = and_(t.status.in_(OPEN), ~claim_live)
        is_claimed = or_(t.status == "calling", and_(t.status.in_(OPEN), claim_live))
        shown = {"open": is_open, "claimed": is_claimed, "done": t.status.in_(CLOSED),
                 None: or_(is_open, is_claimed)}[view]
        mine = t.claimed_by == viewer.agent if viewer.agent else t.claimed_by.in_(viewer.reach or ())
        reach = is_open if viewer.reach is not None or viewer.agent else None
        where = [t.mode == "human", t.reason.in_(KINDS), shown]
        if reach is not None:
            where.append(or_(reach, mine))
        return where

    async def listing(self, viewer: Viewer, view: View | None = None, kind: Kind | None = None,
                      limit: int = 200) -> list[dict[str, Any]]:
        """The items the viewer may see, oldest due first (open and claimed ones when `view` is None)."""
        now = self._clock()
        where = self._scope(view, viewer, now - CLAIM_FOR)
        if kind is not None:
            where.append(RevisitTask.reason == kind)
        due = func.coalesce(RevisitTask.next_attempt_at, RevisitTask.created_at)
        async with self.sessions() as s:
            tasks = (await s.scalars(select(RevisitTask).where(*where).order_by(due, RevisitTask.id)
                                     .limit(limit))).all()
            calls = await _calls_of(s, [t.call_id for t in tasks if t.call_id])
        return [_shown(t, calls.get(t.call_id or ""), now) for t in tasks]

    async def get(self, item_id: int, viewer: Viewer) -> dict[str, Any]:
        """One item with its attempts; NotFound when it does not exist or the viewer may not see it."""
        now = self._clock()
        async with self.sessions() as s:
            task = await self._visible(s, item_id, viewer, now)
            attempts = (await s.scalars(select(RevisitAttempt).where(RevisitAttempt.task_id == item_id)
                                        .order_by(RevisitAttempt.id))).all()
            calls = await _calls_of(s, [task.call_id] if task.call_id else [])
        shown = _shown(task, calls.get(task.call_id or ""), now)
        shown["attempt_list"] = [{"call_id": a.call_id, "agent": a.agent, "started_at": _iso(a.started_at),
                                  "ended_at": _iso(a.ended_at), "dial_status": a.dial_status, "outcome": a.outcome,
                                  "note": a.note} for a in attempts]
        return shown

    async def _visible(self, s: AsyncSession, item_id: int, viewer: Viewer, now: datetime) -> RevisitTask:
        cutoff = now - CLAIM_FOR
        views: tuple[View | None, ...] = (None, "done")
        for view in views:
            task = await s.scalar(select(RevisitTask).where(RevisitTask.id == item_id,
                                                            *self._scope(view, viewer, cutoff)))
            if task is not None:
                return task
        raise NotFound(f"no callback {item_id}", error_id="callback_not_found")

    async def message(self, item_id: int) -> Recording | None:
        """The voice message's recording row (None for a callback request, or a message not recorded)."""
        async with self.sessions() as s:
            task = await s.get(RevisitTask, item_id)
            if task is None or task.call_id is None:
                return None
            rows = (await s.scalars(select(Recording).where(Recording.call_id == task.call_id)
                                    .order_by(Recording.id))).all()
        return next((r for r in rows if _is_message(r)), None)

    async def claimer(self, item_id: int) -> tuple[str | None, bool, str]:
        """(who claimed the item, whether the claim is live, the number); NotFound for an unknown item."""
        async with self.sessions() as s:
            task = await self._human(s, item_id)
        live = task.status == "calling" or (task.status in OPEN and task.claimed_at is not None
                                            and task.claimed_at >= self._clock() - CLAIM_FOR)
        return task.claimed_by, live and task.claimed_by is not None, task.number

    # changing

    async def claim(self, item_id: int, agent: str) -> dict[str, Any]:
        """Take the item for `agent` (again: a claim of one's own is renewed). AlreadyClaimed when another
        agent's claim is live, CallbackClosed when it is done."""
        now = self._clock()
        async with self.sessions.begin() as s:
            taken = await s.execute(update(RevisitTask).where(
                RevisitTask.id == item_id, RevisitTask.mode == "human", RevisitTask.reason.in_(KINDS),
                RevisitTask.status.in_(OPEN),
                or_(RevisitTask.claimed_by.is_(None), RevisitTask.claimed_by == agent,
                    RevisitTask.claimed_at.is_(None), RevisitTask.claimed_at < now - CLAIM_FOR))
                .values(claimed_by=agent, claimed_at=now))
            if not taken.rowcount:  # type: ignore[attr-defined]
                task = await self._human(s, item_id)
                self._refuse_closed(task)
                raise AlreadyClaimed(f"callback {item_id} is being worked by agent {task.claimed_by}")
        await self._changed("callback_claimed", item_id, agent)
        return {"id": item_id, "claimed_by": agent, "claimed_until": (now + CLAIM_FOR).isoformat()}

    async def release(self, item_id: int, agent: str | None) -> None:
        """Give the item back to the list: the claimer (`agent`), or anyone in reach (None). CallInProgress
        during a call, NotClaimed when the agent does not hold it."""
        async with self.sessions.begin() as s:
            task = await self._human(s, item_id, lock=True)
            self._refuse_closed(task)
            if task.status == "calling":
                raise CallInProgress(f"callback {item_id} is on a call now")
            if task.claimed_by is None or (agent is not None and task.claimed_by != agent):
                raise NotClaimed(f"callback {item_id} is not claimed by {agent or 'anyone'}")
            holder, task.claimed_by, task.claimed_at = task.claimed_by, None, None
        await self._changed("callback_released", item_id, holder)

    async def begin_call(self, item_id: int, agent: str, call_id: str) -> ToCall:
        """The agent dials the item now: NotClaimed unless they hold a live claim; the item is `calling` and
        an attempt row is written with the call id."""
        now = self._clock()
        async with self.sessions.begin() as s:
            task = await self._human(s, item_id, lock=True)
            self._refuse_closed(task)
            if task.status == "calling":
                raise CallInProgress(f"callback {item_id} is on a call now")
            if task.claimed_by != agent or task.claimed_at is None or task.claimed_at < now - CLAIM_FOR:
                raise NotClaimed(f"claim callback {item_id} before dialling it")
            taken = await s.execute(update(RevisitTask).where(RevisitTask.id == item_id,
                                                              RevisitTask.status.in_(OPEN),
                                                              RevisitTask.claimed_by == agent)
                                    .values(status="calling", claimed_at=now))
            if not taken.rowcount:  # type: ignore[attr-defined]
                raise CallInProgress(f"callback {item_id} is on a call now")
            s.add(RevisitAttempt(task_id=item_id, call_id=call_id, started_at=now, agent=agent))
            found = ToCall(task.id, task.number, task.reason)
        await self._changed("callback_calling", item_id, agent, call_id=call_id)
        return found

    async def call_ended(self, call_id: str, dial_status: str, cause: int | None = None) -> None:
        """The call is over (`dial_status`: how the citizen's leg ended, or AGENT_<reason> when the agent's
        own phone did not answer): the item is back with its claimer, whose claim runs 15 minutes from now."""
        now = self._clock()
        async with self.sessions.begin() as s:
            attempt = await s.scalar(select(RevisitAttempt).where(RevisitAttempt.call_id == call_id)
                                     .with_for_update())
            if attempt is None:
                raise LookupError(f"no callback attempt {call_id}")
            attempt.ended_at, attempt.dial_status, attempt.cause = now, dial_status[:16], cause
            task = await s.get(RevisitTask, attempt.task_id, with_for_update=True)
            assert task is not None
            if task.status == "calling":  # no outcome yet: the claimer gives it now
                task.status = "retry" if task.next_attempt_at is not None else "pending"
                task.claimed_at = now
            item, agent = task.id, task.claimed_by
        await self._changed("callback_call_ended", item, agent, call_id=call_id, dial_status=dial_status)

    async def outcome(self, item_id: int, agent: str, outcome: Outcome, note: str | None = None) -> dict[str, Any]:
        """How the agent's last call of the item went. NoCall without an attempt of theirs awaiting one, or
        `reached` for a call the citizen did not answer."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        now = self._clock()
        async with self.sessions.begin() as s:
            task = await self._human(s, item_id, lock=True)
            self._refuse_closed(task)
            attempt = await s.scalar(select(RevisitAttempt).where(RevisitAttempt.task_id == item_id)
                                     .order_by(RevisitAttempt.id.desc()).limit(1).with_for_update())
            if attempt is None or attempt.agent != agent or attempt.outcome is not None:
                raise NoCall(f"no call of yours to callback {item_id} awaits an outcome: dial it first")
            if outcome == "reached" and attempt.dial_status not in (None, "ANSWER"):
                raise NoCall(f"the citizen did not answer that call ({attempt.dial_status})")
            attempt.outcome, attempt.note = outcome, note
            task.attempts += 1
            task.last_outcome = outcome
            if outcome in ("reached", "wrong_number"):
                self._close(task, "done" if outcome == "reached" else "failed", outcome, now)
            elif task.attempts >= MAX_ATTEMPTS:
                self._close(task, "failed", "exhausted", now)
            else:
                task.next_attempt_at = now + RETRY_AFTER[task.attempts - 1]
                # back on the list (an outcome before the call's end: the end leaves the item as it is now)
                task.status, task.claimed_by, task.claimed_at = "retry", None, None
            result = {"id": task.id, "status": task.status, "attempts": task.attempts, "outcome": outcome,
                      "due_at": _iso(task.next_attempt_at) if task.status == "retry" else None,
                      "call_id": attempt.call_id}
        await self._changed("callback_outcome", item_id, agent, outcome=outcome, status=result["status"])
        return result

    async def announce_lapsed(self, since: datetime) -> datetime:
        """Tell the desks about claims that lapsed (15 minutes without a call) after `since`; returns the time
        up to which they were looked for (the next `since`)."""
        now = self._clock()
        async with self.sessions() as s:
            rows = (await s.execute(select(RevisitTask.id, RevisitTask.claimed_by).where(
                RevisitTask.mode == "human", RevisitTask.reason.in_(KINDS), RevisitTask.status.in_(OPEN),
                RevisitTask.claimed_by.is_not(None), RevisitTask.claimed_at >= since - CLAIM_FOR,
                RevisitTask.claimed_at < now - CLAIM_FOR))).all()
        for item_id, agent in rows:
            await self._changed("callback_released", item_id, agent, lapsed=True)
        return now

    async def recover(self) -> int:
        """After a restart: calls the service was following are gone; their items go back to their claimers."""
        now = self._clock()
        async with self.sessions.begin() as s:
            stuck = (await s.scalars(select(RevisitTask).where(RevisitTask.mode == "human",
                                                               RevisitTask.status == "calling")
                                     .with_for_update())).all()
            for task in stuck:
                await s.execute(update(RevisitAttempt).where(RevisitAttempt.task_id == task.id,
                                                             RevisitAttempt.ended_at.is_(None))
                                .values(ended_at=now, dial_status="INTERRUPTED"))
                task.status, task.claimed_at = ("retry" if task.next_attempt_at else "pending"), now
        return len(stuck)

    # helpers

    @staticmethod
    def _close(task: RevisitTask, status: str, result: str, now: datetime) -> None:
        task.status, task.result, task.finished_at, task.claimed_at = status, result, now, None

    @staticmethod
    def _refuse_closed(task: RevisitTask) -> None:
        if task.status in CLOSED:
            raise CallbackClosed(f"callback {task.id} is {task.status} ({task.result})")

    @staticmethod
    async def _human(s: AsyncSession, item_id: int, lock: bool = False) -> RevisitTask:
        task = await s.get(RevisitTask, item_id, with_for_update=lock)
        if task is None or task.mode != "human" or task.reason not in KINDS:
            raise NotFound(f"no callback {item_id}", error_id="callback_not_found")
        return task

    async def _changed(self, event: str, item_id: int, agent: str | None, **detail: object) -> None:
        """Tell every desk (the live feed); a feed that cannot be reached never undoes the change."""
        if self._publish is None:
            return
        with logged(log, "publishing %s of callback %s", event, item_id):
            await self._publish({"event": event, "callback": item_id, "claimed_by": agent, **detail})
