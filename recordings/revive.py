"""`hotline recordings revive`: put dead recordings (and given-up backup copies) back in line, once the
operator has fixed what stopped them (a missing WAV restored, a store remounted)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update

from hotline.calls.models import Recording
from hotline.core.db.engine import SessionFactory


async def revive(sessions: SessionFactory, ids: Sequence[int] = ()) -> tuple[int, int]:
    """Dead recordings and dead backup copies (these ids, or all) are due again with fresh attempts;
    returns (recordings, copies) revived. Their last error stays until the next attempt."""
    async with sessions.begin() as s:
        rows = update(Recording).where(Recording.status == "dead")
        copies = update(Recording).where(Recording.backup_state == "dead")
        if ids:
            rows, copies = rows.where(Recording.id.in_(ids)), copies.where(Recording.id.in_(ids))
        revived = await s.execute(rows.values(status="recording", attempts=0, next_attempt_at=None))
        recopied = await s.execute(copies.values(backup_state=None, backup_attempts=0, backup_next_at=None))
    return int(getattr(revived, "rowcount", 0)), int(getattr(recopied, "rowcount", 0))
