"""Redis Sentinel on loopback (2 redis-server, 3 sentinels): the service's client follows a failover."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.store import AcdStore
from hotline.core.embedded.sentinel import SentinelSet
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client


@pytest.fixture
async def sentinels(tmp_path: Path) -> AsyncIterator[SentinelSet]:
    watch = SentinelSet(tmp_path / "sentinel", (free_port(), free_port()), (free_port(), free_port(), free_port()))
    await watch.start()
    try:
        yield watch
    finally:
        await watch.stop()


async def test_writes_and_the_feed_follow_a_failover(sentinels: SentinelSet) -> None:
    client = redis_client(sentinels.url, sentinels=sentinels.sentinels, master=sentinels.master)
    store = AcdStore(client)
    try:
        await store.add_agent("1001", {"general": 3})
        await store.enqueue("before", channel="PJSIP/x-1", skill="general", caller="13800000001")
        await client.wait(1, 2000)  # the replica has it before the primary dies
        heard: list[str] = []

        async def listen() -> None:
            async with store.events() as feed:
                async for event in feed:
                    heard.append(str(event.get("call", "")))

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.2)
        old = await sentinels.kill_primary()
        killed = time.monotonic()
        await store.enqueue("during", channel="PJSIP/x-2", skill="general", caller="13800000002")  # retried
        print(f"first write after the primary's death: {time.monotonic() - killed:.1f} s")
        assert await sentinels.wait_primary(not_port=old) != old
        assert [c["call_id"] for c in await store.waiting()] == ["before", "during"]  # nothing lost, in order
        for _ in range(100):  # the feed re-subscribed on the new primary
            await store.enqueue("after", channel="PJSIP/x-3", skill="general", caller="13800000003")
            if "after" in heard:
                break
            await store.forget_call("after")
            await asyncio.sleep(0.1)
        assert "after" in heard
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    finally:
        await client.aclose()
