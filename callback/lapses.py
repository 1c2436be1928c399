"""Claims lapse by themselves (`callback.worklist`: 15 minutes without a call); this loop tells every desk
when one did, so the item shows as open again without a reload."""

from __future__ import annotations

from datetime import datetime

from callback.worklist import Worklist
from hotline.core.workers import LoopWorker


class LapsedClaims(LoopWorker):
    name = "callback-lapsed-claims"

    def __init__(self, worklist: Worklist, every_s: float = 15.0) -> None:
        super().__init__()
        self._worklist, self._every_s = worklist, every_s
        self._since: datetime | None = None  # lapses before the service started were not announced live

    async def step(self) -> float:
        since = self._since or self._worklist.now()
        self._since = await self._worklist.announce_lapsed(since)
        return self._every_s
