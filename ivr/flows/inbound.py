"""The first words of every call: greeting with the recording notice, one key, the call record.

Reached from `[hotline-inbound]` as `agi://…/ivr/inbound?number=&mode=&skill=&failsafe=`. The ACD
and IVR issues extend this flow (merged-number transition prompts, menu, queue); the spine is:
answer (done by the dialplan, with MixMonitor already running), greet, take a digit, record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from dialplans.model import Dialplan
from hotline.asterisk.agi import AgiCall, AgiHangup
from hotline.db.calls import CallRecords
from hotline.privacy import mask_number

log = logging.getLogger(__name__)

KEYS = "0123456789*#"
CHINA = ZoneInfo("Asia/Shanghai")
# Waiting for a key by playing silence keeps RTP flowing (some carriers and phones drop idle media).
KEY_WAIT_PROMPT = "silence/5"


class Queue(Protocol):
    """Where callers wait for an agent (the ACD)."""

    async def enqueue(self, call_id: str, *, channel: str, skill: str, caller: str, priority: int = 0) -> None: ...


QUEUE_CONTEXT = "hotline-queue,s,1"


@dataclass(frozen=True)
class InboundFlow:
    """Call flow for citizens' inbound calls; one instance serves every call."""

    calls: CallRecords
    sounds_dir: str
    to_host_path: Callable[[str], Path]
    dialplan: Dialplan
    queue: Queue | None = None

    def _prompt(self, key: str) -> str:
        return f"{self.sounds_dir}/{key}"

    async def __call__(self, call: AgiCall) -> None:
        call_id = call.env.get("agi_uniqueid", "")
        caller = call.env.get("agi_callerid", "") or "anonymous"
        dialled = call.params.get("number") or call.env.get("agi_extension", "")
        sip_call_id = await call.get_full_variable("${CHANNEL(pjsip,call-id)}") or None
        now = datetime.now(UTC)
        await self.calls.start(call_id, sip_call_id=sip_call_id, caller=caller, dialled=dialled, started_at=now)
        await self.calls.answered(call_id, now)
        mode = call.params.get("mode", "main")
        first_prompt = self._first_prompt(dialled, now)
        await self.calls.route(call_id, mode, call.params.get("skill") or None, first_prompt)
        log.info("call %s from %s to %s", call_id, mask_number(caller), dialled)
        try:
            await self._converse(call, call_id, first_prompt)
        except AgiHangup:
            await self.calls.end(call_id, "abandoned", datetime.now(UTC))
            raise
        except Exception as exc:
            await self.calls.end(call_id, "failsafe", datetime.now(UTC), failsafe_reason=type(exc).__name__)
            raise
        if self.queue is None:
            await self.calls.end(call_id, "completed", datetime.now(UTC))

    def _first_prompt(self, dialled: str, now: datetime) -> str:
        """Transition prompt for a whole-merge number in its window, else the (holiday) greeting."""
        today = now.astimezone(CHINA).date()
        number = self.dialplan.number(dialled)
        if number is not None and number.transition is not None and number.transition.contains(today):
            return "transition"
        holiday = self.dialplan.holiday_on(today)
        if holiday is not None and holiday.greeting != "none":
            return f"greeting_{holiday.greeting}"
        return "greeting"

    async def _converse(self, call: AgiCall, call_id: str, first_prompt: str) -> None:
        if first_prompt == "transition":
            await call.stream_file(self._prompt("transition"))
            await self.calls.step(call_id, "transition", {"prompt": "transition"})
            first_prompt = self._first_prompt(self.dialplan.centre.main_number, datetime.now(UTC))
        await call.stream_file(self._prompt(first_prompt))
        await self.calls.step(call_id, "greeting", {"prompt": first_prompt})
        digit = await call.stream_file(self._prompt("press_key"), escape_digits=KEYS)
        if digit is None:
            digit = await call.stream_file(KEY_WAIT_PROMPT, escape_digits=KEYS)
        await self.calls.step(call_id, "digit", {"digit": digit, "timeout": digit is None})
        if self.queue is not None:
            skill = call.params.get("skill") or "general"
            await self.queue.enqueue(call_id, channel=call.env.get("agi_channel", ""), skill=skill,
                                     caller=call.env.get("agi_callerid", ""))
            await call.set_variable("HOTLINE_NEXT", QUEUE_CONTEXT)
            await self.calls.step(call_id, "queued", {"skill": skill})
            await self.calls.set_outcome(call_id, "queued")
            return
        await call.stream_file(self._prompt("goodbye"))
        await self.calls.step(call_id, "goodbye", {})
