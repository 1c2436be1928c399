"""Revisit tasks from calls (R-REV-2): callers who did not rate, bad ratings, callers who gave up in
the queue, and a random sample of the rest; each call becomes at most one task per reason.

Runs every `every_s` over calls that ended in the last day (a restart loses nothing: the scan looks
back, and the database refuses a second task for the same call and reason). Revisit calls and duty
calls are not themselves revisited; numbers on the `no_revisit` or `blocked` lists and withheld
numbers are left out. Sampling is decided by the call id's hash, so a rescan decides the same way.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from callback.models import RevisitTask
from dialplans.model import RevisitSettings
from hotline.calls.models import CallerListEntry, CallRecord
from hotline.calls.records import OUTBOUND_MODES
from hotline.core.db.engine import SessionFactory
from hotline.core.db.integrity import is_duplicate
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)
LOOK_BACK = timedelta(days=1)
SETTLE = timedelta(seconds=5)  # the rating flow and the hang-up are written by then
PHONE = re.compile(r"^\d{5,20}$")
MODES = {"unrated": "robot", "bad_rating": "robot", "sampling": "robot", "abandoned": "human"}


def sampled(call_id: str, rate: float) -> bool:
    """The same verdict for the same call every time."""
    return int(hashlib.sha256(call_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < rate


def reason_for(call: CallRecord, settings: RevisitSettings) -> str | None:
    """Why this call should be revisited, if it should."""
    sources = settings.from_calls
    if call.agent is not None and call.rating is not None and call.rating >= 4 and "bad_rating" in sources:
        return "bad_rating"
    if call.agent is not None and call.rating_status == "not_rated" and "unrated" in sources:
        return "unrated"
    if call.agent is None and call.outcome in ("abandoned_in_queue",) and "abandoned" in sources:
        return "abandoned"
    if call.agent is not None and call.rating is not None and sampled(call.call_id, settings.sample_rate):
        return "sampling"
    return None


class RevisitPlanner(LoopWorker):
    """Scans the calls every `every_s`; a failed scan is retried with the worker's backoff."""

    name = "revisit-planner"

    def __init__(self, sessions: SessionFactory, settings: RevisitSettings, every_s: float = 30.0) -> None:
        super().__init__()
        self._sessions, self._settings, self._every_s = sessions, settings, every_s
        self._scanned_to: datetime | None = None  # calls that ended before this were looked at

    async def step(self) -> float:
        made = await self.scan()
        if made:
            log.info("revisit: %d task(s) planned from calls", made)
        return self._every_s

    async def scan(self, now: datetime | None = None) -> int:
        """Plan tasks for calls that ended since the last scan (the last day at first) and have none yet."""
        now = now or datetime.now(UTC)
        since = now - LOOK_BACK if self._scanned_to is None else self._scanned_to - SETTLE
        until = now - SETTLE
        planned = select(RevisitTask.call_id).where(RevisitTask.call_id.is_not(None))
        refused = select(CallerListEntry.number).where(CallerListEntry.kind.in_(("no_revisit", "blocked")))
        async with self._sessions() as s:
            calls = (await s.scalars(select(CallRecord).where(
                CallRecord.ended_at.is_not(None), CallRecord.ended_at >= since, CallRecord.ended_at <= until,
                or_(CallRecord.route_mode.is_(None), CallRecord.route_mode.not_in(OUTBOUND_MODES)),
                and_(CallRecord.call_id.not_in(planned)), CallRecord.caller.not_in(refused)))).all()
        made = 0
        for call in calls:
            reason = reason_for(call, self._settings)
            number = call.caller.removeprefix("+86")
            if reason is None or not PHONE.match(number):
                continue
            try:
                async with self._sessions.begin() as s:
                    s.add(RevisitTask(call_id=call.call_id, number=number, reason=reason, mode=MODES[reason],
                                      created_at=now))
            except IntegrityError as exc:
                if is_duplicate(exc, RevisitTask.__tablename__, "call_id", "reason"):
                    continue  # another scan was first
                raise
            made += 1
        self._scanned_to = until
        return made
