"""Ticket time limits (R-TKT-3): rule sets as data (`data/time_limits.yaml`), deadlines from the calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import yaml

from dialplans.calendar import WorkCalendar

STAGES = ("dispatch", "sign", "first_feedback", "feedback")
_DURATION = re.compile(r"^(\d+)(m|h|d|wd)$")


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # m | h | d | wd

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(str(text))
        if not match or int(match[1]) < 1:
            raise ValueError(f"time limit '{text}' is not valid; write 15m, 2h, 7d or 1wd")
        return cls(int(match[1]), match[2])

    def after(self, start: datetime, calendar: WorkCalendar) -> datetime:
        if self.unit == "wd":
            return calendar.add_workdays(start, self.amount)
        minutes = {"m": 1, "h": 60, "d": 1440}[self.unit] * self.amount
        return start + timedelta(minutes=minutes)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Rule:
    urgency: str | None
    request_type: str | None
    complex: bool | None
    limits: dict[str, Duration]

    def matches(self, urgency: str, request_type: str, complex_case: bool) -> bool:
        return ((self.urgency is None or self.urgency == urgency)
                and (self.request_type is None or self.request_type == request_type)
                and (self.complex is None or self.complex == complex_case))


@dataclass(frozen=True)
class Deadlines:
    """When each stage is due; `rule` names the rule set and the matched rule for the record."""

    due: dict[str, datetime]
    rule: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, **{stage: at.isoformat() for stage, at in self.due.items()}}


class TimeLimits:
    """One rule set: first matching rule wins; the last rule should match everything."""

    def __init__(self, name: str, rules: list[Rule], calendar: WorkCalendar) -> None:
        if not rules:
            raise ValueError(f"rule set {name} has no rules")
        self.name, self._rules, self._calendar = name, rules, calendar

    @classmethod
    def load(cls, name: str, calendar: WorkCalendar) -> TimeLimits:
        text = resources.files("tickets").joinpath("data/time_limits.yaml").read_text(encoding="utf-8")
        sets = yaml.safe_load(text)["rule_sets"]
        if name not in sets:
            raise ValueError(f"no time-limit rule set '{name}'; choose one of {', '.join(sets)}")
        rules = []
        for raw in sets[name]["rules"]:
            when = raw.get("when") or {}
            limits = {stage: Duration.parse(raw[stage]) for stage in STAGES if stage in raw}
            rules.append(Rule(when.get("urgency"), when.get("request_type"), when.get("complex"), limits))
        return cls(name, rules, calendar)

    def deadlines(self, submitted_at: datetime, urgency: str, request_type: str,
                  complex_case: bool = False) -> Deadlines:
        for index, rule in enumerate(self._rules):
            if rule.matches(urgency, request_type, complex_case):
                due = {stage: d.after(submitted_at, self._calendar) for stage, d in rule.limits.items()}
                return Deadlines(due, f"{self.name}#{index + 1}")
        raise LookupError(f"no {self.name} time-limit rule matches {urgency}/{request_type}")
