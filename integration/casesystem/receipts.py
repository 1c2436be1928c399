"""Webhook receipts: each case-system event id is accepted once, in the transaction that applies it."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import now
from integration.casesystem.models import WebhookReceipt


class EventSeen(ValueError):
    """The event id was received before (a replay)."""


async def receive_once(s: AsyncSession, event_id: str) -> None:
    """Note the event in the caller's transaction; EventSeen (and nothing written) if it came before."""
    s.add(WebhookReceipt(event_id=event_id, received_at=now()))
    try:
        await s.flush()
    except IntegrityError as exc:
        raise EventSeen(f"event {event_id} was already received") from exc
