"""The daily retention run inside the service: rotate the logs, then sweep every kind."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from hotline.app.retention.coordinator import Retention
from hotline.core.asterisk.ami import AmiClient, AmiError
from hotline.core.logfiles import rotate_own
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)
DAY_S = 86400.0


class RetentionWorker(LoopWorker):
    name = "retention"
    max_backoff_s = 3600.0

    def __init__(self, retention: Retention, ami: AmiClient, own_log_dirs: Sequence[Path],
                 every_s: float = DAY_S) -> None:
        super().__init__()
        self.retention, self._ami, self._own_log_dirs, self.every_s = retention, ami, tuple(own_log_dirs), every_s
        self._rotated_at: float | None = None  # monotonic; a failed sweep retried later does not rotate again

    async def rotate(self) -> None:
        """Asterisk's logs (`logger rotate`: its timestamp strategy), then the service's own."""
        try:
            await self._ami.action("Command", {"Command": "logger rotate"})
        except (AmiError, TimeoutError) as exc:
            log.warning("retention: Asterisk's logs not rotated: %s", exc)
        rotate_own(self._own_log_dirs)

    async def step(self) -> float:
        if self._rotated_at is None or time.monotonic() - self._rotated_at >= self.every_s:
            await self.rotate()
            self._rotated_at = time.monotonic()
        reports = await self.retention.run()
        log.info("retention: %s", ", ".join(f"{r.kind} {r.changed} changed, {r.held} held" for r in reports
                                             if r.days))
        return self.every_s
