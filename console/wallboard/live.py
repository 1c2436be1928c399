"""The ACD's live state as the wallboard reads it: agents, waiting callers and the callers agents talk to, each in
one Redis round trip (a centre has hundreds of agents and, on a bad day, hundreds of callers waiting)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from acd.scripts import PREFIX, WAITING
from acd.store import AcdStore


class LiveQueue(Protocol):
    async def agents(self) -> dict[str, dict[str, str]]: ...

    async def waiting(self) -> list[dict[str, str]]:
        """Every caller waiting now, in routing order: their live state with `call_id`."""
        ...

    async def calls(self, call_ids: Collection[str]) -> dict[str, dict[str, str]]:
        """The live state of these calls (those the ACD still knows)."""
        ...


AGENT_FIELDS = ("state", "since", "reason", "call", "skills")
CALL_FIELDS = ("skill", "entered", "state")
# One read of every waiting caller's fields (a reply of flat strings: id, then CALL_FIELDS), in routing order.
WAITING_VIEW = """
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local h = redis.call('HMGET', ARGV[1] .. id, 'skill', 'entered', 'state')
  out[#out + 1] = id
  for i = 1, 3 do out[#out + 1] = h[i] or '' end
end
return out
"""


class RedisLive:
    """`LiveQueue` over the ACD's store: read-only, the fields the board shows."""

    def __init__(self, store: AcdStore) -> None:
        self.store = store
        self._waiting = store.redis.register_script(WAITING_VIEW)

    async def agents(self) -> dict[str, dict[str, str]]:
        """Every agent's state: the scan in large steps (the keyspace holds every waiting caller too)."""
        names = [str(k).rsplit(":", 1)[1] async for k in self.store.redis.scan_iter(f"{PREFIX}agent:*", count=2000)]
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hmget(f"{PREFIX}agent:{name}", AGENT_FIELDS)  # type: ignore[unused-awaitable]  # queued
            rows = await pipe.execute()
        return {a: {f: str(v) for f, v in zip(AGENT_FIELDS, row, strict=True) if v is not None}
                for a, row in zip(names, rows, strict=True) if row[0] is not None}

    async def waiting(self) -> list[dict[str, str]]:
        flat = [str(v) for v in await self._waiting(keys=[WAITING], args=[f"{PREFIX}call:"])]
        width = 1 + len(CALL_FIELDS)
        return [{"call_id": flat[i], **dict(zip(CALL_FIELDS, flat[i + 1:i + width], strict=True))}
                for i in range(0, len(flat), width)]

    async def calls(self, call_ids: Collection[str]) -> dict[str, dict[str, str]]:
        ids = list(call_ids)
        rows = await self._hashes([f"{PREFIX}call:{c}" for c in ids])
        return {c: row for c, row in zip(ids, rows, strict=True) if row}

    async def _hashes(self, keys: list[str]) -> list[dict[str, str]]:
        """Several hashes in one round trip."""
        if not keys:
            return []
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)  # type: ignore[unused-awaitable]  # queued, not sent
            rows = await pipe.execute()
        return [{str(k): str(v) for k, v in row.items()} for row in rows]
