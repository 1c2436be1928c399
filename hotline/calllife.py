"""Keeps call records honest from Asterisk's side: the real hang-up time and cause of every call.

The flows write what they did; this observer writes when the channel really ended (also for calls
whose flow crashed and went to the fail-safe, or whose AGI server was unreachable).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from hotline.asterisk.ami import AmiClient, AmiMessage
from hotline.db.calls import CallRecords

log = logging.getLogger(__name__)


class CallLifecycle:
    """Subscribes to AMI `Hangup` and closes the matching call record."""

    def __init__(self, calls: CallRecords) -> None:
        self._calls = calls

    def attach(self, ami: AmiClient) -> None:
        ami.subscribe("Hangup", self.on_hangup)

    async def on_hangup(self, event: AmiMessage) -> None:
        call_id = event.get("Uniqueid", "")
        if not call_id:
            return
        try:
            await self._calls.hung_up(
                call_id, datetime.now(UTC), cause=f"{event.get('Cause', '')} {event.get('Cause-txt', '')}".strip()
            )
        except Exception:
            log.exception("could not record the hang-up of call %s", call_id)
