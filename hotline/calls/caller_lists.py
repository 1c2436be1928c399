"""Caller lists and what they mean for a call: priority in the queue, a warning, or a polite refusal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from hotline.calls.measures import Decision, governing
from hotline.calls.models import CallerListEntry, CallerMeasure, CallRecord
from hotline.calls.records import OUTBOUND_MODES
from hotline.core.db.engine import SessionFactory
from hotline.core.db.integrity import is_duplicate

KINDS: tuple[str, ...] = ("vip", "elderly", "watch", "blocked", "no_revisit")  # no_revisit: opted out (R-REV-4)
NUMBER = re.compile(r"^\+?\d{3,20}$")
REPEAT_WINDOW = timedelta(hours=24)


class BadListEntry(ValueError):
    """A list entry that cannot be stored; the message says which field and why."""


@dataclass(frozen=True)
class CallerStanding:
    """What the lists and the call history say about a caller."""

    kinds: frozenset[str]
    repeat_caller: bool
    measure: Decision | None = None  # the measure in force on the number (R-ACC-7), see hotline.calls.measures

    @property
    def blocked(self) -> bool:
        return "blocked" in self.kinds

    @property
    def refused(self) -> bool:
        """Under a pause / stop / suspension of service now."""
        return self.measure is not None and self.measure.refuses

    @property
    def watched(self) -> bool:
        return "watch" in self.kinds or (self.measure is not None and self.measure.measure == "warning")

    def labels(self) -> list[str]:
        return sorted(self.kinds | ({"repeat_caller"} if self.repeat_caller else set())
                      | ({"watch"} if self.watched else set()))


class CallerLists:
    """Reads and changes the lists; one short transaction each."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    @staticmethod
    def validate(number: object, kind: object, note: object = "") -> tuple[str, str, str]:
        if not isinstance(number, str) or not NUMBER.match(number):
            raise BadListEntry("number must be 3-20 digits (an optional leading +)")
        if kind not in KINDS:
            raise BadListEntry(f"kind must be one of {', '.join(KINDS)}")
        if not isinstance(note, str) or len(note) > 200:
            raise BadListEntry("note must be a text of at most 200 characters")
        return number, str(kind), note

    async def add(self, number: str, kind: str, note: str, added_by: str) -> bool:
        """False when the number is already on that list."""
        number, kind, note = self.validate(number, kind, note)
        try:
            async with self.sessions.begin() as s:
                s.add(CallerListEntry(number=number, kind=kind, note=note, added_by=added_by,
                                      added_at=datetime.now(UTC)))
        except IntegrityError as exc:
            if is_duplicate(exc, CallerListEntry.__tablename__, "number", "kind"):
                return False
            raise
        return True

    async def remove(self, number: str, kind: str) -> bool:
        async with self.sessions.begin() as s:
            result = await s.execute(delete(CallerListEntry).where(CallerListEntry.number == number,
                                                                   CallerListEntry.kind == kind))
            return bool(getattr(result, "rowcount", 0))

    async def entries(self, kind: str | None = None) -> list[dict[str, Any]]:
        query = select(CallerListEntry).order_by(CallerListEntry.kind, CallerListEntry.number)
        if kind:
            query = query.where(CallerListEntry.kind == kind)
        async with self.sessions() as s:
            rows = (await s.scalars(query)).all()
        return [{"number": r.number, "kind": r.kind, "note": r.note, "added_by": r.added_by,
                 "added_at": r.added_at.isoformat()} for r in rows]

    async def standing(self, number: str, *, exclude_call: str, now: datetime) -> CallerStanding:
        """The caller's lists, the measure in force, and whether they called in the last 24 hours (a repeat caller)."""
        async with self.sessions() as s:
            kinds = (await s.scalars(select(CallerListEntry.kind).where(CallerListEntry.number == number))).all()
            earlier = await s.scalar(select(func.count()).select_from(CallRecord).where(
                CallRecord.caller == number, CallRecord.started_at >= now - REPEAT_WINDOW,
                CallRecord.call_id != exclude_call,  # the calls the hotline placed to them are not theirs
                or_(CallRecord.route_mode.is_(None), CallRecord.route_mode.not_in(OUTBOUND_MODES))))
            measures = (await s.scalars(select(CallerMeasure).where(CallerMeasure.number == number))).all()
        return CallerStanding(frozenset(kinds), bool(earlier), governing([Decision.of(m) for m in measures], now))
