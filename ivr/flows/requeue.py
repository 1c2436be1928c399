"""Back to the queue after a transfer that did not land (linkage number busy or unreachable).

Reached as `agi://…/ivr/requeue?call=&skill=&reason=`: the caller is queued again ahead of new
callers and the reason is written on the call record; never dead air, never a lost caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialplans.render import QUEUE_CONTEXT
from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCall
from ivr.flows.inbound import Queue

BACK_IN_QUEUE_PRIORITY = 1  # they already waited once: ahead of new callers


async def back_to_queue(call: AgiCall, queue: Queue, call_id: str, skill: str) -> None:
    """Queue the caller again ahead of new callers; the dialplan then sends them to the waiting room."""
    await queue.enqueue(call_id, channel=call.env.get("agi_channel", ""), skill=skill,
                        caller=call.env.get("agi_callerid", ""), priority=BACK_IN_QUEUE_PRIORITY)
    await call.set_variable("HOTLINE_NEXT", QUEUE_CONTEXT)


@dataclass(frozen=True)
class RequeueFlow:
    calls: CallRecords
    queue: Queue

    async def __call__(self, call: AgiCall) -> None:
        call_id = call.params.get("call") or call.env.get("agi_uniqueid", "")
        skill = call.params.get("skill") or "general"
        await self.calls.step(call_id, "requeued", {"reason": call.params.get("reason", ""), "skill": skill})
        await back_to_queue(call, self.queue, call_id, skill)
