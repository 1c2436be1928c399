"""Call records: the service interface flows and observers write through, and the API reads."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.calls.models import CallRecord, Rating, Recording
from hotline.core.db.engine import SessionFactory
from hotline.core.db.integrity import is_duplicate, violation

OUTBOUND_MODES = ("revisit", "duty_call", "callback")  # route modes of the calls the hotline places
SELF_SERVICE_STEPS = {"ticket_lookup": "ticket_progress", "callback_requested": "callback",
                      "knowledge_heard": "knowledge"}


def _settle(row: CallRecord) -> None:
    """Fill the report columns that follow from the times known so far (idempotent): the wait ends when an
    agent answers, or at the hang-up for a caller who left the queue; the talk runs from answer to hang-up."""
    if row.queued_at is not None:
        until = row.connected_at or row.ended_at
        if until is not None and (row.wait_s is None or row.connected_at is not None):
            row.wait_s = round(max(0.0, (until - row.queued_at).total_seconds()), 3)
    if row.connected_at is not None and row.ended_at is not None:
        row.talk_s = round(max(0.0, (row.ended_at - row.connected_at).total_seconds()), 3)


def _served_by_self_service(step: str, detail: dict[str, Any]) -> str | None:
    """What a self-service step served: a ticket's progress told (found), or a callback booked."""
    if step == "ticket_lookup" and not detail.get("found"):
        return None
    return SELF_SERVICE_STEPS.get(step)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class CallView:
    """A call record as the API shows it."""

    call_id: str
    sip_call_id: str | None
    caller: str
    dialled: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    route: dict[str, str | None]
    agent: str | None
    rating: int | None
    rating_status: str | None
    outcome: str | None
    hangup_cause: str | None
    failsafe_reason: str | None
    steps: list[dict[str, Any]]
    recordings: list[dict[str, Any]]

    def _detail(self, step: str) -> dict[str, Any] | None:
        return next((s.get("detail") or {} for s in self.steps if s.get("step") == step), None)

    @property
    def flags(self) -> list[str]:
        """The caller's labels when the call came in (vip, elderly, repeat_caller, watch …)."""
        return list((self._detail("caller_lists") or {}).get("labels", []))

    @property
    def measure(self) -> dict[str, Any] | None:
        """The measure on the caller in force when the call came in (R-ACC-7), if any."""
        return self._detail("measure")

    @classmethod
    def of(cls, row: CallRecord) -> CallView:
        return cls(
            call_id=row.call_id, sip_call_id=row.sip_call_id, caller=row.caller, dialled=row.dialled,
            started_at=row.started_at, answered_at=row.answered_at, ended_at=row.ended_at,
            route={"mode": row.route_mode, "skill": row.route_skill, "prompt": row.route_prompt,
                   "overflow": row.route_overflow},
            agent=row.agent, rating=row.rating, rating_status=row.rating_status, outcome=row.outcome,
            hangup_cause=row.hangup_cause,
            failsafe_reason=row.failsafe_reason, steps=list(row.steps or []),
            recordings=[{"id": r.id, "path": r.path, "format": r.format, "started_at": _iso(r.started_at),
                         "size_bytes": r.size_bytes, "sha256": r.sha256, "status": r.status,
                         "duration_s": r.duration_s, "stored_at": _iso(r.stored_at), "channels": r.channels,
                         "review": r.review, "analysis": r.analysis} for r in row.recordings],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id, "sip_call_id": self.sip_call_id, "caller": self.caller,
            "dialled": self.dialled, "started_at": _iso(self.started_at), "answered_at": _iso(self.answered_at),
            "ended_at": _iso(self.ended_at), "route": self.route, "agent": self.agent, "rating": self.rating,
            "rating_status": self.rating_status,
            "outcome": self.outcome, "hangup_cause": self.hangup_cause, "failsafe_reason": self.failsafe_reason,
            "steps": self.steps, "recordings": self.recordings,
            "flags": self.flags, "watch": "watch" in self.flags, "measure": self.measure,
            "direction": "outbound" if self.route.get("mode") in OUTBOUND_MODES else "inbound",
        }


class CallNotFound(LookupError):
    """No call record with that id."""


class RatingRefused(ValueError):
    """The call was already rated, or has no record: a second rating is never stored."""


class CallRecords:
    """Reads and writes call records; each method is one short transaction."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def _locked(self, call_id: str) -> AsyncIterator[None]:
        """One writer per call at a time: flows, the ACD and AMI observers append steps to the same row.
        In-process by lock; across processes by SELECT … FOR UPDATE (PostgreSQL; SQLite has one writer)."""
        lock = self._locks.get(call_id)
        if lock is None:
            lock = self._locks[call_id] = asyncio.Lock()
        async with lock:
            yield

    async def start(self, call_id: str, *, sip_call_id: str | None, caller: str, dialled: str,
                    started_at: datetime, route_mode: str | None = None, route_skill: str | None = None,
                    steps: list[dict[str, Any]] | None = None) -> bool:
        """Create the record (True); a second start for the same call (AMI and the flow both open it) is ignored
        (False). `steps` are the record's first steps, written only if this start creates it."""
        try:
            async with self.sessions.begin() as s:
                if await s.get(CallRecord, call_id) is not None:
                    return False
                s.add(CallRecord(call_id=call_id, sip_call_id=sip_call_id, caller=caller, dialled=dialled,
                                 started_at=started_at, answered_at=started_at, route_mode=route_mode,
                                 route_skill=route_skill, steps=list(steps or [])))
            return True
        except IntegrityError as exc:
            if not is_duplicate(exc, CallRecord.__tablename__, "call_id"):
                raise  # not the other writer: a real fault, never taken for "already there"
            return False

    async def _update(self, call_id: str, **values: Any) -> None:
        async with self._locked(call_id), self.sessions.begin() as s:
            row = await s.get(CallRecord, call_id, with_for_update=True)
            if row is None:
                raise CallNotFound(call_id)
            for key, value in values.items():
                setattr(row, key, value)

    async def answered(self, call_id: str, at: datetime) -> None:
        await self._update(call_id, answered_at=at)

    async def route(self, call_id: str, mode: str, skill: str | None, prompt: str | None) -> None:
        await self._update(call_id, route_mode=mode, route_skill=skill, route_prompt=prompt)

    async def step(self, call_id: str, step: str, detail: dict[str, Any] | None = None) -> None:
        """Append one step of the flow with its time."""
        async with self._locked(call_id), self.sessions.begin() as s:
            row = await s.get(CallRecord, call_id, with_for_update=True)
            if row is None:
                raise CallNotFound(call_id)
            at = datetime.now(UTC)
            row.steps = [*row.steps, {"at": at.isoformat(), "step": step, "detail": detail or {}}]
            if step == "queued" and row.queued_at is None:
                row.queued_at = at
            served = _served_by_self_service(step, detail or {})
            row.self_service = served or row.self_service

    async def overflow(self, call_id: str, skill: str, reason: str) -> None:
        """A sub-centre call went back to the 12345 seats (its department's seats closed or full)."""
        await self._update(call_id, route_skill=skill, route_overflow=reason[:32])

    async def rate(self, call_id: str, rating: int, label: str, at: datetime) -> None:
        """Store the caller's rating with the call and its agent; once per call (the database enforces it)."""
        if not 1 <= rating <= 5:
            raise RatingRefused(f"rating {rating} is not 1-5")
        try:
            async with self._locked(call_id), self.sessions.begin() as s:
                row = await s.get(CallRecord, call_id, with_for_update=True)
                if row is None:
                    raise RatingRefused(f"no call {call_id}")
                if row.rating is not None:
                    raise RatingRefused(f"call {call_id} is already rated")
                s.add(Rating(call_id=call_id, agent=row.agent, rating=rating, label=label, rated_at=at))
                row.rating, row.rating_status = rating, "rated"
                row.steps = [*row.steps, {"at": at.isoformat(), "step": "rated", "detail": {"rating": rating}}]
        except IntegrityError as exc:
            if is_duplicate(exc, Rating.__tablename__, "call_id"):
                raise RatingRefused(f"call {call_id} is already rated") from exc
            raise RatingRefused(f"the rating of call {call_id} cannot be stored: {violation(exc).describe()}") from exc

    async def add_recording(self, call_id: str, path: str, format: str) -> int:
        """Link a recording file to the call (once per path); CallNotFound while the call has no record yet
        (told by the database's foreign key, not by a read before: one round trip, and no window between)."""
        try:
            async with self.sessions.begin() as s:
                existing = await s.scalar(select(Recording.id).where(Recording.call_id == call_id,
                                                                     Recording.path == path))
                if existing is not None:
                    return existing
                rec = Recording(call_id=call_id, path=path, format=format, started_at=datetime.now(UTC))
                s.add(rec)
                await s.flush()
                return rec.id
        except IntegrityError as exc:
            if violation(exc).kind == "foreign_key":
                raise CallNotFound(call_id) from None
            raise

    async def end(self, call_id: str, outcome: str, at: datetime, failsafe_reason: str | None = None) -> None:
        """The flow's verdict; ended_at is set if the hang-up has not been seen yet."""
        async with self._locked(call_id), self.sessions.begin() as s:
            row = await s.get(CallRecord, call_id, with_for_update=True)
            if row is None:
                raise CallNotFound(call_id)
            row.outcome = outcome
            row.failsafe_reason = failsafe_reason or row.failsafe_reason
            row.ended_at = row.ended_at or at
            _settle(row)

    async def set_outcome(self, call_id: str, outcome: str) -> None:
        await self._update(call_id, outcome=outcome)

    async def assign_agent(self, call_id: str, agent: str, at: datetime) -> None:
        """An agent answered the call."""
        async with self._locked(call_id), self.sessions.begin() as s:
            row = await s.get(CallRecord, call_id, with_for_update=True)
            if row is None:
                raise CallNotFound(call_id)
            row.agent = agent
            row.outcome = "connected"
            row.connected_at = row.connected_at or at
            _settle(row)
            row.steps = [*row.steps, {"at": at.isoformat(), "step": "agent", "detail": {"agent": agent}}]

    async def failsafe(self, call_id: str, reason: str) -> None:
        """The call went to the fail-safe destination (its flow broke or the AGI server was unreachable)."""
        async with self._locked(call_id), self.sessions.begin() as s:
            row = await s.get(CallRecord, call_id, with_for_update=True)
            if row is None:
                raise CallNotFound(call_id)
            row.outcome = "failsafe"
            row.failsafe_reason = reason[:128] or row.failsafe_reason

    async def hung_up(self, call_id: str, at: datetime, cause: str) -> bool:
        """The channel really ended (from AMI): the authoritative end time. False if no such call."""
        async with self._locked(call_id), self.sessions.begin() as s:
            row = await s.get(CallRecord, call_id, with_for_update=True)
            if row is None:
                return False
            row.ended_at = at
            row.hangup_cause = cause[:64]
            row.outcome = row.outcome or "ended"
            _settle(row)
            if row.agent is not None and row.rating is None:
                row.rating_status = "not_rated"  # hung up before rating: the voice revisit asks (R-REV-2)
            return True

    async def wrapped_up(self, call_id: str, seconds: float) -> None:
        """The agent's wrap-up after the call ended, `seconds` long (from the agent-state log)."""
        await self._update(call_id, wrap_up_s=round(seconds, 3))

    async def unended(self) -> list[str]:
        """Calls whose hang-up has not been written (still going on, or missed while the service was down)."""
        async with self.sessions() as s:
            return list((await s.scalars(select(CallRecord.call_id).where(CallRecord.ended_at.is_(None)))).all())

    async def get(self, call_id: str) -> CallView | None:
        async with self.sessions() as s:
            row = await s.get(CallRecord, call_id)
            return CallView.of(row) if row else None

    async def list(self, *, caller: str | None = None, sip_call_id: str | None = None, agent: str | None = None,
                   agents: Collection[str] | None = None, limit: int = 50) -> list[CallView]:
        """Newest first; `agents` limits them to the calls these agents handled (None: any)."""
        query = select(CallRecord).order_by(CallRecord.started_at.desc(), CallRecord.call_id.desc()).limit(limit)
        if caller:
            query = query.where(CallRecord.caller == caller)
        if sip_call_id:
            query = query.where(CallRecord.sip_call_id == sip_call_id)
        if agent:
            query = query.where(CallRecord.agent == agent)
        if agents is not None:
            query = query.where(CallRecord.agent.in_(agents))
        async with self.sessions() as s:
            return [CallView.of(r) for r in (await s.scalars(query)).all()]
