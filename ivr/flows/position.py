"""Queue position announcements while a caller waits (R-ACC-9): "您前面还有三位来电者…".

`[hotline-queue]` alternates music on hold with `agi://…/ivr/position?call=<call id>` every
`queue.announce_every` seconds. Nobody ahead: nothing is said. The prompts are generated from one
template in the dialplan file (`queue_position`, with `{n}`), counts read the way people say them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from hotline.asterisk.agi import AgiCall, AgiHangup
from hotline.db.calls import CallRecords

COUNTED = 9  # up to nine callers ahead are counted; more is "many"
_COUNTS = ("一", "两", "三", "四", "五", "六", "七", "八", "九")


def expand_position_prompts(prompts: Mapping[str, str]) -> dict[str, str]:
    """`queue_position` with `{n}` becomes queue_position_1 … _9 (一位, 两位 …)."""
    out = dict(prompts)
    template = out.pop("queue_position", None)
    if template:
        for n in range(1, COUNTED + 1):
            out[f"queue_position_{n}"] = template.replace("{n}", _COUNTS[n - 1])
    return out


class Positions(Protocol):
    async def position(self, call_id: str) -> int | None: ...


@dataclass(frozen=True)
class PositionFlow:
    """Says how many callers are ahead; quiet when none are or the caller is already being offered."""

    calls: CallRecords
    sounds_dir: str
    queue: Positions

    async def __call__(self, call: AgiCall) -> None:
        call_id = call.params.get("call") or call.env.get("agi_uniqueid", "")
        ahead = await self.queue.position(call_id)
        if not ahead:
            return
        prompt = f"queue_position_{ahead}" if ahead <= COUNTED else "queue_position_many"
        await self.calls.step(call_id, "position", {"ahead": ahead, "prompt": prompt})
        try:
            await call.stream_file(f"{self.sounds_dir}/{prompt}")
        except AgiHangup:
            return  # the agent's bridge took the caller mid-sentence, or the caller left: both are fine
