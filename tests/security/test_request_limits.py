"""Resource exhaustion through request size (issue 15): bodies over the app's limit are 413, oversized or too
many or garbled header lines 400, on a public route and a protected one, from the server the service runs —
never a 5xx, and nothing held in memory past the limit. CSV uploads have their own, larger limit."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from callback.http import CSV_MAX_BYTES
from hotline.app.web import RequestLimits
from hotline.core.db.engine import SessionFactory
from hotline.core.web.tokens import ApiTokens
from tests.callback.test_http import revisit_app
from tests.security.ticket_app import TicketApp, ticket_app
from tickets.http import WEBHOOK_PATH

LIMITS = RequestLimits()
PUBLIC, PROTECTED = ("POST", WEBHOOK_PATH), ("POST", "/api/tickets")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[TicketApp]:
    async with ticket_app(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}") as made:
        yield made


async def raw(app: TicketApp, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes as they are (no client to tidy them) and read the status line and body."""
    server = app.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(head + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    except ConnectionResetError:  # the server may close before taking all of a huge body
        answer = b""
    finally:
        writer.close()
    if not answer:
        return 0, b""
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def request(method: str, path: str, headers: dict[str, str] | list[tuple[str, str]], body: bytes = b"") -> bytes:
    pairs = list(headers.items()) if isinstance(headers, dict) else headers
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
             *(f"{k}: {v}" for k, v in pairs), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("route", [PUBLIC, PROTECTED], ids=["public", "protected"])
async def test_a_body_over_the_limit_is_413(app: TicketApp, route: tuple[str, str]) -> None:
    body = json.dumps({"pad": "x" * (LIMITS.body_bytes + 10)}).encode()
    headers = {**app.admin, "Content-Type": "application/json"}
    response = await app.client.request(route[0], route[1], data=io.BytesIO(body), headers=headers)
    assert response.status == 413
    assert (await response.json())["error"]["id"] == "body_too_large"
    fits = await app.client.request(route[0], route[1], data=b'{"pad": 1}', headers=headers)
    assert fits.status < 500 and fits.status != 413


@pytest.mark.parametrize("route", [PUBLIC, PROTECTED], ids=["public", "protected"])
@pytest.mark.parametrize("headers", [
    pytest.param({"X-Big": "a" * (LIMITS.field_bytes + 1)}, id="oversized-header"),
    pytest.param([(f"X-H{i}", "1") for i in range(LIMITS.headers + 1)], id="too-many-headers"),
    pytest.param([("X Bad\x01Name", "1")], id="garbage-name"),
    pytest.param([("X-Ctl", "a\x00b")], id="garbage-value"),
])
async def test_headers_over_the_limits_or_garbled_are_400(
        app: TicketApp, route: tuple[str, str], headers: dict[str, str] | list[tuple[str, str]]) -> None:
    status, _ = await raw(app, request(*route, headers))
    assert status == 400


async def test_a_request_line_over_the_limit_is_refused(app: TicketApp) -> None:
    status, _ = await raw(app, request("GET", "/api/callers/1/history?q=" + "x" * LIMITS.line_bytes, {}))
    assert 400 <= status < 500


async def test_within_the_limits_the_routes_answer_as_usual(app: TicketApp) -> None:
    near = [(f"X-H{i}", "v" * 100) for i in range(LIMITS.headers - 10)]
    status, body = await raw(app, request("GET", "/api/callers/13800138000/history", [*app.admin.items(), *near]))
    assert status == 200, body
    status, _ = await raw(app, request("GET", "/api/health", near))
    assert status in (200, 503)


async def test_csv_uploads_have_their_own_larger_limit(sqlite_sessions: SessionFactory) -> None:
    tokens = ApiTokens(sqlite_sessions)
    app, _ = revisit_app(sqlite_sessions, tokens)
    who = {"Authorization": f"Bearer {await tokens.create(name='sup', role='supervisor')}",
           "Content-Type": "text/csv"}

    def csv(size: int) -> io.BytesIO:
        head = b"number,salutation,topic,reason\n13900000003,,"
        return io.BytesIO(head + b"x" * (size - len(head) - 2) + b",\n")

    async with TestClient(TestServer(app)) as client:
        past_json = await client.post("/api/revisits/tasks", data=csv(2 * LIMITS.body_bytes), headers=who)
        refused = (await past_json.json())["error"]
        assert past_json.status == 400 and "field larger than field limit" in refused["message"], \
            "read in full and judged by the CSV reader, not cut by the JSON body limit"
        past_csv = await client.post("/api/revisits/tasks", data=csv(CSV_MAX_BYTES + 1), headers=who)
        assert past_csv.status == 413 and (await past_csv.json())["error"]["id"] == "body_too_large"
