"""Resource exhaustion through /api/health (issue 15): requests read a cached probe, so a burst of them makes
no Redis round trips of its own, and a failing part still shows within one interval."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from hotline.core.db.engine import SessionFactory
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client
from hotline.core.web.health import HealthRegistry, PartHealth
from hotline.core.web.tokens import ApiTokens
from tests.webapp import web_app

INTERVAL = 0.5


@pytest.fixture
async def redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _pings(client: aioredis.Redis) -> int:
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_ping", {}).get("calls", 0))


async def test_a_burst_of_health_requests_reads_one_probe(sqlite_sessions: SessionFactory,
                                                          redis_server: RedisServer) -> None:
    client = redis_client(redis_server.url)
    broken = asyncio.Event()

    async def redis_check() -> PartHealth:
        if broken.is_set():
            raise ConnectionError("redis is away")
        return PartHealth(bool(await client.ping()), "PONG")

    health = HealthRegistry(timeout=1.0, interval=INTERVAL)
    health.register("redis", redis_check)
    app = web_app(sqlite_sessions, ApiTokens(sqlite_sessions), health=health)
    try:
        async with TestClient(TestServer(app)) as http:
            before = await _pings(client)
            answers = await asyncio.gather(*(http.get("/api/health") for _ in range(100)))
            assert {a.status for a in answers} == {200}
            assert health.runs == 1 and await _pings(client) - before == 1  # one probe for a hundred requests

            for _ in range(20):  # over a few intervals: at most one probe per interval
                await http.get("/api/health")
                await asyncio.sleep(INTERVAL / 4)
            assert health.runs <= 1 + 20 // 4 + 1

            broken.set()
            await asyncio.sleep(INTERVAL)
            down = await http.get("/api/health")
            assert down.status == 503
            part = (await down.json())["parts"]["redis"]
            assert part["ok"] is False and "redis is away" in part["detail"]
    finally:
        await client.aclose()


async def test_concurrent_reports_share_one_run_of_a_slow_check() -> None:
    started = 0

    async def slow() -> PartHealth:
        nonlocal started
        started += 1
        await asyncio.sleep(0.2)
        return PartHealth(True, "slow but fine")

    health = HealthRegistry(timeout=1.0, interval=60)
    health.register("slow", slow)
    reports = await asyncio.gather(*(health.report() for _ in range(50)))
    assert started == 1 and all(r["slow"].ok for r in reports)
    health.register("late", slow)  # a part registered later is checked on the next report
    assert set(await health.report()) == {"slow", "late"} and started == 3
