"""Ticket time limits against hand-worked cases from the Beijing draft (003) and the Tangshan spec (002),
on the shipped 2026 holiday calendar (weekends, holidays, and makeup workdays)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from dialplans.calendar import CHINA, WorkCalendar
from dialplans.loader import load_dialplan
from hotline.app.settings import Settings
from tickets.timelimits import Duration, TimeLimits


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.of(load_dialplan(Settings().core.dialplan_file))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


@pytest.mark.parametrize(("day", "workday"), [
    ("2026-11-23", True),    # Monday
    ("2026-11-28", False),   # Saturday
    ("2026-10-05", False),   # 国庆 holiday, a Monday
    ("2026-10-10", True),    # Saturday worked for 国庆 (调休)
    ("2026-02-14", True),    # Saturday worked for 春节
    ("2026-02-18", False),   # 春节, a Wednesday
])
def test_the_workday_calendar(calendar: WorkCalendar, day: str, workday: bool) -> None:
    assert calendar.is_workday(date.fromisoformat(day)) is workday


# (rule set, submitted, urgency, request type, complex, stage, due) — each worked out by hand.
CASES = [
    # Beijing 一般: dispatch 24 h, sign 1 workday, feedback 7 days.
    ("beijing", "2026-11-23 10:00", "一般", "投诉", False, "dispatch", "2026-11-24 10:00"),
    ("beijing", "2026-11-23 10:00", "一般", "投诉", False, "sign", "2026-11-24 10:00"),
    ("beijing", "2026-11-23 10:00", "一般", "投诉", False, "feedback", "2026-11-30 10:00"),
    # Friday afternoon: one workday later is Monday.
    ("beijing", "2026-11-27 16:30", "一般", "求助", False, "sign", "2026-11-30 16:30"),
    # Saturday: counting starts Monday 00:00, so the whole of Monday.
    ("beijing", "2026-11-28 09:00", "一般", "求助", False, "sign", "2026-12-01 00:00"),
    # The eve of 国庆: 10-01..07 off, Thursday 10-08 is the next workday.
    ("beijing", "2026-09-30 15:00", "一般", "咨询", False, "sign", "2026-10-08 15:00"),
    # Friday before a makeup Saturday: the Saturday counts.
    ("beijing", "2026-10-09 11:00", "一般", "咨询", False, "sign", "2026-10-10 11:00"),
    # 非常紧急 in the holiday night: hours are hours.
    ("beijing", "2026-10-03 22:50", "非常紧急", "求助", False, "dispatch", "2026-10-03 23:50"),
    ("beijing", "2026-10-03 22:50", "非常紧急", "求助", False, "sign", "2026-10-03 23:05"),
    ("beijing", "2026-10-03 22:50", "非常紧急", "求助", False, "feedback", "2026-10-04 00:50"),
    ("beijing", "2026-11-23 10:00", "紧急", "求助", False, "sign", "2026-11-23 10:30"),
    ("beijing", "2026-11-23 10:00", "紧急", "求助", False, "feedback", "2026-11-24 10:00"),
    ("beijing", "2026-11-23 10:00", "一般", "投诉", True, "feedback", "2026-12-08 10:00"),
    # Tangshan 咨询: 2 workdays; Friday 09-25 is 中秋.
    ("tangshan", "2026-09-24 14:00", "一般", "咨询", False, "dispatch", "2026-09-24 16:00"),
    ("tangshan", "2026-09-24 14:00", "一般", "咨询", False, "sign", "2026-09-28 14:00"),
    ("tangshan", "2026-09-24 14:00", "一般", "咨询", False, "feedback", "2026-09-29 14:00"),
    # Tangshan others: 5 workdays across 国庆 with its makeup Saturday (09-30, 10-08, 10-09, 10-10, 10-12).
    ("tangshan", "2026-09-29 09:00", "一般", "投诉", False, "feedback", "2026-10-12 09:00"),
    # Across 春节: Saturday 02-14 is worked, 02-15..23 off (02-14, 24, 25, 26, 27).
    ("tangshan", "2026-02-13 17:00", "一般", "求助", False, "feedback", "2026-02-27 17:00"),
    ("tangshan", "2026-11-23 10:00", "紧急", "投诉", False, "feedback", "2026-11-26 10:00"),
    ("tangshan", "2026-11-23 10:00", "非常紧急", "求助", False, "first_feedback", "2026-11-23 15:00"),
    ("tangshan", "2026-11-23 10:00", "非常紧急", "求助", False, "feedback", "2026-11-24 10:00"),
]


@pytest.mark.parametrize(("rules", "submitted", "urgency", "request_type", "complex_case", "stage", "due"), CASES)
def test_hand_worked_deadlines(calendar: WorkCalendar, rules: str, submitted: str, urgency: str,
                               request_type: str, complex_case: bool, stage: str, due: str) -> None:
    limits = TimeLimits.load(rules, calendar)
    deadlines = limits.deadlines(at(submitted), urgency, request_type, complex_case)
    assert deadlines.due[stage] == at(due), deadlines.to_json()


def test_only_the_tangshan_very_urgent_rule_asks_for_a_first_feedback(calendar: WorkCalendar) -> None:
    beijing = TimeLimits.load("beijing", calendar).deadlines(at("2026-11-23 10:00"), "非常紧急", "求助")
    assert "first_feedback" not in beijing.due
    assert beijing.rule == "beijing#1"


def test_bad_durations_and_rule_sets_are_named() -> None:
    with pytest.raises(ValueError, match="'3 days' is not valid"):
        Duration.parse("3 days")
    with pytest.raises(ValueError, match="no time-limit rule set 'shanghai'"):
        TimeLimits.load("shanghai", WorkCalendar())
