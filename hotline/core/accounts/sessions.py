"""Sessions of people signed in, in Redis: the cookie holds a random id, Redis only its SHA-256 (a copy of
Redis signs nobody in). A session ends after `idle_s` unused, `lifetime_s` after sign-in, when signed out, or
with all of its user's ("sign out everywhere", disabled, password reset). Times come from `clock`, so tests
can move it; Redis' own expiry only tidies up."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from redis.asyncio import Redis

SESSION = "accounts:session:"  # + digest -> hash: user, generation, csrf, created, seen
OF_USER = "accounts:sessions-of:"  # + user id -> set of digests


def queued(*_: object) -> None:
    """Commands queued on a pipeline: their answers come from `execute()`."""


def text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session; `key` is the digest of its id (safe to log, to key sockets by)."""

    key: str
    user_id: int
    generation: int
    csrf: str
    created: float


@dataclass(frozen=True)
class Opened:
    """A new session: the id for the cookie (never stored) and the session."""

    id: str
    session: Session


class SessionStore:
    def __init__(self, redis: Redis, *, idle_s: float, lifetime_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self._redis, self.idle_s, self.lifetime_s, self._clock = redis, idle_s, lifetime_s, clock

    async def open(self, user_id: int, generation: int) -> Opened:
        """A new session with a new id and CSRF token (an id presented before sign-in is never reused)."""
        session_id, now = secrets.token_urlsafe(32), self._clock()
        made = Session(digest(session_id), user_id, generation, secrets.token_urlsafe(32), now)
        async with self._redis.pipeline(transaction=True) as p:
            queued(p.hset(SESSION + made.key, mapping={"user": user_id, "generation": generation,
                                                       "csrf": made.csrf, "created": now, "seen": now}),
                   p.expire(SESSION + made.key, self._ttl(now, now)),
                   p.sadd(OF_USER + str(user_id), made.key),
                   p.expire(OF_USER + str(user_id), math.ceil(self.lifetime_s) + 60))
            await p.execute()
        return Opened(session_id, made)

    async def find(self, session_id: str) -> Session | None:
        """The live session of this id, marked as used now; None when unknown or over its time (then ended)."""
        key, now = digest(session_id), self._clock()
        fields = await self._redis.hgetall(SESSION + key)
        if not fields or "user" not in fields:
            return None
        created, seen = float(fields["created"]), float(fields["seen"])
        if now - created >= self.lifetime_s or now - seen >= self.idle_s:
            await self.end(key, int(fields["user"]))
            return None
        async with self._redis.pipeline(transaction=True) as p:
            queued(p.hset(SESSION + key, "seen", now), p.expire(SESSION + key, self._ttl(created, now)))
            await p.execute()
        return Session(key, int(fields["user"]), int(fields["generation"]), text(fields["csrf"]), created)

    async def end(self, key: str, user_id: int) -> None:
        async with self._redis.pipeline(transaction=True) as p:
            queued(p.delete(SESSION + key), p.srem(OF_USER + str(user_id), key))
            await p.execute()

    async def forget(self, session_id: str) -> None:
        """End the session of this id, if it is one."""
        key = digest(session_id)
        user = await self._redis.hget(SESSION + key, "user")
        if user is not None:
            await self.end(key, int(user))

    async def end_all(self, user_id: int, *, but: str | None = None) -> list[str]:
        """End every session of the user (except `but`); the keys of those ended."""
        keys = [text(k) for k in await self._redis.smembers(OF_USER + str(user_id)) if text(k) != but]
        if keys:
            async with self._redis.pipeline(transaction=True) as p:
                queued(p.delete(*(SESSION + k for k in keys)), p.srem(OF_USER + str(user_id), *keys))
                await p.execute()
        return keys

    async def regenerate(self, key: str, generation: int) -> None:
        """Carry this session over to the user's new generation (it survives a password change it made)."""
        await self._redis.hset(SESSION + key, "generation", generation)

    async def peek(self, keys: Collection[str]) -> dict[str, tuple[int, int]]:
        """Which of these session keys still hold (not over their time, not ended): their user and generation,
        without marking them used."""
        if not keys:
            return {}
        ordered, now = list(keys), self._clock()
        async with self._redis.pipeline(transaction=False) as p:
            queued(*(p.hmget(SESSION + k, ["user", "generation", "created", "seen"]) for k in ordered))
            answers = await p.execute()
        return {k: (int(user), int(generation)) for k, (user, generation, created, seen) in zip(ordered, answers,
                                                                                               strict=True)
                if user is not None and now - float(created) < self.lifetime_s and now - float(seen) < self.idle_s}

    def _ttl(self, created: float, now: float) -> int:
        return max(1, math.ceil(min(self.idle_s, created + self.lifetime_s - now)) + 1)
