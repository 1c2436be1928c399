"""Retention of tickets' personal fields: closed tickets past their period keep their row, number,
category, deadlines and timeline, but lose the petitioner's name and address, the title and free-text
content; the phone becomes a pseudonym; what the outbox sent about them is blanked too. A legal hold keeps
all of it, and the calls linked to a held ticket."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, select

from hotline.core.db.engine import SessionFactory
from hotline.core.pseudonym import Pseudonyms
from hotline.core.retention import KindReport, Progress, count, cutoff, no_progress
from integration.casesystem.retention import blank_payloads
from tickets.models import Ticket, TicketCall


def held_tickets() -> Select[int]:
    """The ids of tickets on legal hold."""
    return select(Ticket.id).where(Ticket.legal_hold.is_(True))


def held_calls() -> Select[str]:
    """The calls linked to a ticket on legal hold."""
    return select(TicketCall.call_id).join(Ticket).where(Ticket.legal_hold.is_(True))


def linked_calls() -> Select[str]:
    """The calls any ticket links (their records stay while the ticket does)."""
    return select(TicketCall.call_id)


async def redact_closed(sessions: SessionFactory, days: int, pseudonyms: Pseudonyms, *,
                        now: datetime | None = None, dry_run: bool = False, progress: Progress = no_progress,
                        batch: int = 200) -> KindReport:
    """Blank the personal fields of tickets closed (last changed) more than `days` ago, not on hold."""
    if days <= 0:
        return KindReport("tickets", 0, 0, 0, dry_run=dry_run)
    old = (Ticket.status == "closed", Ticket.updated_at < cutoff(days, now), Ticket.redacted_at.is_(None))
    n_held = await count(sessions, *old, Ticket.legal_hold.is_(True))
    due = (*old, Ticket.legal_hold.is_(False))
    if dry_run:
        return KindReport("tickets", days, await count(sessions, *due), n_held, dry_run=True)
    done = 0
    while True:
        async with sessions.begin() as s:
            rows = (await s.scalars(select(Ticket).where(*due).order_by(Ticket.id).limit(batch)
                                    .with_for_update())).all()
            at = datetime.now(UTC)
            for t in rows:
                t.petitioner_name = t.petitioner_address = t.title = ""
                t.content = {}
                t.petitioner_phone = pseudonyms.of(t.petitioner_phone) if t.petitioner_phone else None
                t.redacted_at = at
            await blank_payloads(s, [t.id for t in rows])
        if not rows:
            return KindReport("tickets", days, done, n_held)
        done += len(rows)
        progress("tickets", done)
