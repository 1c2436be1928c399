"""Measures on nuisance callers (R-ACC-7): a warning first, then a pause / stop / suspension of service.

The standard (000 6.2.1): "诉求人重复投诉、情绪激动或者辱骂工作人员时，可启动对应的“暂停/停止/中止”等程序";
and the warning of D.4.3 ("我们的电话有全程录音功能，并能显示来电号码"). A supervisor decides; each decision is a
row (who, why, when, until when) and is never changed, so the history of a number is the list of its rows.
The latest decision still running governs: a warning makes the caller hear the warning and flags the call to
the agent; pause / stop / suspend refuse the caller with a polite prompt until `ends_at` (then the warning
before it applies again); a lift ends everything decided before it.
Expiry needs no worker: a measure whose end has passed no longer applies when the next call asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hotline.calls.models import CallerMeasure
from hotline.core.db.engine import SessionFactory

REFUSALS: tuple[str, ...] = ("pause", "stop", "suspend")  # 暂停 / 停止 / 中止: service refused for a set period
MEASURES: tuple[str, ...] = ("warning", *REFUSALS)
LONGEST = timedelta(days=366)  # a refusal is for a set period, never open-ended (that is the blocked list)


class MeasureRefused(ValueError):
    """A decision the rules do not allow (the message says why); `error_id` names the rule."""

    def __init__(self, message: str, error_id: str) -> None:
        super().__init__(message)
        self.error_id = error_id


@dataclass(frozen=True)
class Decision:
    """One decision on a number, as recorded."""

    id: int
    number: str
    measure: str  # warning | pause | stop | suspend | lift
    reason: str
    decided_by: str
    decided_at: datetime
    ends_at: datetime | None

    @property
    def refuses(self) -> bool:
        return self.measure in REFUSALS

    def in_force(self, now: datetime) -> bool:
        return self.measure != "lift" and self.decided_at <= now and (self.ends_at is None or now < self.ends_at)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "measure": self.measure, "reason": self.reason,
                "decided_by": self.decided_by, "decided_at": self.decided_at.isoformat(),
                "ends_at": self.ends_at.isoformat() if self.ends_at else None}

    @classmethod
    def of(cls, row: CallerMeasure) -> Decision:
        return cls(row.id, row.number, row.measure, row.reason, row.decided_by, _utc(row.decided_at),
                   _utc(row.ends_at) if row.ends_at else None)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def governing(decisions: list[Decision], now: datetime) -> Decision | None:
    """The measure in force at `now`: the latest decision taken by then that has not ended. A lift ends every
    measure decided before it; a refusal that ran out leaves the warning before it (the caller stays warned)."""
    for d in sorted((d for d in decisions if d.decided_at <= now), key=lambda d: (d.decided_at, d.id), reverse=True):
        if d.measure == "lift":
            return None
        if d.in_force(now):
            return d
    return None


class CallerMeasures:
    """Decides, lifts and reads measures; one short transaction each."""

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def decide(self, number: str, measure: str, reason: str, decided_by: str, *,
                     ends_at: datetime | None, now: datetime | None = None) -> Decision:
        """Record a decision. A refusal needs an end within a year and a warning given earlier (warning first)."""
        now = now or datetime.now(UTC)
        if measure not in MEASURES:
            raise MeasureRefused(f"measure must be one of {', '.join(MEASURES)}", "bad_measure")
        if not reason.strip():
            raise MeasureRefused("reason is required: say why the measure is taken", "reason_required")
        if ends_at is not None and not now < ends_at <= now + LONGEST:
            raise MeasureRefused("the measure must end in the future and within a year", "bad_period")
        if measure in REFUSALS:
            if ends_at is None:
                raise MeasureRefused(f"{measure} is for a set period: give its end", "period_required")
            if not any(d.measure == "warning" for d in await self.history(number)):
                raise MeasureRefused(f"{number} was never warned: a warning comes first", "warning_first")
        return await self._record(number, measure, reason, decided_by, now, ends_at)

    async def lift(self, number: str, reason: str, decided_by: str, now: datetime | None = None) -> Decision:
        """End the measure in force now (recorded as a decision of its own)."""
        now = now or datetime.now(UTC)
        if not reason.strip():
            raise MeasureRefused("reason is required: say why the measure is lifted", "reason_required")
        if await self.in_force(number, now) is None:
            raise MeasureRefused(f"no measure is in force on {number}", "no_measure")
        return await self._record(number, "lift", reason, decided_by, now, None)

    async def _record(self, number: str, measure: str, reason: str, decided_by: str, now: datetime,
                      ends_at: datetime | None) -> Decision:
        row = CallerMeasure(number=number, measure=measure, reason=reason.strip(), decided_by=decided_by,
                            decided_at=now, ends_at=ends_at)
        async with self.sessions.begin() as s:
            s.add(row)
            await s.flush()
            return Decision.of(row)

    async def history(self, number: str) -> list[Decision]:
        """Every decision on the number, oldest first."""
        query = select(CallerMeasure).where(CallerMeasure.number == number).order_by(
            CallerMeasure.decided_at, CallerMeasure.id)
        async with self.sessions() as s:
            return [Decision.of(r) for r in (await s.scalars(query)).all()]

    async def in_force(self, number: str, now: datetime) -> Decision | None:
        return governing(await self.history(number), now)

    async def all_in_force(self, now: datetime) -> list[Decision]:
        """The measures in force now, on every number (a supervisor's overview)."""
        async with self.sessions() as s:
            rows = (await s.scalars(select(CallerMeasure).order_by(CallerMeasure.number))).all()
        by_number: dict[str, list[Decision]] = {}
        for row in rows:
            by_number.setdefault(row.number, []).append(Decision.of(row))
        return [d for ds in by_number.values() if (d := governing(ds, now)) is not None]
