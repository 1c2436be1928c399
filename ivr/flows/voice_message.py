"""A voice message instead of a long wait (R-ACC-9): when the centre is over capacity, a queued
caller may press 1 to leave a message; a person calls them back.

Over capacity means: the caller's expected wait is at least `queue.message_over_s`, or as many
callers as `queue.capacity` already wait for the skill, or nobody with the skill is signed in. The
message (up to a minute, # ends it) is recorded next to the call's own recording, goes through the
recording worker like any recording, and a callback task (a person, reason `voice_message`) is made.
Any other key or none: the caller simply keeps their place in the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from acd.store import SkillLoad
from callback.requests import CallbackRequests
from dialplans.model import QueueSettings
from hotline.calls.caller_lists import NUMBER
from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCall

log = logging.getLogger(__name__)
MESSAGE_KEY = "1"
MAX_MESSAGE_MS = 60_000
OFFER_WAIT_MS = 4000


class Capacity(Protocol):
    async def expected_wait_s(self, call_id: str) -> float | None: ...
    async def skill_load(self, skill: str) -> SkillLoad: ...
    async def leave_queue(self, call_id: str) -> bool: ...


@dataclass(frozen=True)
class VoiceMessages:
    calls: CallRecords
    sounds_dir: str
    queue: Capacity
    requests: CallbackRequests
    settings: QueueSettings
    messages_inner: str  # where Asterisk writes the messages (inside the root)
    to_host: Callable[[str], Path]

    async def over_capacity(self, call_id: str, skill: str) -> str | None:
        """Why the caller would wait too long, or None."""
        load = await self.queue.skill_load(skill)
        if load.staffed == 0:
            return "nobody_signed_in"
        if self.settings.capacity and load.waiting >= self.settings.capacity:
            return "queue_full"
        wait = await self.queue.expected_wait_s(call_id)
        if self.settings.message_over_s and wait is not None and wait >= self.settings.message_over_s:
            return "long_wait"
        return None

    async def offer(self, call: AgiCall, call_id: str, caller: str, skill: str) -> bool:
        """Offer a message when over capacity; True when one was left (the call then ends)."""
        reason = await self.over_capacity(call_id, skill)
        if reason is None or not NUMBER.match(caller):
            return False
        await self.calls.step(call_id, "message_offer", {"reason": reason})
        key = await call.stream_file(f"{self.sounds_dir}/over_capacity_offer", escape_digits="0123456789*#")
        if key is None:
            key = await call.wait_for_digit(OFFER_WAIT_MS)
        if key != MESSAGE_KEY or not await self.queue.leave_queue(call_id):
            await self.calls.step(call_id, "message_declined", {"key": key})
            return False
        await call.set_variable("HOTLINE_NEXT", "")
        await call.stream_file(f"{self.sounds_dir}/message_record")
        await call.stream_file("beep")
        inner = f"{self.messages_inner}/{call_id}-message"
        self.to_host(self.messages_inner).mkdir(parents=True, exist_ok=True)  # RECORD FILE makes no folders
        await self.calls.step(call_id, "message_recording", {})
        ended_by = await call.record_file(inner, MAX_MESSAGE_MS, escape_digits="#")
        path = self.to_host(f"{inner}.wav")
        await self.calls.add_recording(call_id, str(path), "wav")
        await self.requests.voice_message(call_id, caller)
        await self.calls.step(call_id, "message_left", {"ended_by": ended_by or "time"})
        await self.calls.set_outcome(call_id, "voice_message")
        log.info("call %s left a voice message (%s)", call_id, reason)
        await call.stream_file(f"{self.sounds_dir}/message_thanks")
        return True
