"""Webhook receipts: each case-system event id is accepted once, in the transaction that applies it.

Only a duplicate of the receipt's key means "received before"; any other integrity error (a missing value,
a reference to nothing) is `EventRefused`, a 422 with its reason, logged and never acknowledged as a replay.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import now
from hotline.core.db.integrity import is_duplicate, violation
from hotline.core.errors import Invalid
from integration.casesystem.models import WebhookReceipt

log = logging.getLogger(__name__)


class EventSeen(ValueError):
    """The event id was received before (a replay)."""


class EventRefused(Invalid):
    """The event cannot be recorded as it is (422): the database refused it for another reason than a replay."""

    error_id = "event_refused"

    @classmethod
    def of(cls, event_id: str | None, exc: IntegrityError) -> EventRefused:
        reason = violation(exc).describe()
        log.warning("case-system event %s refused by the database: %s", event_id, reason)
        return cls(f"the event cannot be recorded: {reason}")


async def receive_once(s: AsyncSession, event_id: str) -> None:
    """Note the event in the caller's transaction; EventSeen (and nothing written) if it came before,
    EventRefused if the database refuses it for another reason."""
    s.add(WebhookReceipt(event_id=event_id, received_at=now()))
    try:
        await s.flush()
    except IntegrityError as exc:
        if is_duplicate(exc, WebhookReceipt.__tablename__, "event_id"):
            raise EventSeen(f"event {event_id} was already received") from exc
        raise EventRefused.of(event_id, exc) from exc
