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


class RedisLive:
    """`LiveQueue` over the ACD's store."""

    def __init__(self, store: AcdStore) -> None:
        self.store = store

    async def agents(self) -> dict[str, dict[str, str]]:
        return await self.store.agents()

    async def waiting(self) -> list[dict[str, str]]:
        ids = [str(c) for c in await self.store.redis.zrange(WAITING, 0, -1)]
        calls = await self.calls(ids)
        return [{"call_id": c, **calls[c]} for c in ids if c in calls]

    async def calls(self, call_ids: Collection[str]) -> dict[str, dict[str, str]]:
        ids = list(call_ids)
        if not ids:
            return {}
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for call_id in ids:
                pipe.hgetall(f"{PREFIX}call:{call_id}")  # type: ignore[unused-awaitable]  # queued, not sent
            rows = await pipe.execute()
        return {c: {str(k): str(v) for k, v in row.items()} for c, row in zip(ids, rows, strict=True) if row}
