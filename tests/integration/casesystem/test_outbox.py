"""The case-system outbox on a real SQLite database, with a scripted case system: a message exists only with
the change it reports, goes out in write order, tells its sender in the transaction that marks it delivered,
backs off on failures, dies on a refusal and comes back on replay; the worker wakes when poked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.db.engine import SessionFactory
from integration.casesystem.client import CaseSystemClient, Delivered, DeliveryFailed
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.models import OutboxMessage
from integration.casesystem.outbox import Delivery, OutboxSettings, OutboxWorker, enqueue
from tickets.models import Ticket

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class ScriptedCaseSystem(CaseSystemClient):
    """Answers each message as told: a case number, or a failure (retryable or not)."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", "s", CaseMapping.load())
        self.failing: DeliveryFailed | None = None
        self.sent: list[str] = []

    async def deliver(self, idempotency_key: str, payload: dict[str, Any], kind: str = "ticket.submitted") -> Delivered:
        self.sent.append(idempotency_key)
        if self.failing is not None:
            raise self.failing
        return Delivered(f"BJ-{payload['n']}", 201)


@pytest.fixture
async def sessions(sqlite_sessions: SessionFactory) -> SessionFactory:
    """A database with two submitted tickets (1 and 2) for the messages to report on."""
    async with sqlite_sessions.begin() as s:
        for n in (1, 2):
            s.add(Ticket(id=n, number=f"T{n}", status="submitted", channel="网站", urgency="一般",
                         created_by="8001", created_at=AT, updated_at=AT))
    return sqlite_sessions


async def queue(sessions: SessionFactory, ticket_id: int, key: str) -> None:
    async with sessions.begin() as s:
        enqueue(s, ticket_id, "ticket.submitted", {"n": key}, key)


async def test_messages_go_in_order_and_the_sender_hears_in_the_same_transaction(sessions: SessionFactory) -> None:
    heard: list[Delivery] = []

    async def on_delivered(s: AsyncSession, delivery: Delivery) -> None:
        assert s.in_transaction()
        heard.append(delivery)
        if len(heard) == 1:
            raise RuntimeError("the sender failed")

    async def a_change_that_fails() -> None:
        async with sessions.begin() as s:
            enqueue(s, 1, "ticket.submitted", {"n": "0"}, "lost")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await a_change_that_fails()
    client = ScriptedCaseSystem()
    outbox = OutboxWorker(sessions, client, on_delivered=on_delivered)
    await queue(sessions, 1, "a")
    await queue(sessions, 2, "b")
    assert await outbox.backlog() == {"pending": 2, "dead": 0}, "no message without its change"
    with pytest.raises(RuntimeError):
        await outbox.deliver_due()
    assert await outbox.backlog() == {"pending": 2, "dead": 0}, "not marked while the sender did not take it"
    assert await outbox.deliver_due() == 2
    assert client.sent == ["a", "a", "b"]
    assert [(d.ticket_id, d.case_number, d.http_status) for d in heard[1:]] == [(1, "BJ-a", 201), (2, "BJ-b", 201)]
    delivered = await outbox.messages("delivered")
    assert [(m["ticket_id"], m["idempotency_key"]) for m in delivered] == [(1, "a"), (2, "b")]


async def test_a_failure_holds_the_line_and_a_refusal_is_a_dead_letter(sessions: SessionFactory) -> None:
    client = ScriptedCaseSystem()
    outbox = OutboxWorker(sessions, client, OutboxSettings(base_backoff_s=60))
    await queue(sessions, 1, "a")
    await queue(sessions, 2, "b")
    client.failing = DeliveryFailed("case system unreachable", retry=True)
    assert await outbox.deliver_due() == 0
    assert client.sent == ["a"], "nothing overtakes the message that failed"
    assert await outbox.deliver_due() == 0 and client.sent == ["a"], "backing off"
    [waiting, _] = await outbox.messages("pending")
    assert waiting["attempts"] == 1 and "unreachable" in waiting["last_error"]

    client.failing = DeliveryFailed("case system refused (422)", retry=False)
    async with sessions.begin() as s:
        await s.execute(update(OutboxMessage).values(next_attempt_at=AT))  # the backoff is over
    assert await outbox.deliver_due() == 0
    assert await outbox.backlog() == {"pending": 0, "dead": 2} and outbox.delivery_failures == 3
    client.failing = None
    [dead, _] = await outbox.messages("dead")
    assert await outbox.replay(dead["id"]) and not await outbox.replay(dead["id"])
    assert await outbox.deliver_due() == 1 and await outbox.backlog() == {"pending": 0, "dead": 1}


async def test_the_worker_delivers_when_poked(sessions: SessionFactory) -> None:
    outbox = OutboxWorker(sessions, ScriptedCaseSystem(), OutboxSettings(poll_s=30))
    outbox.start()
    try:
        await asyncio.sleep(0.2)  # the first pass found nothing; the next is 30 s away unless poked
        await queue(sessions, 1, "a")
        outbox.poke()
        for _ in range(50):
            if outbox.delivered_total:
                break
            await asyncio.sleep(0.05)
        assert outbox.delivered_total == 1 and outbox.health().ok
        assert outbox.last_backlog == {"pending": 0, "dead": 0}
    finally:
        await outbox.close()
    assert not outbox.running
