"""Failed SIP authentications per source address and the bans they earn, kept in Redis.

Failures are counted over a sliding window (a sorted set per address); `after` of them within `window_s`
ban the address for `ban_s` (one hash: address → until). A restarted service keeps both. The bans are
rendered as a PJSIP ACL (`ban_file`) that pjsip.conf includes.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

PREFIX = "sipguard:"
BANS_FILE = "pjsip_bans.conf"  # in the hotline Asterisk's etc/, next to pjsip.conf which includes it


@dataclass(frozen=True)
class BanPolicy:
    """How many failed authentications from one address within `window_s` seconds ban it, for how long."""

    after: int = 10
    window_s: float = 60.0
    ban_s: float = 900.0


class SipBans:
    """The failure counts and bans of the hotline's SIP edge."""

    def __init__(self, redis: Redis, policy: BanPolicy, clock: Callable[[], float] = time.time) -> None:
        self.redis, self.policy, self.clock = redis, policy, clock

    async def failed(self, address: str) -> int:
        """Count one failed authentication from `address`; the failures within the window, this one included."""
        now, key = self.clock(), f"{PREFIX}fail:{address}"
        await self.redis.zadd(key, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
        await self.redis.zremrangebyscore(key, "-inf", now - self.policy.window_s)
        await self.redis.expire(key, max(1, int(self.policy.window_s) + 1))
        return int(await self.redis.zcard(key))

    async def ban(self, address: str) -> float | None:
        """Ban `address` for the policy's period (its failures start again from none); when the ban ends, or
        None when it is banned already (failures of requests sent before the ban took hold come late)."""
        now, key = self.clock(), f"{PREFIX}bans"
        current = await self.redis.hget(key, address)
        if current is not None and float(current) > now:
            return None
        if current is not None:
            await self.redis.hdel(key, address)  # an ended ban the guard has not lifted yet
        until = now + self.policy.ban_s
        if not await self.redis.hsetnx(key, address, f"{until:.3f}"):
            return None  # another failure of the same burst banned it just now
        await self.redis.delete(f"{PREFIX}fail:{address}")
        return until

    async def current(self) -> dict[str, float]:
        """The bans in force (address → until); expired ones are removed."""
        raw = await self.redis.hgetall(f"{PREFIX}bans")
        now = self.clock()
        bans = {_text(k): float(v) for k, v in raw.items()}
        expired = [address for address, until in bans.items() if until <= now]
        if expired:
            await self.redis.hdel(f"{PREFIX}bans", *expired)
        return {address: until for address, until in bans.items() if until > now}


def ban_file(bans: dict[str, float]) -> str:
    """The PJSIP ACL refusing every request from the banned addresses (403, before any authentication)."""
    head = "; Written by the hotline's SIP guard: addresses refused after failed-authentication storms.\n"
    if not bans:
        return head
    denies = "".join(f"deny={ipaddress.ip_network(a).with_prefixlen}\n" for a in sorted(bans))
    return f"{head}[hotline-bans]\ntype=acl\n{denies}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
