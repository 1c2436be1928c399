"""The one way the service opens Redis: a blocking pool, so a burst of calls waits for a connection
instead of failing with "Too many connections"; commands cut by a Redis restart (connection refused or
reset) are retried for a few seconds (the queue and agents come back from the append-only file), so a
restart is a pause, not a failure.

A stalled Redis (a server that accepts but does not answer: stopped, swapping, stuck on disk) is another
matter: every command gives up after `timeout_s` and is NOT retried, so a caller's flow fails within a
bounded time and Asterisk takes them to the fail-safe instead of dead air (issue 15). Subscriptions
(`pubsub.listen()`) still wait for messages as long as they need.

With Redis Sentinel (`sentinels`), the client asks the Sentinels for the primary of `master` on every new
connection; a primary that died or was demoted (READONLY) drops the connection, and the retry (longer here:
a failover takes a few seconds) reconnects to the new primary.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote, urlparse

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError

RETRIES = 8  # with the backoff below: about five seconds of Redis being away (refused / reset)
FAILOVER_RETRIES = 14  # through Sentinel: about ten seconds, a failover's detection and election
TIMEOUT_S = 2.0  # no answer to a command (or to a connect) in this long: the command fails, no retry


def redis_client(url: str, *, max_connections: int = 64, wait_s: float = 5.0,
                 timeout_s: float = TIMEOUT_S, sentinels: Sequence[tuple[str, int]] = (),
                 master: str = "hotline") -> aioredis.Redis:
    if sentinels:
        return sentinel_client(url, sentinels, master, max_connections=max_connections, timeout_s=timeout_s)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait_s, decode_responses=True,
        socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES, supported_errors=(ConnectionError,)),
        retry_on_error=[ConnectionError])
    return aioredis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections


def sentinel_client(url: str, sentinels: Sequence[tuple[str, int]], master: str, *, max_connections: int = 64,
                    timeout_s: float = TIMEOUT_S) -> aioredis.Redis:
    """The primary of `master` as the Sentinels name it now; `url` gives only the password and db (the
    Sentinels are asked with the same password when they have one)."""
    parts = urlparse(url) if url else None
    password = unquote(parts.password) if parts is not None and parts.password else None
    db = int(parts.path.strip("/") or 0) if parts is not None else 0
    common = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
    watch = Sentinel(list(sentinels), sentinel_kwargs={**common, "password": password}, **common)
    client = watch.master_for(
        master, redis_class=_WithSentinels, password=password, db=db, decode_responses=True,
        max_connections=max_connections,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), FAILOVER_RETRIES, supported_errors=(ConnectionError,)),
        retry_on_error=[ConnectionError])
    client.sentinel_watch = watch
    return client


class _WithSentinels(aioredis.Redis):
    """A client of the primary that also closes its connections to the Sentinels."""

    sentinel_watch: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for one in self.sentinel_watch.sentinels if self.sentinel_watch is not None else ():
            await one.aclose()
