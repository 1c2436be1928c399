"""The reports' query strings (400 naming the field when one is wrong)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from console.reports.periods import MAX_DAYS, Span
from hotline.core.web.bodies import Query


class RangeQuery(Query):
    first: Annotated[date, Field(alias="from", description="first day, YYYY-MM-DD (China time)")]
    last: Annotated[date, Field(alias="to", description="last day, YYYY-MM-DD, inclusive")]

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.last < self.first:
            raise ValueError("to: before from")
        if (self.last - self.first).days + 1 > MAX_DAYS:
            raise ValueError(f"to: at most {MAX_DAYS} days from `from`")
        return self

    @property
    def span(self) -> Span:
        return Span(self.first, self.last)


class KpiQuery(RangeQuery):
    by: Literal["day", "week", "month", "total"] = "day"
    line: Annotated[str | None, Field(max_length=32, description="a dialled number (merged line)")] = None
    skill: Annotated[str | None, Field(max_length=64)] = None
    team: Annotated[str | None, Field(max_length=32)] = None
    agent: Annotated[str | None, Field(max_length=32)] = None
    short_abandon_s: Annotated[float, Field(ge=0, le=120, description="short abandons: left within this")] = 5.0


class VolumeQuery(RangeQuery):
    dimension: Literal["line", "skill", "request_type", "category", "region", "hour"] = "line"
    team: Annotated[str | None, Field(max_length=32)] = None


class TeamQuery(RangeQuery):
    team: Annotated[str | None, Field(max_length=32)] = None


class MonthQuery(Query):
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class ExportQuery(Query):
    report: Literal["kpis", "volumes", "agents", "teams", "monthly"]
    format: Literal["csv", "xlsx"] = "xlsx"
