"""Queue position announcements while a caller waits (R-ACC-9): "您前面还有三位来电者…".

`[hotline-queue]` alternates music on hold with `agi://…/ivr/position?call=<call id>&skill=…` every
`queue.announce_every` seconds. A caller the ACD does not know (sent here by a fail-safe) is queued
first. Nobody ahead: no count is said. The prompts are generated from one
template in the dialplan file (`queue_position`, with `{n}`), counts read the way people say them.
With `queue.self_service` on, each announcement ends with the self-service offer (ticket progress,
callback instead of waiting, and on numbers with `knowledge: true` the knowledge base's answers; see
`ivr/flows/self_service.py`), interruptible by its keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCall, AgiHangup
from ivr.flows.self_service import SelfService

COUNTED = 9  # up to nine callers ahead are counted; more is "many"
_COUNTS = ("一", "两", "三", "四", "五", "六", "七", "八", "九")


def expand_position_prompts(prompts: Mapping[str, str]) -> dict[str, str]:
    """`queue_position` with `{n}` becomes queue_position_1 … _9 (一位, 两位 …)."""
    out = dict(prompts)
    for key, mark in (("queue_position", "{n}"), ("queue_wait", "{m}")):
        template = out.pop(key, None)
        if template:
            for n in range(1, COUNTED + 1):
                out[f"{key}_{n}"] = template.replace(mark, _COUNTS[n - 1])
    return out


class Positions(Protocol):
    async def position(self, call_id: str) -> int | None: ...
    async def expected_wait_s(self, call_id: str) -> float | None: ...
    async def adopt_caller(self, call_id: str, *, channel: str, skill: str, caller: str) -> bool: ...


def wait_prompt(seconds: float | None) -> str | None:
    """The expected-wait prompt for this estimate: whole minutes 1-9, "long" from ten; none under a minute."""
    if seconds is None or seconds < 60:
        return None
    minutes = math.ceil(seconds / 60)
    return f"queue_wait_{minutes}" if minutes <= COUNTED else "queue_wait_long"


@dataclass(frozen=True)
class PositionFlow:
    """Says how many callers are ahead; quiet when none are or the caller is already being offered."""

    calls: CallRecords
    sounds_dir: str
    queue: Positions
    self_service: SelfService | None = None

    async def __call__(self, call: AgiCall) -> None:
        call_id = call.params.get("call") or call.env.get("agi_uniqueid", "")
        skill = call.params.get("skill") or "general"
        if await self.queue.adopt_caller(call_id, channel=call.env.get("agi_channel", ""), skill=skill,
                                         caller=call.env.get("agi_callerid", "")):
            # a fail-safe caller (their flow broke, or the service was down): queued now, with the number's skill
            await self.calls.step(call_id, "queued", {"skill": skill, "after": "failsafe"})
            await self.calls.set_outcome(call_id, "queued")
        ahead = await self.queue.position(call_id)
        if ahead is None:
            return  # already being offered to an agent
        line = await self._line(call_id, call.params.get("number"))
        try:
            key = None
            if ahead:
                prompt = f"queue_position_{ahead}" if ahead <= COUNTED else "queue_position_many"
                await self.calls.step(call_id, "position", {"ahead": ahead, "prompt": prompt})
                key = await call.stream_file(f"{self.sounds_dir}/{prompt}", escape_digits=self._keys(line))
                estimate = await self.queue.expected_wait_s(call_id)
                wait = wait_prompt(estimate)
                if wait is not None and key is None:
                    await self.calls.step(call_id, "expected_wait", {"seconds": round(estimate or 0), "prompt": wait})
                    key = await call.stream_file(f"{self.sounds_dir}/{wait}", escape_digits=self._keys(line))
            if self.self_service is not None and key is None:
                await self.calls.step(call_id, "self_service_offer")
                key = await call.stream_file(f"{self.sounds_dir}/{self.self_service.offer(line)}",
                                             escape_digits=self._keys(line))
            if key and self.self_service is not None:
                await self.calls.step(call_id, "self_service", {"key": key})
                await self.self_service(call, call_id, key, line)
        except AgiHangup:
            return  # the agent's bridge took the caller mid-sentence, or the caller left: both are fine

    def _keys(self, line: str | None) -> str:
        return self.self_service.keys(line) if self.self_service is not None else ""

    async def _line(self, call_id: str, dialled: str | None) -> str | None:
        """The number the caller dialled, when it matters (some line reads the knowledge base): from the AGI URL
        (the dialplan passes HOTLINE_DIALLED), else from the call record."""
        if self.self_service is None or not self.self_service.knowledge_lines:
            return None
        if dialled:
            return dialled
        record = await self.calls.get(call_id)
        return record.dialled if record is not None else None
