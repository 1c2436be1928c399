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

from hotline.calls.late import CallFacts, LateRecordings
from hotline.calls.records import CallNotFound, CallRecords
from hotline.core.asterisk.ami import AmiClient, AmiMessage
from hotline.core.claims import EventClaims
from hotline.core.web.health import PartHealth
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)

DOWN_CAUSE = "ended while the service was down"


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
        self.late = LateRecordings(calls)

    def attach(self, ami: AmiClient) -> None:
        ami.subscribe("UserEvent", self._queue.put_nowait)
        ami.subscribe("Hangup", self._queue.put_nowait)
        self.start()
        self.late.start()

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
        await self.late.close()

    def health(self) -> PartHealth:
        loop, late = super().health(), self.late.health()
        if not loop.ok or not late.ok:
            return loop if not loop.ok else late
        return PartHealth(True, f"{self._queue.qsize()} event(s) to write, {self.late.waiting} recording(s) waiting "
                                "for their call")

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
                await self._add_recording(call_id, event)
            elif name == "HotlineFailsafe":
                await self._calls.failsafe(call_id, event.get("Error", ""))
        except Exception:
            log.exception("could not record %s of call %s", name, call_id)

    async def _add_recording(self, call_id: str, event: AmiMessage) -> None:
        """Link the recording; if the call has no record yet (another instance claimed its start and has not
        written it), the recording waits for it in the background, not in this queue (see `late`)."""
        path = str(self._host(event.get("Path", "")))
        try:
            await self._calls.add_recording(call_id, path, "wav")
        except CallNotFound:
            self.late.wait_for_call(call_id, path, CallFacts(
                caller=event.get("Caller", ""), dialled=event.get("Dialled", ""),
                sip_call_id=event.get("SipCallId") or None, skill=event.get("Skill") or None))

    async def on_hangup(self, event: AmiMessage) -> None:
        call_id = event.get("Uniqueid", "")
        if not call_id:
            return
        at, cause = datetime.now(UTC), f"{event.get('Cause', '')} {event.get('Cause-txt', '')}".strip()
        try:
            if not await self._calls.hung_up(call_id, at, cause=cause):
                self.late.ended_unknown(call_id, at, cause)  # most are other legs; a late record may need it
        except Exception:
            log.exception("could not record the hang-up of call %s", call_id)


def _event_key(event: AmiMessage) -> str:
    """What makes an event the same one for every instance that hears it."""
    parts = ("Event", "UserEvent", "Uniqueid", "CallId", "Path", "Error")
    return "call-event:" + "|".join(event.get(k, "") for k in parts)
