"""Retention of the audit log: rows older than their period (never less than six months) are deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from hotline.core.db.engine import SessionFactory
from hotline.core.retention import KindReport, count, cutoff
from hotline.core.web.models import AuditEntry


async def expire_audit(sessions: SessionFactory, days: int, *, now: datetime | None = None,
                       dry_run: bool = False) -> KindReport:
    """Delete audit rows written more than `days` ago (0: keep for ever)."""
    if days <= 0:
        return KindReport("audit", 0, 0, 0, dry_run=dry_run)
    old = AuditEntry.at < cutoff(days, now)
    if dry_run:
        return KindReport("audit", days, await count(sessions, old), 0, dry_run=True)
    async with sessions.begin() as s:
        result = await s.execute(delete(AuditEntry).where(old))
    return KindReport("audit", days, int(result.rowcount or 0), 0)  # type: ignore[attr-defined]
