"""Retention of revisit tasks: finished tasks past the numbers' period keep their row (reason, outcome,
answers for the statistics) but the number becomes a pseudonym and whom and what about are blanked;
tasks of a ticket on legal hold keep everything."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_

from callback.models import RevisitTask
from hotline.core.db.engine import SessionFactory
from hotline.core.pseudonym import PREFIX, Pseudonyms
from hotline.core.retention import KindReport, Progress, count, cutoff, no_progress, pseudonymise
from tickets.retention import held_tickets


async def pseudonymise_revisits(sessions: SessionFactory, days: int, pseudonyms: Pseudonyms, *,
                                now: datetime | None = None, dry_run: bool = False,
                                progress: Progress = no_progress) -> KindReport:
    """Pseudonymise the numbers of revisit tasks finished more than `days` ago, except held ones."""
    if days <= 0:
        return KindReport("revisit_numbers", 0, 0, 0, dry_run=dry_run)
    old = (RevisitTask.finished_at.is_not(None), RevisitTask.finished_at < cutoff(days, now))
    held = RevisitTask.ticket_id.in_(held_tickets())
    n_held = await count(sessions, *old, held, ~RevisitTask.number.startswith(PREFIX))
    changed = await pseudonymise(sessions, RevisitTask.id, RevisitTask.number,
                                 (*old, or_(RevisitTask.ticket_id.is_(None), ~held)), pseudonyms,
                                 kind="revisit_numbers", blank={"salutation": "", "topic": ""}, dry_run=dry_run,
                                 progress=progress)
    return KindReport("revisit_numbers", days, changed, n_held, dry_run=dry_run)
