"""Prometheus metrics of a stack's adapters, read at scrape time (no background updates)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from hotline.app.stack import Stack


class StackCollector(Collector):
    """AMI connection, FastAGI session and case-system delivery figures."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack

    def collect(self) -> Iterator[Metric]:
        ami = self._stack.ami
        if ami is not None:
            yield GaugeMetricFamily("hotline_ami_connected", "1 when the AMI session is logged in",
                                    value=int(ami.connected))
            yield CounterMetricFamily("hotline_ami_reconnects", "AMI reconnects since start", value=ami.reconnects)
        agi = self._stack.agi
        if agi is not None:
            st = agi.stats()
            yield GaugeMetricFamily("hotline_agi_sessions_active", "FastAGI sessions in progress", value=st.active)
            yield CounterMetricFamily("hotline_agi_sessions", "FastAGI sessions since start", value=st.total)
            yield CounterMetricFamily("hotline_agi_sessions_failed", "FastAGI sessions that went to the fail-safe",
                                      value=st.failed)
        outbox = self._stack.outbox
        if outbox is not None:
            yield GaugeMetricFamily("hotline_case_outbox_pending", "messages waiting for the case system",
                                    value=outbox.last_backlog["pending"])
            yield GaugeMetricFamily("hotline_case_outbox_dead", "dead letters an operator must replay",
                                    value=outbox.last_backlog["dead"])
            yield CounterMetricFamily("hotline_case_delivered", "messages the case system took",
                                      value=outbox.delivered_total)
            yield CounterMetricFamily("hotline_case_delivery_failures", "failed delivery attempts",
                                      value=outbox.failed_total)


def register_metrics(registry: CollectorRegistry, stack: Stack) -> None:
    registry.register(StackCollector(stack))
