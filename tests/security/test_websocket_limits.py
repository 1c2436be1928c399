"""Resource exhaustion through the live feed (issue 15): every open `/api/acd/events` socket shares one Redis
subscription (the pool and Redis' client list stay flat however many listen), a token or the service over its
socket cap gets 429, a revoked or expired token's sockets are closed (4401), and a listener that falls behind
is dropped without holding the others up. On a real redis-server with the ACD's own store publishing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from aiohttp import ClientWebSocketResponse, WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from sqlalchemy import update

from acd import http as acd_http
from acd.store import EVENTS, AcdStore
from hotline.app.stack import Stack
from hotline.app.web import WebParts, build_app
from hotline.core.db.engine import SessionFactory
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client
from hotline.core.web.audit import AuditLog
from hotline.core.web.feed import FanOut
from hotline.core.web.health import HealthRegistry
from hotline.core.web.models import ApiToken
from hotline.core.web.sockets import REVOKED, SOCKETS, SocketLimits
from hotline.core.web.tokens import ApiTokens
from tests.acd.test_http import emergency_flags
from tests.e2e.conftest import running_stack, stack_settings

LIMITS = SocketLimits(per_token={"agent": 2, "supervisor": 5, "admin": 5}, total=12, check_every_s=0.3)
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def redis_url(tmp_path: Path) -> AsyncIterator[str]:
    server = RedisServer(tmp_path / "redis", free_port())
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[AcdStore]:
    client = redis_client(redis_url, max_connections=8)
    made = AcdStore(client)
    for agent in ("8001", "8002"):
        await made.add_agent(agent, {"general": 3})
    try:
        yield made
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def serving(sessions: SessionFactory, store: AcdStore, limits: SocketLimits = LIMITS) -> AsyncIterator[Client]:
    """The web app with the ACD's routes on the real store (only its live feed is used here)."""
    acd = cast(acd_http.AgentControl, store)
    routes = acd_http.routes(acd, frozenset(), emergency_flags(sessions))
    app = build_app(WebParts([routes], ApiTokens(sessions), AuditLog(sessions), HealthRegistry(),
                             CollectorRegistry(), sockets=limits))
    async with TestClient(TestServer(app)) as client:
        yield client


async def bearer(sessions: SessionFactory, role: str, agent: str | None = None) -> tuple[int, dict[str, str]]:
    issued = await ApiTokens(sessions).issue(name=f"{role}-ws", role=role, agent_id=agent)
    return issued.id, {"Authorization": f"Bearer {issued.token}"}


async def subscribers(redis_url: str) -> tuple[int, int]:
    """(connections to Redis, of which subscribed), from CLIENT LIST; this probe's own not counted."""
    probe = aioredis.from_url(redis_url, decode_responses=True)
    try:
        clients = [c for c in await probe.client_list() if c["cmd"] != "client|list"]
    finally:
        await probe.aclose()
    return len(clients), sum(1 for c in clients if int(c.get("sub", 0)) > 0)


async def until(check: Any, what: str, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


async def next_event(ws: ClientWebSocketResponse) -> dict[str, Any]:
    return cast(dict[str, Any], await ws.receive_json(timeout=5))


async def test_many_sockets_share_one_subscription_and_all_hear_every_event(
        sqlite_sessions: SessionFactory, store: AcdStore, redis_url: str) -> None:
    async with serving(sqlite_sessions, store) as client, contextlib.AsyncExitStack() as sockets:
        baseline, _ = await subscribers(redis_url)
        opened = []
        for _ in range(5):
            _, headers = await bearer(sqlite_sessions, "supervisor")
            for _ in range(2):
                opened.append(await sockets.enter_async_context(client.ws_connect("/api/acd/events",
                                                                                  headers=headers)))

        async def subscribed() -> bool:
            return (await subscribers(redis_url))[1] == 1

        await until(subscribed, "the feed subscribed")
        connections, subscribed_now = await subscribers(redis_url)
        assert subscribed_now == 1, "ten sockets, one subscription"
        assert connections <= baseline + 1, "the sockets take no connections of their own"
        assert client.app[acd_http.FEED].subscriptions == 1

        assert await store.set_agent_state("8001", "ready")
        assert await store.set_agent_state("8002", "paused", reason="break")
        for ws in opened:
            first, second = await next_event(ws), await next_event(ws)
            assert (first["agent"], first["state"], second["agent"], second["state"]) == (
                "8001", "ready", "8002", "paused")

    async def unsubscribed() -> bool:
        return (await subscribers(redis_url))[1] == 0

    await until(unsubscribed, "the subscription closed with the last socket")


async def test_sockets_over_the_caps_get_429_with_the_reason(sqlite_sessions: SessionFactory,
                                                              store: AcdStore) -> None:
    limits = SocketLimits(per_token={"agent": 2, "supervisor": 5}, total=7, check_every_s=0.3)
    async with serving(sqlite_sessions, store, limits) as client, contextlib.AsyncExitStack() as sockets:

        async def open_(headers: dict[str, str]) -> None:
            await sockets.enter_async_context(client.ws_connect("/api/acd/events", headers=headers))

        _, agent = await bearer(sqlite_sessions, "agent", "8001")
        await open_(agent)
        await open_(agent)
        refused = await client.get("/api/acd/events", headers=agent)
        body = await refused.json()
        assert refused.status == 429 and body["error"]["id"] == "too_many_sockets"
        assert "2 live sockets" in body["error"]["message"] and "agent" in body["error"]["message"]

        _, supervisor = await bearer(sqlite_sessions, "supervisor")
        for _ in range(5):
            await open_(supervisor)
        assert (await client.get("/api/acd/events", headers=supervisor)).status == 429  # its own cap, and …
        _, other = await bearer(sqlite_sessions, "supervisor")
        total = await client.get("/api/acd/events", headers=other)  # … the service's: 7 open
        assert total.status == 429 and "7 live sockets" in (await total.json())["error"]["message"]
        rows = [e for e in await AuditLog(sqlite_sessions).recent() if e["action"] == "acd.events"]
        assert sum(1 for e in rows if e["detail"].get("refused") == "too_many_sockets") == 3


async def test_revoking_or_expiring_a_token_closes_its_sockets(sqlite_sessions: SessionFactory,
                                                                store: AcdStore) -> None:
    async with serving(sqlite_sessions, store) as client:
        revoked_id, revoked = await bearer(sqlite_sessions, "supervisor")
        expired_id, expiring = await bearer(sqlite_sessions, "agent", "8001")
        _, kept = await bearer(sqlite_sessions, "supervisor")
        async with client.ws_connect("/api/acd/events", headers=revoked) as a, \
                client.ws_connect("/api/acd/events", headers=expiring) as b, \
                client.ws_connect("/api/acd/events", headers=kept) as c:
            assert await ApiTokens(sqlite_sessions).revoke(revoked_id)
            async with sqlite_sessions.begin() as s:
                await s.execute(update(ApiToken).where(ApiToken.id == expired_id)
                                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            for ws in (a, b):
                message = await ws.receive(timeout=3)
                assert message.type is WSMsgType.CLOSE and message.data == REVOKED
                assert message.extra == "token revoked or expired"
            assert await store.set_agent_state("8001", "ready")
            assert (await next_event(c))["agent"] == "8001", "the others keep listening"
        assert client.app[acd_http.FEED].listeners == 0


async def test_a_listener_that_falls_behind_is_dropped_and_the_others_keep_up(store: AcdStore) -> None:
    feed = FanOut(store.events, queue_size=3)
    async with feed.listen() as slow, feed.listen() as quick:
        heard: list[dict[str, Any]] = []

        async def follow() -> None:
            async for event in quick:
                heard.append(event)

        following = asyncio.create_task(follow())
        await asyncio.sleep(0.2)  # subscribed
        for i in range(10):
            await store.redis.publish(EVENTS, f'{{"event": "test", "n": {i}}}')
        for _ in range(100):
            if len(heard) == 10:
                break
            await asyncio.sleep(0.05)
        assert [e["n"] for e in heard] == list(range(10))
        assert slow.dropped and [e async for e in slow] == [], "dropped: its iteration ends at once"
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    assert feed.listeners == 0


def test_the_caps_are_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_WS_PER_TOKEN", "agent=1, supervisor=9")
    monkeypatch.setenv("HOTLINE_WS_TOTAL", "40")
    limits = SocketLimits.from_env()
    assert (limits.per_token["agent"], limits.per_token["supervisor"], limits.per_token["admin"]) == (1, 9, 5)
    assert limits.total == 40
    monkeypatch.setenv("HOTLINE_WS_PER_TOKEN", "agent")
    with pytest.raises(ValueError, match="role=count"):
        SocketLimits.from_env()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


@pytest.mark.asterisk
@pytest.mark.asyncio(loop_scope="module")
async def test_on_the_running_stack_sockets_share_the_feed_and_revocation_closes_them(stack: Stack) -> None:
    """The service as `make run` starts it: the ACD's router publishes, its Redis holds one subscription for
    every socket, the cap holds and a revoked token's sockets close within a few seconds."""
    assert stack.tokens is not None and stack.acd is not None
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}/api/acd/events"
    tokens = [await stack.tokens.issue(name=f"wall-{i}", role="supervisor") for i in range(3)]
    _, before = await subscribers(stack.redis_url)
    async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as sockets:
        opened = [(t.id, await sockets.enter_async_context(http.ws_connect(
            base, headers={"Authorization": f"Bearer {t.token}"}))) for t in tokens for _ in range(2)]

        async def subscribed() -> bool:
            return (await subscribers(stack.redis_url))[1] == before + 1

        await until(subscribed, "the feed subscribed once")
        await stack.acd.set_agent_state("8001", "paused", "break")
        for _, ws in opened:
            event = await next_event(ws)
            while event.get("agent") != "8001":
                event = await next_event(ws)
            assert event["state"] == "paused"
        per_token = SocketLimits.from_env().per_token["supervisor"]  # the stack's cap
        extra = [await sockets.enter_async_context(http.ws_connect(
            base, headers={"Authorization": f"Bearer {tokens[0].token}"})) for _ in range(per_token - 2)]
        async with http.get(base, headers={"Authorization": f"Bearer {tokens[0].token}"}) as over:
            assert over.status == 429
        assert await stack.tokens.revoke(tokens[0].id)
        for ws in [ws for token_id, ws in opened if token_id == tokens[0].id] + extra:
            message = await ws.receive(timeout=5)
            assert message.type is WSMsgType.CLOSE and message.data == REVOKED
        await stack.acd.set_agent_state("8001", "ready")
        for _, ws in [(i, ws) for i, ws in opened if i != tokens[0].id]:
            event = await next_event(ws)
            while event.get("agent") != "8001" or event.get("state") != "ready":
                event = await next_event(ws)



async def test_a_client_that_sends_a_large_message_is_cut_off(sqlite_sessions: SessionFactory,
                                                               store: AcdStore) -> None:
    async with serving(sqlite_sessions, store) as client:
        _, headers = await bearer(sqlite_sessions, "supervisor")
        async with client.ws_connect("/api/acd/events", headers=headers) as ws:
            await ws.send_str("x" * 10_000)
            message = await ws.receive(timeout=5)
            assert message.type is WSMsgType.CLOSE and message.data == WSCloseCode.MESSAGE_TOO_BIG

        async def let_go() -> bool:
            return client.app[SOCKETS].count() == 0 and client.app[acd_http.FEED].listeners == 0

        await until(let_go, "the socket and its listener let go")
