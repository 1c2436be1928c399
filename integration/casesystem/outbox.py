"""The outbox worker: delivers queued messages to the case system in order, with retries.

Rules: messages go one at a time in the order they were written, so tickets reach the case system in
submission order; a retryable failure ends the pass (nothing overtakes the message that failed) and
backs off exponentially up to `max_backoff_s`; a ticket's later message waits while an earlier one of
the same ticket is dead. After `max_attempts`, or at once when the case system refuses the message
itself (4xx), the message goes to the dead-letter list, where an operator can read and replay it.
The idempotency key makes any repeat harmless on the receiving side, so a crash between sending and
marking is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from hotline.core.db.engine import SessionFactory
from integration.casesystem.client import CaseSystemClient, DeliveryFailed
from integration.casesystem.models import OutboxMessage
from tickets.models import Ticket
from tickets.service import Tickets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxSettings:
    poll_s: float = 1.0
    base_backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    max_attempts: int = 30


def _now() -> datetime:
    return datetime.now(UTC)


class OutboxWorker:
    """One background task; `poke()` after a submission wakes it at once."""

    def __init__(self, sessions: SessionFactory, client: CaseSystemClient, tickets: Tickets,
                 settings: OutboxSettings = OutboxSettings()) -> None:
        self._sessions, self._client, self._tickets, self._settings = sessions, client, tickets, settings
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.delivered_total = 0
        self.failed_total = 0
        self.last_backlog: dict[str, int] = {"pending": 0, "dead": 0}  # as of the last pass (for metrics)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="case-outbox")

    def poke(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._client.close()

    async def _run(self) -> None:
        while True:
            try:
                await self.deliver_due()
                self.last_backlog = await self.backlog()
            except Exception:
                log.exception("case outbox pass failed; trying again")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_s)

    async def _heads(self) -> list[OutboxMessage]:
        """The oldest undelivered message of each ticket, if it is due and not dead."""
        async with self._sessions() as s:
            rows = (await s.scalars(select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None))
                                    .order_by(OutboxMessage.id).limit(500))).all()
        heads: dict[int, OutboxMessage] = {}
        for row in rows:
            heads.setdefault(row.ticket_id, row)
        now = _now()
        due = [m for m in heads.values() if not m.dead]
        if due and due[0].next_attempt_at > now:
            return []  # the oldest is backing off: nothing may overtake it
        return sorted(due, key=lambda m: m.id)

    async def deliver_due(self) -> int:
        """One pass in write order; returns how many messages were delivered."""
        delivered = 0
        for msg in await self._heads():
            try:
                done = await self._client.deliver(msg.idempotency_key, msg.payload, msg.kind)
            except DeliveryFailed as exc:
                await self._failed(msg.id, str(exc), retry=exc.retry)
                if exc.retry:
                    break  # the case system is down or slow: keep the order, try again later
                continue
            await self._tickets.delivered(msg.id, done.case_number, {"http_status": done.status})
            self.delivered_total += 1
            delivered += 1
            log.info("ticket message %s delivered (case number %s)", msg.idempotency_key, done.case_number)
        return delivered

    async def _failed(self, message_id: int, error: str, *, retry: bool) -> None:
        self.failed_total += 1
        async with self._sessions.begin() as s:
            msg = await s.get(OutboxMessage, message_id, with_for_update=True)
            if msg is None or msg.delivered_at is not None:
                return
            msg.attempts += 1
            msg.last_error = error[:1000]
            if not retry or msg.attempts >= self._settings.max_attempts:
                msg.dead = True
                log.error("ticket message %s is dead after %d attempt(s): %s", msg.idempotency_key, msg.attempts,
                          error)
                return
            delay = min(self._settings.max_backoff_s, self._settings.base_backoff_s * 2 ** (msg.attempts - 1))
            msg.next_attempt_at = _now() + timedelta(seconds=delay)
            log.warning("ticket message %s not delivered (attempt %d, next in %.1f s): %s",
                        msg.idempotency_key, msg.attempts, delay, error)

    async def messages(self, state: str, limit: int = 100) -> list[dict[str, Any]]:
        """pending | dead | delivered messages, oldest first, for operators."""
        condition = {
            "pending": OutboxMessage.delivered_at.is_(None) & OutboxMessage.dead.is_(False),
            "dead": OutboxMessage.dead.is_(True) & OutboxMessage.delivered_at.is_(None),
            "delivered": OutboxMessage.delivered_at.is_not(None),
        }[state]
        async with self._sessions() as s:
            rows = (await s.execute(select(OutboxMessage, Ticket.number).join(Ticket)
                                    .where(condition).order_by(OutboxMessage.id).limit(limit))).all()
        return [{"id": m.id, "ticket": number, "kind": m.kind, "idempotency_key": m.idempotency_key,
                 "attempts": m.attempts, "last_error": m.last_error, "created_at": m.created_at.isoformat(),
                 "next_attempt_at": m.next_attempt_at.isoformat(),
                 "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None} for m, number in rows]

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
