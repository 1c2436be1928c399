"""The one way the service opens Redis: a blocking pool, so a burst of calls waits for a connection
instead of failing with "Too many connections"."""

from __future__ import annotations

import redis.asyncio as aioredis


def redis_client(url: str, *, max_connections: int = 64, wait_s: float = 5.0) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=wait_s,
                                                    decode_responses=True)
    return aioredis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections
