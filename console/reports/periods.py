"""Report periods: China-time days (hotline.core.clock), a range `from`..`to` inclusive, its days grouped by
week (ISO, 2026-W48) or month (2026-11), the previous period of the same length and the same dates a year
earlier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from hotline.core.clock import CHINA

MAX_DAYS = 400
By = Literal["day", "week", "month", "total"]
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Span:
    """Days `first`..`last` inclusive (China time)."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant (aware) of the span."""
        return datetime.combine(self.first, time(0), CHINA)

    @property
    def end(self) -> datetime:
        """The instant after the span."""
        return datetime.combine(self.last + timedelta(days=1), time(0), CHINA)

    @property
    def day_numbers(self) -> range:
        """Its days as days since 1970-01-01 (what the queries group by)."""
        return range((self.first - EPOCH).days, (self.last - EPOCH).days + 1)

    def to_json(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}

    def previous(self) -> Span:
        """The span of the same length just before (a whole month: the whole month before)."""
        if self.first.day == 1 and (self.last + timedelta(days=1)).day == 1:
            months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
            first = _add_months(self.first, -months)
            return Span(first, self.first - timedelta(days=1))
        return Span(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def last_year(self) -> Span:
        """The same dates a year earlier (29 February: the 28th)."""
        return Span(_year_before(self.first), _year_before(self.last))


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def day_of(number: int) -> date:
    return EPOCH + timedelta(days=number)


def label(day: date, by: By) -> str:
    """The period a day belongs to: 2026-11-27, 2026-W48, 2026-11 or total."""
    if by == "day":
        return day.isoformat()
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return f"{day.year}-{day.month:02d}"
    return "total"


def split(span: Span, by: By) -> list[tuple[str, Span]]:
    """The span cut into its periods, in order; a period at either end is cut to the span."""
    periods: list[tuple[str, Span]] = []
    day = span.first
    while day <= span.last:
        name = label(day, by)
        if periods and periods[-1][0] == name:
            periods[-1] = (name, Span(periods[-1][1].first, day))
        else:
            periods.append((name, Span(day, day)))
        day += timedelta(days=1)
    return periods


def month_span(month: str) -> Span:
    """2026-11 → the days of November 2026; ValueError if not YYYY-MM."""
    year, _, mon = month.partition("-")
    if len(year) != 4 or len(mon) != 2 or not (year + mon).isdigit() or not 1 <= int(mon) <= 12:
        raise ValueError("month: YYYY-MM")
    first = date(int(year), int(mon), 1)
    return Span(first, _add_months(first, 1) - timedelta(days=1))
