"""Retention in the case-system adapter: once a ticket's personal fields are blanked, the messages already
delivered about it keep their row (kind, key, times) but no longer the ticket's text."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from integration.casesystem.models import OutboxMessage

REDACTED = {"redacted": True}


async def blank_payloads(s: AsyncSession, ticket_ids: Collection[int]) -> int:
    """Blank the payloads of the delivered messages about `ticket_ids` (in the caller's transaction)."""
    if not ticket_ids:
        return 0
    result = await s.execute(update(OutboxMessage).where(OutboxMessage.ticket_id.in_(ticket_ids),
                                                          OutboxMessage.delivered_at.is_not(None))
                             .values(payload=REDACTED))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
