"""The few expressions that differ between SQLite and PostgreSQL: a China-time day number and hour of an
instant, whole seconds rounded up, epoch seconds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, cast, func, literal
from sqlalchemy.sql import ColumnElement

CHINA_OFFSET_S = 8 * 3600
DAY_S = 86400


def epoch(column: Any, dialect: str) -> ColumnElement[Any]:
    """Seconds since 1970 (UTC) of a stored instant."""
    if dialect == "postgresql":
        return func.extract("epoch", column)
    return cast(func.strftime("%s", column), Integer)  # stored naive UTC text; whole seconds, exact


def china_day(column: Any, dialect: str) -> ColumnElement[Any]:
    """Days since 1970-01-01 of the instant's China date."""
    shifted = epoch(column, dialect) + CHINA_OFFSET_S
    if dialect == "postgresql":
        return cast(func.floor(shifted / DAY_S), Integer)
    return cast(shifted / DAY_S, Integer)  # integer division of positive integers


def china_hour(column: Any, dialect: str) -> ColumnElement[Any]:
    """The hour (0–23) of the instant in China."""
    shifted = epoch(column, dialect) + CHINA_OFFSET_S
    if dialect == "postgresql":
        return cast(func.floor(func.mod(cast(func.floor(shifted), Integer), DAY_S) / 3600), Integer)
    return cast((shifted % DAY_S) / 3600, Integer)


def ceil_s(column: Any, dialect: str) -> ColumnElement[Any]:
    """Whole seconds, rounded up."""
    if dialect == "postgresql":
        return cast(func.ceil(column), Integer)
    whole = cast(column, Integer)
    return whole + cast(column > whole, Integer)


def seconds(column: Any, dialect: str) -> ColumnElement[Any]:
    """Fractional epoch seconds (for interval lengths)."""
    if dialect == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - literal(2440587.5)) * literal(86400.0, Float)


def clip(value: Any, low: float, high: float, dialect: str) -> ColumnElement[Any]:
    """`value` held within low..high."""
    if dialect == "postgresql":
        return func.least(func.greatest(value, low), high)
    return func.min(func.max(value, low), high)
