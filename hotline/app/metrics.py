"""Prometheus figures of the core's adapters, read at scrape time (no background updates); the domains
bring their own collectors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from hotline.app.stack import Stack


class CoreCollector(Collector):
    """AMI connection, FastAGI session and SIP guard figures."""

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
            yield CounterMetricFamily("hotline_agi_sessions_forbidden", "FastAGI sessions refused: no or a wrong key",
                                      value=st.forbidden)
        guard = self._stack.sip_guard
        if guard is not None:
            sip = guard.stats()
            yield CounterMetricFamily("hotline_sip_auth_failures", "Failed SIP authentications since start",
                                      value=sip.failures)
            yield CounterMetricFamily("hotline_sip_bans", "SIP source addresses banned since start", value=sip.bans)
            yield GaugeMetricFamily("hotline_sip_banned", "SIP source addresses refused now", value=sip.banned)
