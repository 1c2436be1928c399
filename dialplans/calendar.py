"""The centre's workday calendar: weekends and holidays off, makeup weekend days (调休) on.

Time limits such as "1 个工作日" count in it. Counting starts at the moment of submission on a
workday (deadline: the same clock time *n* workdays later); a ticket submitted on a day off starts
counting at 00:00 of the next workday (deadline: the end of the *n*-th workday).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from dialplans.model import Dialplan
from hotline.core.clock import CHINA  # re-exported: the tickets and callbacks import it from here


class WorkCalendar:
    """Which days are workdays, and workday arithmetic in China's time zone."""

    def __init__(self, days_off: Iterable[date] = (), makeup_workdays: Iterable[date] = ()) -> None:
        self._off = frozenset(days_off)
        self._on = frozenset(makeup_workdays)

    @classmethod
    def of(cls, plan: Dialplan) -> WorkCalendar:
        days_off = [h.period.start + timedelta(days=i) for h in plan.holidays
                    for i in range((h.period.until - h.period.start).days + 1)]
        return cls(days_off, plan.workdays)

    def is_workday(self, day: date) -> bool:
        if day in self._on:
            return True
        return day.weekday() < 5 and day not in self._off

    def next_workday(self, day: date) -> date:
        """The first workday strictly after `day`."""
        day += timedelta(days=1)
        for _ in range(400):
            if self.is_workday(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no workday within 400 days after {day}")

    def add_workdays(self, start: datetime, count: int) -> datetime:
        """`start` plus `count` workdays (see the module note); returns an aware datetime in China time."""
        if start.tzinfo is None:
            raise ValueError("naive datetime")
        local = start.astimezone(CHINA)
        day = local.date()
        if self.is_workday(day):
            for _ in range(count):
                day = self.next_workday(day)
            return datetime.combine(day, local.timetz())
        day = self.next_workday(day)
        for _ in range(count - 1):
            day = self.next_workday(day)
        return datetime.combine(day + timedelta(days=1), time(0, tzinfo=CHINA))
