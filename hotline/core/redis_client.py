"""The one way the service opens Redis: a blocking pool, so a burst of calls waits for a connection
instead of failing with "Too many connections"; commands cut by a Redis restart are retried for a few
seconds (the queue and agents come back from the append-only file), so a restart is a pause, not a failure."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

RETRIES = 8  # with the backoff below: about five seconds of Redis being away


def redis_client(url: str, *, max_connections: int = 64, wait_s: float = 5.0) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait_s, decode_responses=True,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES), retry_on_error=[ConnectionError, TimeoutError])
    return aioredis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections
