"""Keeps call records honest from Asterisk's side, whatever happens to the flows.

The dialplan announces every call (`HotlineCallStart`), its recording (`HotlineRecording`) and a
fail-safe (`HotlineFailsafe`) as AMI user events; `Hangup` gives the real end. So a call has a
record even when its flow crashed or the AGI server was unreachable: no call is lost. With several service
instances, each hears every event and the first to claim it in Redis (`claims`) writes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Set
from datetime import UTC, datetime
from pathlib import Path

from hotline.calls.records import CallNotFound, CallRecords
from hotline.core.asterisk.ami import AmiClient, AmiMessage
from hotline.core.claims import EventClaims
from hotline.core.web.health import PartHealth
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)

DOWN_CAUSE = "ended while the service was down"
RECORD_WAIT_S = 5.0  # how long a recording waits for its call's record, in the making elsewhere


class CallLifecycle(LoopWorker):
    """AMI observer writing call starts, recordings, fail-safes and hang-ups, in arrival order: one event a step."""

    name = "call-lifecycle"

    def __init__(self, calls: CallRecords, to_host_path: Callable[[str], Path],
                 claims: EventClaims | None = None) -> None:
        super().__init__()
        self._claims = claims
        self._calls = calls
        self._host = to_host_path
        self._queue: asyncio.Queue[AmiMessage] = asyncio.Queue()

    def attach(self, ami: AmiClient) -> None:
        ami.subscribe("UserEvent", self._queue.put_nowait)
        ami.subscribe("Hangup", self._queue.put_nowait)
        self.start()

    async def step(self) -> float:
        event = await self._queue.get()
        try:
            if self._claims is not None and not await self._claims.first(_event_key(event)):
                return 0.0  # another instance writes this one
            if event.get("Event") == "Hangup":
                await self.on_hangup(event)
            else:
                await self.on_user_event(event)
        finally:
            self._queue.task_done()
        return 0.0

    async def close(self) -> None:
        """Write what is queued (for up to 5 s), then stop; safe twice."""
        if self.running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), 5)
        await super().close()

    def health(self) -> PartHealth:
        loop = super().health()
        return PartHealth(True, f"{self._queue.qsize()} event(s) to write") if loop.ok else loop

    async def resync(self, alive: Set[str]) -> int:
        """After a restart: calls that ended while the service was down (their Hangup was never seen) get
        their end written now, so no record stays open for ever. Returns how many."""
        closed = 0
        for call_id in await self._calls.unended():
            if call_id not in alive and await self._calls.hung_up(call_id, datetime.now(UTC), DOWN_CAUSE):
                closed += 1
        if closed:
            log.info("%d calls ended while the service was down; their records are closed", closed)
        return closed

    async def on_user_event(self, event: AmiMessage) -> None:
        name = event.get("UserEvent", "")
        call_id = event.get("CallId", "")
        if not call_id or name not in ("HotlineCallStart", "HotlineRecording", "HotlineFailsafe"):
            return
        try:
            if name in ("HotlineCallStart", "HotlineFailsafe"):
                await self._calls.start(
                    call_id, sip_call_id=event.get("SipCallId") or None, caller=event.get("Caller", "") or "anonymous",
                    dialled=event.get("Dialled", ""), started_at=datetime.now(UTC),
                    route_mode=event.get("Mode") or None, route_skill=event.get("Skill") or None,
                )
            if name == "HotlineRecording":
                await self._add_recording(call_id, str(self._host(event.get("Path", ""))))
            elif name == "HotlineFailsafe":
                await self._calls.failsafe(call_id, event.get("Error", ""))
        except Exception:
            log.exception("could not record %s of call %s", name, call_id)

    async def _add_recording(self, call_id: str, path: str) -> None:
        """Link the recording once the call has its record: with several instances, another one may have claimed
        the call's start (or the flow be opening it) and not have written it yet."""
        deadline = asyncio.get_running_loop().time() + RECORD_WAIT_S
        while True:
            try:
                await self._calls.add_recording(call_id, path, "wav")
                return
            except CallNotFound:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.1)

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


def _event_key(event: AmiMessage) -> str:
    """What makes an event the same one for every instance that hears it."""
    parts = ("Event", "UserEvent", "Uniqueid", "CallId", "Path", "Error")
    return "call-event:" + "|".join(event.get(k, "") for k in parts)
