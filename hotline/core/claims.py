"""Once across service instances: every instance hears the same AMI events, and the first to claim an event in
Redis (SET NX with an expiry) is the one that acts on it, so a call's start, recording and hang-up are written
once, not once per instance."""

from __future__ import annotations

import redis.asyncio as aioredis

PREFIX = "hotline:claimed:"


class EventClaims:
    """`first(key)` is True for exactly one caller per key within `keep_s`."""

    def __init__(self, redis: aioredis.Redis, instance: str, keep_s: float = 600.0) -> None:
        self.redis, self.instance, self.keep_ms = redis, instance, int(keep_s * 1000)

    async def first(self, key: str) -> bool:
        return bool(await self.redis.set(f"{PREFIX}{key}", self.instance, nx=True, px=self.keep_ms))
