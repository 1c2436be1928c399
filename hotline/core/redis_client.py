"""The one way the service opens Redis: a blocking pool, so a burst of calls waits for a connection
instead of failing with "Too many connections"; commands cut by a Redis restart (connection refused or
reset) are retried for a few seconds (the queue and agents come back from the append-only file), so a
restart is a pause, not a failure.

A stalled Redis (a server that accepts but does not answer: stopped, swapping, stuck on disk) is another
matter: every command gives up after `timeout_s` and is NOT retried, so a caller's flow fails within a
bounded time and Asterisk takes them to the fail-safe instead of dead air (issue 15). Subscriptions
(`pubsub.listen()`) still wait for messages as long as they need.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError

RETRIES = 8  # with the backoff below: about five seconds of Redis being away (refused / reset)
TIMEOUT_S = 2.0  # no answer to a command (or to a connect) in this long: the command fails, no retry


def redis_client(url: str, *, max_connections: int = 64, wait_s: float = 5.0,
                 timeout_s: float = TIMEOUT_S) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait_s, decode_responses=True,
        socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES, supported_errors=(ConnectionError,)),
        retry_on_error=[ConnectionError])
    return aioredis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections
