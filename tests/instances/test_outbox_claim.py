"""Two service instances' outbox senders on one PostgreSQL database: every message is claimed by one sender
(an atomic UPDATE … WHERE due), so none goes out twice; a sender killed mid-send leaves its message to the
other after the claim expires, and the case system's idempotency key makes that repeat one case."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.core.db.engine import SessionFactory
from integration.casesystem.client import CaseSystemClient, Delivered
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.outbox import OutboxSettings, OutboxWorker, enqueue
from tests.postgres_server import migrated_sessions
from tickets.models import Ticket

pytestmark = pytest.mark.postgres
AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
MESSAGES = 40


class CaseSystem:
    """The receiving side as the reference case system behaves: one case per idempotency key."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.cases: dict[str, str] = {}


class Sender(CaseSystemClient):
    """One instance's client: a slow network, and (`dies_on`) an instance killed after its request left."""

    def __init__(self, receiver: CaseSystem, dies_on: str = "") -> None:
        super().__init__("http://127.0.0.1:9", "s", CaseMapping.load())
        self.receiver, self.dies_on = receiver, dies_on

    async def deliver(self, idempotency_key: str, payload: dict[str, Any], kind: str = "ticket.submitted") -> Delivered:
        await asyncio.sleep(0.01)
        self.receiver.requests[idempotency_key] += 1
        case = self.receiver.cases.setdefault(idempotency_key, f"BJ-{len(self.receiver.cases) + 1}")
        if idempotency_key == self.dies_on:
            await asyncio.Event().wait()  # the instance dies before it hears the answer (cancelled below)
        return Delivered(case, 201)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[SessionFactory]:
    async with migrated_sessions("postgres", tmp_path) as made:
        async with made.begin() as s:
            for n in range(1, MESSAGES + 1):
                s.add(Ticket(id=n, number=f"T{n}", status="submitted", channel="网站", urgency="一般",
                             created_by="8001", created_at=AT, updated_at=AT))
        async with made.begin() as s:
            for n in range(1, MESSAGES + 1):
                enqueue(s, n, "ticket.submitted", {"n": str(n)}, f"m{n}")
        yield made


async def test_two_senders_never_send_the_same_message_and_a_death_mid_send_loses_nothing(
        sessions: SessionFactory) -> None:
    receiver = CaseSystem()
    settings = OutboxSettings(poll_s=0.05, claim_s=1.0)
    dying = OutboxWorker(sessions, Sender(receiver, dies_on="m5"), settings)
    other = OutboxWorker(sessions, Sender(receiver), settings)
    dying.start()
    other.start()
    for _ in range(100):
        if receiver.requests["m5"]:
            break
        await asyncio.sleep(0.05)
    await dying.close()  # killed mid-send: m5 reached the case system, its answer never came back
    for _ in range(200):
        if (await other.backlog())["pending"] == 0:
            break
        await asyncio.sleep(0.05)
    await other.close()
    assert await other.backlog() == {"pending": 0, "dead": 0}
    assert len(receiver.cases) == MESSAGES, "every ticket reached the case system"
    doubled = {k: n for k, n in receiver.requests.items() if n > 1}
    assert doubled == {"m5": 2}, "only the message whose sender died mid-send went again (same key: one case)"
