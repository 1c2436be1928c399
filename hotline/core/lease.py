"""Leases with fencing tokens in Redis: exactly one service instance acts as the router or runs a singleton
worker, and a paused or cut-off former holder cannot act after it lost the lease.

`acquire()` sets the lease key (owner id, PX ttl) only if nobody holds it and, in the same script, takes a
fencing token from an ever-increasing counter. `renew()` extends it only while the key still names this owner;
`release()` deletes it only then. Locally, the lease counts as held only until the last successful renewal
plus the ttl minus a safety margin (monotonic clock): a process frozen for longer sees at once that it lost it.

Redis writes made on behalf of a lease carry its token and check it in Lua (`FENCE_CHECK`): a write with a
token older than the counter (someone acquired the lease since) is refused, so a zombie cannot double-offer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
PREFIX = "hotline:lease:"

_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[2])
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
  return token
end
return false
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Lua prelude for a fenced write: `fenced(fence_key, token)` is false when a newer token was handed out
FENCE_CHECK = """
local function fenced(fence_key, token)
  if fence_key == nil or fence_key == '' then return true end
  return tonumber(token) >= tonumber(redis.call('GET', fence_key) or '0')
end
"""
_FENCED_SET = FENCE_CHECK + """
if not fenced(KEYS[2], ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


def fence_key(name: str) -> str:
    """The counter of fencing tokens of the lease `name`."""
    return f"{PREFIX}{name}:fence"


class Lease:
    """One named lease, held by this instance or not. `token` is the fencing token while held."""

    def __init__(self, redis: aioredis.Redis, name: str, instance: str, *, ttl_s: float = 2.5,
                 renew_s: float = 0.7, margin_s: float = 0.3) -> None:
        self.redis = redis
        self.name = name
        self.owner = f"{instance}:{uuid.uuid4().hex[:8]}"  # a restarted instance is a new owner
        self.ttl_s, self.renew_s, self.margin_s = ttl_s, renew_s, margin_s
        self.key, self.fence_key = f"{PREFIX}{name}", fence_key(name)
        self.token: int | None = None
        self._valid_until = 0.0
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    @property
    def held(self) -> bool:
        """Held now, as far as this process can be sure (a frozen process finds it false on waking)."""
        return self.token is not None and time.monotonic() < self._valid_until

    @property
    def _ttl_ms(self) -> int:
        return int(self.ttl_s * 1000)

    async def acquire(self) -> int | None:
        """Take the lease if it is free: the new fencing token, or None (someone else holds it)."""
        started = time.monotonic()
        got = await self._acquire(keys=[self.key, self.fence_key, f"{self.key}:owner"],
                                  args=[self.owner, self._ttl_ms])
        if not got:
            return None
        self.token, self._valid_until = int(got), started + self.ttl_s - self.margin_s
        log.info("lease %s taken by %s (token %s)", self.name, self.owner, self.token)
        return self.token

    async def renew(self) -> bool:
        """Extend the lease; False (and no longer held) when another owner has it or it expired."""
        if self.token is None:
            return False
        started = time.monotonic()
        if await self._renew(keys=[self.key], args=[self.owner, self._ttl_ms]):
            self._valid_until = started + self.ttl_s - self.margin_s
            return True
        log.warning("lease %s lost by %s (token %s)", self.name, self.owner, self.token)
        self.token = None
        return False

    async def release(self) -> None:
        """Give the lease up now (a clean stop): a standby takes it at its next try, not after the ttl."""
        if self.token is None:
            return
        self.token = None
        try:
            await self._release(keys=[self.key], args=[self.owner])
        except (RedisError, OSError) as exc:
            log.warning("lease %s not released (%s); it expires by itself", self.name, exc)

    async def fenced_set(self, key: str, value: str, token: int) -> bool:
        """SET `key` only if `token` is still the newest of this lease (the pattern every fenced write follows)."""
        return bool(await self.redis.eval(_FENCED_SET, 2, key, self.fence_key, value, str(token)))


class LeaseKeeper:
    """Keeps trying for a lease and renews it while held: `on_gained()` when taken, `on_lost()` when lost
    (renewal refused, or Redis unreachable past the lease's validity)."""

    def __init__(self, lease: Lease, on_gained: Callable[[], Awaitable[None]],
                 on_lost: Callable[[], Awaitable[None]], *, retry_s: float = 0.5) -> None:
        self.lease = lease
        self._on_gained, self._on_lost = on_gained, on_lost
        self.retry_s = retry_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"lease-{self.lease.name}")

    async def close(self) -> None:
        task, self._task = self._task, None
        while task is not None and not task.done():  # a Redis call may swallow a cancellation: cancel again
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        if self.lease.token is not None:
            await self._on_lost()
            await self.lease.release()

    async def _run(self) -> None:
        while True:
            try:
                if self.lease.token is None:
                    if await self.lease.acquire() is not None:
                        await self._on_gained()
                        continue
                elif not await self.lease.renew():
                    await self._on_lost()
            except (RedisError, OSError) as exc:
                log.warning("lease %s: Redis error %s", self.lease.name, exc)
                if self.lease.token is not None and not self.lease.held:
                    self.lease.token = None
                    await self._on_lost()
            await asyncio.sleep(self.lease.renew_s if self.lease.token is not None else self.retry_s)
