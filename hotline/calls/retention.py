"""Retention of call records: records past their period are deleted, callers' numbers past theirs become
pseudonyms. The calls domain cannot see tickets: the coordinator passes in the calls a legal hold keeps
(`held`) and those a ticket links (`linked`), as subqueries of call ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, or_, select

from hotline.calls.models import CallRecord, Recording
from hotline.core.db.engine import SessionFactory
from hotline.core.pseudonym import PREFIX, Pseudonyms
from hotline.core.retention import KindReport, Progress, count, cutoff, no_progress, pseudonymise

CallIds = Select[str]


async def expire_calls(sessions: SessionFactory, days: int, *, held: CallIds, linked: CallIds,
                       now: datetime | None = None, dry_run: bool = False, progress: Progress = no_progress,
                       batch: int = 500) -> KindReport:
    """Delete call records started more than `days` ago (their ratings and recording rows go with them),
    except those held, linked to a ticket, or whose audio is still stored (or being stored)."""
    if days <= 0:
        return KindReport("calls", 0, 0, 0, dry_run=dry_run)
    old = CallRecord.started_at < cutoff(days, now)
    audio = select(Recording.call_id).where(Recording.status != "expired")
    free = CallRecord.call_id.not_in(held)
    n_held = await count(sessions, old, CallRecord.call_id.in_(held))
    kept = await count(sessions, old, free, or_(CallRecord.call_id.in_(linked), CallRecord.call_id.in_(audio)))
    due = (old, free, CallRecord.call_id.not_in(linked), CallRecord.call_id.not_in(audio))
    if dry_run:
        return KindReport("calls", days, await count(sessions, *due), n_held, kept, dry_run)
    done = 0
    while True:
        async with sessions.begin() as s:
            ids = list((await s.scalars(select(CallRecord.call_id).where(*due).order_by(CallRecord.call_id)
                                        .limit(batch))).all())
            if ids:
                await s.execute(delete(CallRecord).where(CallRecord.call_id.in_(ids)))
        if not ids:
            return KindReport("calls", days, done, n_held, kept)
        done += len(ids)
        progress("calls", done)


async def pseudonymise_callers(sessions: SessionFactory, days: int, pseudonyms: Pseudonyms, *, held: CallIds,
                               now: datetime | None = None, dry_run: bool = False,
                               progress: Progress = no_progress) -> KindReport:
    """Replace the caller's number of calls started more than `days` ago by its pseudonym, except in calls
    a legal hold keeps; the record stays for statistics (the same number, the same pseudonym)."""
    if days <= 0:
        return KindReport("caller_numbers", 0, 0, 0, dry_run=dry_run)
    old = CallRecord.started_at < cutoff(days, now)
    n_held = await count(sessions, old, CallRecord.call_id.in_(held), ~CallRecord.caller.startswith(PREFIX))
    changed = await pseudonymise(sessions, CallRecord.call_id, CallRecord.caller,
                                 (old, CallRecord.call_id.not_in(held)), pseudonyms, kind="caller_numbers",
                                 dry_run=dry_run, progress=progress)
    return KindReport("caller_numbers", days, changed, n_held, dry_run=dry_run)
