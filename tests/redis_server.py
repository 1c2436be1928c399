"""A fresh embedded redis-server for one test, with a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis

from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client


@asynccontextmanager
async def fresh_redis(folder: Path) -> AsyncIterator[Redis]:
    server = RedisServer(folder / "redis", free_port())
    await server.start()
    client = redis_client(server.url)
    try:
        yield client
    finally:
        await client.aclose()
        await server.stop()
