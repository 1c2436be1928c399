"""Entries whose validity has ended leave the search (expired), checked every few minutes."""

from __future__ import annotations

import logging

from hotline.core.workers import LoopWorker
from knowledge.service import Entries

log = logging.getLogger(__name__)
EVERY_S = 300.0


class ExpiringEntries(LoopWorker):
    name = "knowledge-expiry"

    def __init__(self, entries: Entries) -> None:
        super().__init__()
        self.entries = entries

    async def step(self) -> float:
        if expired := await self.entries.expire():
            log.info("knowledge: %d entr(y/ies) expired", expired)
        return EVERY_S
