"""The hotline's clock: China Standard Time (UTC+8, no daylight saving), the one time zone of the standards'
working days, opening hours and daily figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """The current time, UTC-aware (what the database stores)."""
    return datetime.now(UTC)


def china_now() -> datetime:
    return datetime.now(CHINA)


def china_today() -> date:
    return china_now().date()


def china_day(at: datetime) -> date:
    """The day in China of an aware instant."""
    return at.astimezone(CHINA).date()
