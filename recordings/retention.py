"""The retention policy: stored audio older than N years is deleted, unless a ticket of its call is on hold.

The standards want recordings kept long-term, so the default keeps them for ever (`keep_years` 0).
When a centre sets a period, the audio (and its waveform) of older calls is deleted from the store;
the recording row stays, marked expired, with its hash, as evidence that it existed. Its copy in the backup
store goes too (a backup must not outlive the period). A legal hold on any ticket linked to the call keeps
the audio. Every deletion is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hotline.calls.models import Recording
from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from recordings.store import Store
from tickets.models import Ticket, TicketCall


@dataclass(frozen=True)
class RetentionReport:
    expired: int  # recordings whose audio was deleted now
    held: int  # past the period but kept by a legal hold
    dry_run: bool

    def to_json(self) -> dict[str, int | bool]:
        return {"expired": self.expired, "held": self.held, "dry_run": self.dry_run}


def cutoff(keep_years: int, now: datetime) -> datetime:
    """The start of the oldest day still kept (years of 365.25 days: leap days never shorten the period)."""
    return now - timedelta(days=round(365.25 * keep_years))


async def sweep(sessions: SessionFactory, store: Store, keep_years: int, *, now: datetime | None = None,
                dry_run: bool = False, batch: int = 500, backup: Store | None = None) -> RetentionReport:
    """Delete the audio of recordings older than `keep_years` (0: keep for ever) that no legal hold keeps."""
    if keep_years <= 0:
        return RetentionReport(0, 0, dry_run)
    limit = cutoff(keep_years, now or datetime.now(UTC))
    held_calls = select(TicketCall.call_id).join(Ticket).where(Ticket.legal_hold.is_(True))
    old = (Recording.status == "stored", Recording.started_at < limit)
    expired = 0
    async with sessions() as s:
        held = await s.scalar(select(func.count()).where(*old, Recording.call_id.in_(held_calls))) or 0
        if dry_run:
            due = await s.scalar(select(func.count()).where(*old, Recording.call_id.not_in(held_calls))) or 0
            return RetentionReport(due, held, dry_run)
    while True:
        async with sessions() as s:
            rows = (await s.scalars(select(Recording).where(*old, Recording.call_id.not_in(held_calls))
                                    .order_by(Recording.id).limit(batch))).all()
        if not rows:
            return RetentionReport(expired, held, dry_run)
        for row in rows:
            await store.delete(row.path)
            if row.waveform_path:
                await store.delete(row.waveform_path)
            if row.backup_path and backup is not None:
                await backup.delete(row.backup_path)
            async with sessions.begin() as s:
                fresh = await s.get(Recording, row.id, with_for_update=True)
                if fresh is None:
                    continue
                fresh.status, fresh.expired_at = "expired", datetime.now(UTC)
                s.add(AuditEntry(at=fresh.expired_at, actor="retention", role="system", action="recordings.expire",
                                 resource=f"recordings/{row.id}", allowed=True, remote=None,
                                 detail={"call_id": row.call_id, "started_at": row.started_at.isoformat(),
                                         "keep_years": keep_years, "sha256": row.sha256,
                                         "backup_deleted": bool(row.backup_path and backup is not None)}))
            expired += 1
