"""Prometheus figures of the recordings pipeline and its backup copies, refreshed by a small loop (the worker
is another process; a scrape never waits for the database)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hotline.core.db.engine import SessionFactory
from hotline.core.workers import LoopWorker
from recordings.backup import backup_backlog
from recordings.worker import recording_backlog


class RecordingFigures(LoopWorker, Collector):
    """Counts recordings waiting, failing and dead, and backup copies waiting and given up, every `every_s`."""

    name = "recordings-figures"
    per_instance = True  # read-only figures for this instance's metrics: every instance runs it

    def __init__(self, sessions: SessionFactory, every_s: float = 10.0) -> None:
        super().__init__()
        self._sessions, self._every_s = sessions, every_s
        self.last: dict[str, int] = {}

    async def step(self) -> float:
        pipeline, copies = await recording_backlog(self._sessions), await backup_backlog(self._sessions)
        self.last = {**pipeline, "backup_waiting": copies["waiting"], "backup_dead": copies["dead"]}
        return self._every_s

    def collect(self) -> Iterator[Metric]:
        for key, help_text in (("waiting", "recordings not stored yet"),
                               ("failing", "recordings whose last attempt failed (retried)"),
                               ("dead", "recordings given up after the attempt cap (WAV kept)"),
                               ("backup_waiting", "stored recordings without their backup copy yet"),
                               ("backup_dead", "backup copies given up after the attempt cap")):
            if key in self.last:
                yield GaugeMetricFamily(f"hotline_recordings_{key}", help_text, value=self.last[key])
