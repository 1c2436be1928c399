"""Prometheus figures of the case-system outbox, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from integration.casesystem.outbox import OutboxWorker


class OutboxCollector(Collector):
    def __init__(self, outbox: OutboxWorker) -> None:
        self._outbox = outbox

    def collect(self) -> Iterator[Metric]:
        outbox = self._outbox
        yield GaugeMetricFamily("hotline_case_outbox_pending", "messages waiting for the case system",
                                value=outbox.last_backlog["pending"])
        yield GaugeMetricFamily("hotline_case_outbox_dead", "dead letters an operator must replay",
                                value=outbox.last_backlog["dead"])
        yield CounterMetricFamily("hotline_case_delivered", "messages the case system took",
                                  value=outbox.delivered_total)
        yield CounterMetricFamily("hotline_case_delivery_failures", "failed delivery attempts",
                                  value=outbox.delivery_failures)
