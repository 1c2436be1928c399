"""The outbox to the case system: `enqueue` writes a message inside the caller's transaction; the worker
delivers queued messages in order, with retries.

Rules: messages go one at a time in the order they were written, so tickets reach the case system in
submission order; a retryable failure ends the pass (nothing overtakes the message that failed) and
backs off exponentially up to `max_backoff_s`; a ticket's later message waits while an earlier one of
the same ticket is dead. After `max_attempts`, or at once when the case system refuses the message
itself (4xx), the message goes to the dead-letter list, where an operator can read and replay it.
The idempotency key makes any repeat harmless on the receiving side, so a crash between sending and
marking is safe. Before sending, the worker claims the message in one atomic UPDATE (its next attempt moved
`claim_s` ahead, only if it was due): with several service instances, two senders never hold the same
message, and one that died mid-send leaves it to the next after `claim_s`.
The adapter knows nothing of tickets: whoever enqueues learns of each delivery
through `on_delivered`, called in the transaction that marks the message delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import now as _now
from hotline.core.db.engine import SessionFactory
from hotline.core.workers import LoopWorker
from integration.casesystem.client import CaseSystemClient, Delivered, DeliveryFailed
from integration.casesystem.models import OutboxMessage

log = logging.getLogger(__name__)

State = Literal["pending", "dead", "delivered"]


@dataclass(frozen=True)
class OutboxSettings:
    poll_s: float = 1.0
    base_backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_attempts: int = 30
    claim_s: float = 15.0  # a claimed message is nobody else's this long (more than the client's timeout)


@dataclass(frozen=True)
class Delivery:
    """A message the case system took, as its sender hears of it."""

    ticket_id: int
    kind: str
    case_number: str | None
    attempts: int  # this delivery included
    http_status: int


OnDelivered = Callable[[AsyncSession, Delivery], Awaitable[None]]


def enqueue(s: AsyncSession, ticket_id: int, kind: str, payload: dict[str, Any], idempotency_key: str,
            at: datetime | None = None) -> None:
    """Queue a message for the case system in the caller's transaction: it exists if and only if the change
    it reports does (transactional outbox)."""
    at = at or _now()
    s.add(OutboxMessage(ticket_id=ticket_id, kind=kind, payload=payload, idempotency_key=idempotency_key,
                        created_at=at, next_attempt_at=at))


class OutboxWorker(LoopWorker):
    """One background loop: a pass every `poll_s`, or at once when woken (`poke()` after an enqueue)."""

    name = "case-outbox"

    def __init__(self, sessions: SessionFactory, client: CaseSystemClient,
                 settings: OutboxSettings = OutboxSettings(), on_delivered: OnDelivered | None = None) -> None:
        super().__init__()
        self._sessions, self._client, self._settings = sessions, client, settings
        self._on_delivered = on_delivered
        self.max_backoff_s = settings.max_backoff_s
        self.delivered_total = 0
        self.delivery_failures = 0
        self.last_backlog: dict[str, int] = {"pending": 0, "dead": 0}  # as of the last pass (for metrics)

    def poke(self) -> None:
        self.wake()

    async def close(self) -> None:
        await super().close()
        await self._client.close()

    async def step(self) -> float:
        await self.deliver_due()
        self.last_backlog = await self.backlog()
        return self._settings.poll_s

    async def _heads(self) -> list[OutboxMessage]:
        """The oldest undelivered message of each ticket, unless the ticket has a dead one.

        Dead messages are left out by the query itself (on ix_case_outbox_pending), not after it: dead
        letters piling up at the head of the table can never hide the messages written after them."""
        dead_tickets = select(OutboxMessage.ticket_id).where(OutboxMessage.delivered_at.is_(None),
                                                             OutboxMessage.dead.is_(True))
        async with self._sessions() as s:
            rows = (await s.scalars(select(OutboxMessage).where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.dead.is_(False),
                OutboxMessage.ticket_id.not_in(dead_tickets)).order_by(OutboxMessage.id).limit(500))).all()
        heads: dict[int, OutboxMessage] = {}
        for row in rows:
            heads.setdefault(row.ticket_id, row)
        due = list(heads.values())
        if due and due[0].next_attempt_at > _now():
            return []  # the oldest is backing off: nothing may overtake it
        return sorted(due, key=lambda m: m.id)

    async def deliver_due(self) -> int:
        """One pass in write order; returns how many messages were delivered."""
        delivered = 0
        for msg in await self._heads():
            if not await self._claim(msg.id):
                break  # another sender has it (or it is not due any more): keep the order, look again later
            try:
                done = await self._client.deliver(msg.idempotency_key, msg.payload, msg.kind)
            except DeliveryFailed as exc:
                await self._failed(msg.id, str(exc), retry=exc.retry)
                if exc.retry:
                    break  # the case system is down or slow: keep the order, try again later
                continue
            except Exception:
                await self._unclaim(msg.id)
                raise
            try:
                await self._delivered(msg.id, done)
            except Exception:
                await self._unclaim(msg.id)  # this process goes on: the next pass tries again at once
                raise
            self.delivered_total += 1
            delivered += 1
            log.info("case-system message %s delivered (case number %s)", msg.idempotency_key, done.case_number)
        return delivered

    async def _claim(self, message_id: int) -> bool:
        """Take a due message for one send, atomically (an UPDATE … WHERE due: on PostgreSQL a concurrent
        claimer waits for the row and then finds it no longer due)."""
        at = _now()
        async with self._sessions.begin() as s:
            claimed = await s.execute(update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.delivered_at.is_(None), OutboxMessage.dead.is_(False),
                OutboxMessage.next_attempt_at <= at).values(
                next_attempt_at=at + timedelta(seconds=self._settings.claim_s)).returning(OutboxMessage.id))
            return claimed.first() is not None

    async def _unclaim(self, message_id: int) -> None:
        async with self._sessions.begin() as s:
            await s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                        OutboxMessage.delivered_at.is_(None)).values(
                next_attempt_at=_now()))

    async def _delivered(self, message_id: int, done: Delivered) -> None:
        """Mark the message delivered and tell the sender, in one transaction."""
        async with self._sessions.begin() as s:
            msg = await s.get(OutboxMessage, message_id, with_for_update=True)
            if msg is None or msg.delivered_at is not None:
                return
            msg.delivered_at, msg.last_error = _now(), None
            if self._on_delivered is not None:
                await self._on_delivered(s, Delivery(msg.ticket_id, msg.kind, done.case_number, msg.attempts + 1,
                                                     done.status))

    async def _failed(self, message_id: int, error: str, *, retry: bool) -> None:
        self.delivery_failures += 1
        async with self._sessions.begin() as s:
            msg = await s.get(OutboxMessage, message_id, with_for_update=True)
            if msg is None or msg.delivered_at is not None:
                return
            msg.attempts += 1
            msg.last_error = error[:1000]
            if not retry or msg.attempts >= self._settings.max_attempts:
                msg.dead = True
                log.error("case-system message %s is dead after %d attempt(s): %s", msg.idempotency_key,
                          msg.attempts, error)
                return
            delay = min(self._settings.max_backoff_s, self._settings.base_backoff_s * 2 ** (msg.attempts - 1))
            msg.next_attempt_at = _now() + timedelta(seconds=delay)
            log.warning("case-system message %s not delivered (attempt %d, next in %.1f s): %s",
                        msg.idempotency_key, msg.attempts, delay, error)

    async def messages(self, state: State, limit: int = 100) -> list[dict[str, Any]]:
        """pending | dead | delivered messages, oldest first, for operators (with their `ticket_id`)."""
        condition = {
            "pending": OutboxMessage.delivered_at.is_(None) & OutboxMessage.dead.is_(False),
            "dead": OutboxMessage.dead.is_(True) & OutboxMessage.delivered_at.is_(None),
            "delivered": OutboxMessage.delivered_at.is_not(None),
        }[state]
        async with self._sessions() as s:
            rows = (await s.scalars(select(OutboxMessage).where(condition).order_by(OutboxMessage.id)
                                    .limit(limit))).all()
        return [{"id": m.id, "ticket_id": m.ticket_id, "kind": m.kind, "idempotency_key": m.idempotency_key,
                 "attempts": m.attempts, "last_error": m.last_error, "created_at": m.created_at.isoformat(),
                 "next_attempt_at": m.next_attempt_at.isoformat(),
                 "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None} for m in rows]

    async def backlog(self) -> dict[str, int]:
        async with self._sessions() as s:
            pending = await s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.dead.is_(False)))
            dead = await s.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.dead.is_(True)))
        return {"pending": int(pending or 0), "dead": int(dead or 0)}

    async def replay(self, message_id: int) -> bool:
        """Put a dead message back in line (False if it is not dead)."""
        async with self._sessions.begin() as s:
            msg = await s.get(OutboxMessage, message_id, with_for_update=True)
            if msg is None or not msg.dead or msg.delivered_at is not None:
                return False
            msg.dead, msg.attempts, msg.next_attempt_at = False, 0, _now()
        self.poke()
        return True
