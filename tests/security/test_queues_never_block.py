"""Threat: a queue blocked by rows that can never succeed (issue 15, "Queues never block") — a denial of
service by one poison message. The case-system outbox on a real SQLite database: dead letters piled at the
head of the table do not hide newer messages (the due query skips them by index), a message that always
fails ends dead after the attempt cap with its last error kept, logged and counted, and the messages behind
it go out. (The recordings pipeline: tests/recordings/test_backup.py; revisit calls: tests/callback.)"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from hotline.core.db.engine import SessionFactory
from integration.casesystem.client import CaseSystemClient, Delivered, DeliveryFailed
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.models import OutboxMessage
from integration.casesystem.outbox import OutboxSettings, OutboxWorker, enqueue
from tickets.models import Ticket

AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class PoisonedCaseSystem(CaseSystemClient):
    """Takes every message except those whose key starts with `poison`, which always fail (retryably)."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", "s", CaseMapping.load())
        self.sent: list[str] = []

    async def deliver(self, idempotency_key: str, payload: dict[str, Any], kind: str = "ticket.submitted") -> Delivered:
        self.sent.append(idempotency_key)
        if idempotency_key.startswith("poison"):
            raise DeliveryFailed("case system answers 503 for this message", retry=True)
        return Delivered(f"BJ-{idempotency_key}", 201)


@pytest.fixture
async def sessions(sqlite_sessions: SessionFactory) -> SessionFactory:
    async with sqlite_sessions.begin() as s:
        for n in (1, 2, 3):
            s.add(Ticket(id=n, number=f"T{n}", status="submitted", channel="网站", urgency="一般",
                         created_by="8001", created_at=AT, updated_at=AT))
    return sqlite_sessions


async def queue(sessions: SessionFactory, ticket_id: int, key: str, *, dead: bool = False) -> None:
    async with sessions.begin() as s:
        enqueue(s, ticket_id, "ticket.submitted", {}, key, at=AT)
        if dead:
            await s.flush()
            await s.execute(update(OutboxMessage).where(OutboxMessage.idempotency_key == key)
                            .values(dead=True, attempts=30, last_error="refused (422)"))


async def test_dead_letters_at_the_head_do_not_hide_new_messages(sessions: SessionFactory) -> None:
    for n in range(600):  # more than one pass reads
        await queue(sessions, 1, f"old-{n}", dead=True)
    await queue(sessions, 1, "after-the-dead")  # the same ticket: must wait for the operator's replay
    await queue(sessions, 2, "new")
    client = PoisonedCaseSystem()
    outbox = OutboxWorker(sessions, client)
    assert await outbox.deliver_due() == 1
    assert client.sent == ["new"], "a ticket's later message waits behind its dead one; other tickets go on"
    assert await outbox.backlog() == {"pending": 1, "dead": 600}


async def test_a_message_that_always_fails_ends_dead_and_the_line_moves_on(
        sessions: SessionFactory, caplog: pytest.LogCaptureFixture) -> None:
    await queue(sessions, 1, "poison")
    await queue(sessions, 2, "behind-1")
    await queue(sessions, 3, "behind-2")
    client = PoisonedCaseSystem()
    outbox = OutboxWorker(sessions, client, OutboxSettings(base_backoff_s=0, max_backoff_s=0, max_attempts=3,
                                                           poll_s=0))
    with caplog.at_level(logging.ERROR, logger="integration.casesystem.outbox"):
        for _ in range(4):
            await outbox.step()
    assert client.sent == ["poison", "poison", "poison", "behind-1", "behind-2"]
    [dead] = await outbox.messages("dead")
    assert dead["idempotency_key"] == "poison" and dead["attempts"] == 3
    assert "503" in dead["last_error"], "its last error is kept for the operator"
    assert "is dead after 3 attempt(s)" in caplog.text
    assert outbox.last_backlog == {"pending": 0, "dead": 1}, "the metric shows the dead letter"
    assert [m["idempotency_key"] for m in await outbox.messages("delivered")] == ["behind-1", "behind-2"]
