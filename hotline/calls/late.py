"""Recordings heard before their call's record: linked in the background, never lost.

With several service instances every instance hears every AMI event and the first to claim one writes it, so
the instance writing a call's `HotlineRecording` may get there before the one writing its `HotlineCallStart`
(or the flow opening the record). Such a recording waits here, tried again every `RETRY_S`, without holding
up the lifecycle's events behind it. If the record has not come after `WAIT_S` (the instance that claimed
the start died before writing it), the record is opened from the recording event's own facts (it carries
the caller, the number dialled, the skill and the SIP call id, as the start does), marked with an
`opened_late` step, and the recording linked: a recording is evidence the centre must keep, and a call Asterisk
recorded did happen, so a record made from what Asterisk said beats a WAV nobody can find. A hang-up of the
call heard meanwhile (its record was not there either) is written to that record too.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from hotline.calls.records import CallNotFound, CallRecords
from hotline.core.web.health import PartHealth
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)

RETRY_S = 0.5  # how often a waiting recording looks for its call's record
WAIT_S = 10.0  # how long it waits before the record is opened from the recording's facts
IDLE_S = 60.0  # nothing waiting: the loop sleeps until `wait_for_call` wakes it
ENDS_KEPT = 2000  # hang-ups of unknown calls remembered (most are other channels: agents' legs, Local halves)


@dataclass(frozen=True)
class CallFacts:
    """What a recording event says about its call: enough to open the record if its start never comes."""

    caller: str
    dialled: str
    sip_call_id: str | None
    skill: str | None


@dataclass
class _Waiting:
    call_id: str
    path: str
    facts: CallFacts
    heard_at: datetime
    give_up_at: float


@dataclass(frozen=True)
class _End:
    at: datetime
    cause: str
    heard: float


class LateRecordings(LoopWorker):
    """The recordings waiting for their call's record, tried in the background for a bounded time."""

    name = "late-recordings"

    def __init__(self, calls: CallRecords) -> None:
        super().__init__()
        self._calls = calls
        self._waiting: dict[tuple[str, str], _Waiting] = {}
        self._ends: OrderedDict[str, _End] = OrderedDict()
        self.opened_total = 0  # records opened from a recording: a start was lost

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def wait_for_call(self, call_id: str, path: str, facts: CallFacts) -> None:
        """Keep the recording until its call's record exists (or `WAIT_S` passed); returns at once."""
        now = self._now()
        self._waiting.setdefault((call_id, path), _Waiting(call_id, path, facts, datetime.now(UTC), now + WAIT_S))
        self.wake()

    def ended_unknown(self, call_id: str, at: datetime, cause: str) -> None:
        """A hang-up whose call had no record: kept a while, in case a waiting recording opens that record."""
        self._ends[call_id] = _End(at, cause, self._now())
        self._ends.move_to_end(call_id)
        while len(self._ends) > ENDS_KEPT:
            self._ends.popitem(last=False)

    async def step(self) -> float:
        now = self._now()
        for key, item in list(self._waiting.items()):
            if await self._settle(item, opening=now >= item.give_up_at):
                del self._waiting[key]
        self._forget_ends(now)
        return RETRY_S if self._waiting else IDLE_S

    async def close(self) -> None:
        """On the way out nobody would try again: what still waits gets its record opened now."""
        await super().close()
        for key, item in list(self._waiting.items()):
            try:
                await self._settle(item, opening=True)
                del self._waiting[key]
            except Exception:
                log.exception("recording %s of call %s could not be linked on the way out", item.path, item.call_id)

    def health(self) -> PartHealth:
        loop = super().health()
        return PartHealth(True, f"{self.waiting} recording(s) waiting for their call") if loop.ok else loop

    async def _settle(self, item: _Waiting, *, opening: bool) -> bool:
        """Link the recording (True); open the record first when `opening`. False: still no record."""
        if opening and await self._open(item):
            self.opened_total += 1
            log.warning("call %s had no record %.0f s after its recording; opened from the recording's facts",
                        item.call_id, WAIT_S)
        try:
            await self._calls.add_recording(item.call_id, item.path, "wav")
        except CallNotFound:
            return False
        end = self._ends.pop(item.call_id, None)
        if end is not None:  # its hang-up came while the record was missing
            await self._calls.hung_up(item.call_id, end.at, end.cause)
        return True

    async def _open(self, item: _Waiting) -> bool:
        f = item.facts
        return await self._calls.start(
            item.call_id, sip_call_id=f.sip_call_id, caller=f.caller or "anonymous", dialled=f.dialled,
            started_at=item.heard_at, route_skill=f.skill,
            steps=[{"at": datetime.now(UTC).isoformat(), "step": "opened_late",
                    "detail": {"from": "HotlineRecording", "waited_s": WAIT_S}}])

    def _forget_ends(self, now: float) -> None:
        while self._ends:
            if now - next(iter(self._ends.values())).heard < WAIT_S * 2:  # outlives any recording waiting for it
                return
            self._ends.popitem(last=False)

    @staticmethod
    def _now() -> float:
        return time.monotonic()
