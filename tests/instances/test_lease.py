"""Leases with fencing tokens on a real redis-server: acquire, renew, expiry, takeover, stale tokens refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from acd.store import AcdStore
from hotline.core.lease import Lease, LeaseKeeper
from hotline.core.workers import ChildWorker, Leased, LoopWorker
from tests.redis_server import fresh_redis


def held(lease: Lease) -> bool:
    """Read afresh (mypy would narrow the property after the first assert)."""
    return lease.held


def running(worker: LoopWorker) -> bool:
    return worker.running


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[aioredis.Redis]:
    async with fresh_redis(tmp_path) as client:
        yield client


async def test_one_holder_and_increasing_tokens(redis: aioredis.Redis) -> None:
    a, b = Lease(redis, "router", "a", ttl_s=0.6), Lease(redis, "router", "b", ttl_s=0.6)
    first = await a.acquire()
    assert first is not None and a.held
    assert await b.acquire() is None and not b.held  # held by a
    assert await a.renew()
    await asyncio.sleep(0.8)  # a stops renewing: the lease expires
    assert not held(a)  # a knows it without asking Redis
    second = await b.acquire()
    assert second is not None and second > first
    assert not await a.renew()  # a's renewal is refused: b owns it
    assert a.token is None


async def test_release_frees_at_once(redis: aioredis.Redis) -> None:
    a, b = Lease(redis, "w", "a"), Lease(redis, "w", "b")
    assert await a.acquire() is not None
    await a.release()
    assert not a.held and await b.acquire() is not None


async def test_a_stale_token_is_refused(redis: aioredis.Redis) -> None:
    a, b = Lease(redis, "router", "a", ttl_s=0.3), Lease(redis, "router", "b", ttl_s=5)
    old = await a.acquire()
    assert old is not None and await a.fenced_set("x", "from a", old)
    await asyncio.sleep(0.4)  # a is frozen past its lease
    new = await b.acquire()
    assert new is not None
    assert not await a.fenced_set("x", "zombie a", old)
    assert await b.fenced_set("x", "from b", new)
    assert await redis.get("x") == "from b"


async def test_a_stale_router_reserves_nothing(redis: aioredis.Redis) -> None:
    """The ACD's reservation (an offer) carries the router lease's token: a former holder cannot double-offer."""
    store = AcdStore(redis)
    await store.add_agent("1001", {"general": 3})
    await store.set_agent_state("1001", "ready")
    await store.enqueue("c1", channel="PJSIP/x-1", skill="general", caller="13800000000")
    a, b = Lease(redis, "acd-router", "a", ttl_s=0.3), Lease(redis, "acd-router", "b")
    old = await a.acquire()
    await asyncio.sleep(0.4)
    assert await b.acquire() is not None
    assert old is not None and await store.reserve(fence=(a.fence_key, old)) is None
    assert b.token is not None
    got = await store.reserve(fence=(b.fence_key, b.token))
    assert got is not None and got.call_id == "c1"


async def test_keeper_takes_over_within_the_ttl(redis: aioredis.Redis) -> None:
    events: list[tuple[str, str, float]] = []

    def keeper(name: str) -> LeaseKeeper:
        async def gained() -> None:
            events.append((name, "gained", time.monotonic()))

        async def lost() -> None:
            events.append((name, "lost", time.monotonic()))
        return LeaseKeeper(Lease(redis, "router", name, ttl_s=1.0, renew_s=0.3), gained, lost, retry_s=0.2)

    a, b = keeper("a"), keeper("b")
    a.start()
    await asyncio.sleep(0.3)
    b.start()
    await asyncio.sleep(1.5)  # a renews: b never gets it
    assert [(n, e) for n, e, _ in events] == [("a", "gained")]
    assert a._task is not None
    a._task.cancel()  # a dies without releasing
    died = time.monotonic()
    for _ in range(50):
        if any(n == "b" for n, _, _ in events):
            break
        await asyncio.sleep(0.1)
    took = next(t for n, e, t in events if n == "b" and e == "gained") - died
    print(f"takeover after {took:.2f} s")
    assert took < 1.5
    await b.close()
    assert events[-1][:2] == ("b", "lost")


class Ticks(LoopWorker):
    name = "ticks"

    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    async def step(self) -> float:
        self.steps += 1
        return 0.05


async def test_a_leased_worker_runs_on_one_instance(redis: aioredis.Redis) -> None:
    one, two = Ticks(), Ticks()
    a, b = Leased.of(one, redis, "a"), Leased.of(two, redis, "b")
    a.start()
    await asyncio.sleep(0.2)
    b.start()
    await asyncio.sleep(0.5)
    assert one.running and not two.running and two.steps == 0
    assert two.health().ok and "standby" in two.health().detail
    await a.close()  # a clean stop releases: b takes over at its next try
    for _ in range(30):
        if running(two):
            break
        await asyncio.sleep(0.1)
    assert running(two) and not running(one)
    await b.close()


async def test_a_child_process_runs_on_the_lease_holder_only(redis: aioredis.Redis) -> None:
    """The recording worker's process, say: started by the holder, stopped when the lease goes."""
    started: list[str] = []

    def child(name: str) -> ChildWorker:
        async def start() -> None:
            started.append(name)

        async def stop() -> None:
            if name in started:
                started.remove(name)
        return ChildWorker("recordings", start, stop)

    a, b = Leased.of(child("a"), redis, "a"), Leased.of(child("b"), redis, "b")
    a.start()
    await asyncio.sleep(0.2)
    b.start()
    await asyncio.sleep(0.3)
    assert started == ["a"]
    await a.close()
    for _ in range(30):
        if started == ["b"]:
            break
        await asyncio.sleep(0.1)
    assert started == ["b"]
    await b.close()
    assert started == []
