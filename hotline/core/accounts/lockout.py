"""Password guessing against one account: after `after` wrong passwords for a user name within `window_s` the
name is locked for `lock_s`, whether or not such a user exists (a lock tells nothing about who has an
account). Kept in Redis, so every process of the service agrees; times come from `clock`."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable

from redis.asyncio import Redis

from hotline.core.accounts.sessions import queued

FAILURES = "accounts:failures:"  # + user name -> sorted set of failure times
LOCKED = "accounts:locked:"  # + user name -> locked until (clock time)


class Lockout:
    def __init__(self, redis: Redis, *, after: int, window_s: float, lock_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self._redis, self.after, self.window_s, self.lock_s, self._clock = redis, after, window_s, lock_s, clock

    async def locked_for(self, username: str) -> float:
        """Seconds the name stays locked (0: it may try)."""
        until = await self._redis.get(LOCKED + username)
        return max(0.0, float(until) - self._clock()) if until is not None else 0.0

    async def failed(self, username: str) -> bool:
        """Count a wrong password; True when it locks the name."""
        now, key = self._clock(), FAILURES + username
        async with self._redis.pipeline(transaction=True) as p:
            queued(p.zremrangebyscore(key, "-inf", now - self.window_s),
                   p.zadd(key, {f"{now}:{secrets.token_hex(4)}": now}), p.zcard(key),
                   p.expire(key, math.ceil(self.window_s) + 60))
            count = (await p.execute())[2]
        if count < self.after:
            return False
        async with self._redis.pipeline(transaction=True) as p:
            queued(p.set(LOCKED + username, now + self.lock_s, ex=math.ceil(self.lock_s) + 60), p.delete(key))
            await p.execute()
        return True

    async def succeeded(self, username: str) -> None:
        """A correct password clears the name's failures."""
        await self._redis.delete(FAILURES + username)

    async def lift(self, username: str) -> None:
        """An administrator's reset or enable: the name may try again now."""
        await self._redis.delete(FAILURES + username, LOCKED + username)
