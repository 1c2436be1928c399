"""Retention of personal data beyond audio: what every kind's sweep reports, the cutoff of a period in days,
the run's audit entry, and the core's section of the settings (audit rows, log files).

Every period is in days; 0 keeps for ever (the standards' default). Each domain sweeps its own tables
(`hotline.calls.retention`, `tickets.retention`, `callback.retention` …) and the app's coordinator
(`hotline.app.retention`) runs them in order, once a day and from `hotline retention run`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import InstrumentedAttribute

from hotline.core.db.engine import SessionFactory
from hotline.core.pseudonym import PREFIX, Pseudonyms
from hotline.core.settings import env_field
from hotline.core.web.models import AuditEntry

AUDIT_MIN_DAYS = 180  # 网络安全法 §21: network logs are kept at least six months
Progress = Callable[[str, int], None]  # (kind, rows done so far)


@dataclass(frozen=True)
class KindReport:
    """What one sweep did (or, on a dry run, would do) to one kind of personal data."""

    kind: str
    days: int  # the period; 0: kept for ever, nothing swept
    changed: int  # rows (or files) deleted, blanked or pseudonymised
    held: int  # past the period but kept by a ticket's legal hold
    kept: int = 0  # past the period but kept for another reason (audio still stored, a ticket links the call)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "days": self.days, "changed": self.changed, "held": self.held,
                "kept": self.kept, "dry_run": self.dry_run}

    def audit_entry(self, at: datetime) -> AuditEntry:
        """The one audit row a run writes for this kind."""
        return AuditEntry(at=at, actor="retention", role="system", action=f"retention.{self.kind}",
                          resource=f"retention/{self.kind}", allowed=True, remote=None, detail=self.to_json())


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """The oldest moment still inside a period of `days`."""
    return (now or datetime.now(UTC)) - timedelta(days=days)


def no_progress(kind: str, done: int) -> None:
    """The default `Progress`: silent."""


def _days(name: str, default: str) -> int:
    return env_field(f"RETENTION_{name}_DAYS", default, int)


@dataclass(frozen=True)
class RetentionSettings:
    """The core's periods (`HOTLINE_RETENTION_AUDIT_DAYS`, `HOTLINE_RETENTION_LOGS_DAYS`).

    Audit rows are evidence: kept for ever by default, and never less than six months (网络安全法 §21).
    Rotated log files (Asterisk's, the service's) go after `logs_days`, 180 by default: the same six
    months for operation logs; the hotline's Asterisk no longer logs verbose call lines, so few numbers
    are in them (HOTLINE_ASTERISK_FULL_LOG=1 turns those on for debugging)."""

    audit_days: int = _days("AUDIT", "0")
    logs_days: int = _days("LOGS", "180")

    def __post_init__(self) -> None:
        if 0 < self.audit_days < AUDIT_MIN_DAYS:
            raise ValueError(f"HOTLINE_RETENTION_AUDIT_DAYS={self.audit_days}: audit rows are kept at least "
                             f"{AUDIT_MIN_DAYS} days (网络安全法 §21), or 0 for ever")
        if self.audit_days < 0 or self.logs_days < 0:
            raise ValueError("retention periods are days ≥ 0 (0: keep for ever)")


async def count(sessions: SessionFactory, *where: ColumnElement[bool]) -> int:
    """How many rows match `where` (the first condition names the table)."""
    async with sessions() as s:
        return await s.scalar(select(func.count()).where(*where)) or 0


async def pseudonymise(sessions: SessionFactory, key: InstrumentedAttribute[Any],
                       number: InstrumentedAttribute[Any], where: Sequence[ColumnElement[bool]],
                       pseudonyms: Pseudonyms, *, kind: str, blank: Mapping[str, Any] | None = None,
                       dry_run: bool = False, progress: Progress = no_progress, batch: int = 500) -> int:
    """Replace `number` by its pseudonym (and set the `blank` columns) in every row `where` selects that
    still has a real number; the rows stay. Returns how many rows were (or would be) changed."""
    due = (*where, number.is_not(None), ~number.startswith(PREFIX))
    if dry_run:
        return await count(sessions, *due)
    done = 0
    while True:
        async with sessions.begin() as s:
            rows = (await s.execute(select(key, number).where(*due).order_by(key).limit(batch))).all()
            for row_key, value in rows:
                await s.execute(update(key.class_).where(key == row_key)
                                .values({number.key: pseudonyms.of(value), **(blank or {})}))
        if not rows:
            return done
        done += len(rows)
        progress(kind, done)
