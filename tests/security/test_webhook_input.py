"""Garbage at the signed case-system webhook (issue 15, bad input): odd timestamps ('１２３', '²', thousands of
digits), signatures that are not hex or not ASCII (compare_digest raised on those), bodies that are not JSON,
nested past the parser, not UTF-8, or with fields too long for their columns — each a 400/401 with its
reason, audited as a refused case-system event, never a 5xx; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from hotline.core.web.models import AuditEntry
from integration.casesystem.signing import SIGNATURE, TIMESTAMP, sign
from tests.security.ticket_app import WEBHOOK_SECRET, TicketApp, database_url, ticket_app
from tickets.http import WEBHOOK_PATH

__all__ = ["database_url"]


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[TicketApp]:
    async with ticket_app(database_url) as running:
        yield running


async def refusals(app: TicketApp) -> int:
    async with app.sessions() as s:
        return await s.scalar(select(func.count()).where(AuditEntry.action == "case.webhook",
                                                         AuditEntry.allowed.is_(False))) or 0


def event(**fields: object) -> bytes:
    return json.dumps({"eventId": "ev-1", "externalId": "T1", "status": "signed", **fields}).encode()


BAD_HEADERS: list[dict[str, str]] = [
    {},
    {TIMESTAMP: "１２３", SIGNATURE: "0" * 64},
    {TIMESTAMP: "²", SIGNATURE: "0" * 64},
    {TIMESTAMP: "9" * 5000, SIGNATURE: "0" * 64},
    {TIMESTAMP: "-1", SIGNATURE: "0" * 64},
    {TIMESTAMP: str(int(time.time())), SIGNATURE: "zz" * 32},
    {TIMESTAMP: str(int(time.time())), SIGNATURE: "é" * 64},
    {TIMESTAMP: str(int(time.time())), SIGNATURE: "0" * 640},
]


async def test_bad_signature_headers_are_401_and_audited(app: TicketApp) -> None:
    before = await refusals(app)
    for headers in BAD_HEADERS:
        async with app.client.post(WEBHOOK_PATH, data=event(), headers=headers) as r:
            assert r.status == 401, (headers, r.status, await r.text())
            assert (await r.json())["error"]["id"] == "bad_signature"
    assert await refusals(app) == before + len(BAD_HEADERS)


async def test_signed_bodies_that_are_not_events_are_400_and_audited(app: TicketApp) -> None:
    bodies = [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe not utf-8", b"not json", b"[1, 2]",
              event(caseNo="C" * 65), event(eventId="e" * 65), event(externalId="T" * 33),
              event(status="lost"), event(changedAt="yesterday"), event(changedAt="2026-11-27T10:00:00")]
    before = await refusals(app)
    for body in bodies:
        async with app.client.post(WEBHOOK_PATH, data=body, headers=sign(WEBHOOK_SECRET, body)) as r:
            assert r.status == 400, (body[:40], r.status, await r.text())
            assert (await r.json())["error"]["id"] in ("bad_json", "bad_event")
    assert await refusals(app) == before + len(bodies)


async def test_header_bytes_that_are_not_text_are_a_4xx(app: TicketApp) -> None:
    """Raw latin-1 bytes in the signature headers, as a careless client sends them."""
    server = app.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    body = event()
    writer.write(b"POST " + WEBHOOK_PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + TIMESTAMP.encode() + b": \xb9\xb2\xb3\r\n" + SIGNATURE.encode() + b": \xff" * 1 + b"\r\n"
                 + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    status = int(status_line.split()[1])
    assert 400 <= status < 500, status_line
