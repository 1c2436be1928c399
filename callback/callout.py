"""An agent calls a citizen back (issue 16): their own phone rings first, then the citizen, through the carrier.

`dial` checks, in order: the agent holds a live claim on the item (409 `not_claimed`); the ACD takes the agent
for the call (ready or paused → on_call, so no inbound caller is offered to them; 409 `agent_busy` when they
ring, talk or wrap up); the dial-out check (toll fraud: 403 `number_not_allowed`, 429 past the agent's hour).
Then the item is `calling`, the call gets its record (mode `callback`, the agent, the item) and an Originate
rings `PJSIP/<agent>` (whatever phone the agent registered: a desk phone or the browser's) into
`[hotline-callback]`, which dials the citizen with the centre's display number and records their leg from the
answer like any call. When the agent hangs up the item goes back to its claimer for the outcome, and the agent
gets the usual wrap-up, then returns to ready (or to their pause).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from callback.worklist import NotClaimed, Worklist
from dialplans.dialout import DialOutGuard
from dialplans.model import Dialplan
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient, AmiError, AmiMessage
from hotline.core.clock import now as _now
from hotline.core.errors import Conflict
from hotline.core.logged import logged
from hotline.core.privacy import mask_number

log = logging.getLogger(__name__)
CONTEXT = "hotline-callback"
MODE = "callback"  # the call record's route mode


class AgentsCallingOut(Protocol):
    """The ACD's side of an agent's own call out (acd.router.Router)."""

    async def take_for_call_out(self, agent: str, call_id: str, reason: str
                                ) -> tuple[str, dict[str, str]] | None: ...

    async def after_call_out(self, agent: str, token: str, before: dict[str, str], talked: bool) -> None: ...


class AgentBusy(Conflict):
    """409: the agent is ringing, talking, wrapping up or signed out; a callback waits for a free agent."""

    error_id = "agent_busy"


@dataclass(frozen=True)
class CalloutSettings:
    agent_ring_s: float = 15.0  # the agent's own phone (the ACD's ring timeout)
    citizen_ring_s: int = 45  # the citizen's phone, once the agent answered


@dataclass
class _Call:
    call_id: str
    item: int
    agent: str
    number: str
    token: str
    before: dict[str, str]
    answered: asyncio.Future[None]
    ended: asyncio.Future[AmiMessage]


class CallbackDialler:
    def __init__(self, worklist: Worklist, ami: AmiClient, calls: CallRecords, acd: AgentsCallingOut,
                 dialout: DialOutGuard, plan: Dialplan, settings: CalloutSettings = CalloutSettings(),
                 clock: Callable[[], datetime] = _now) -> None:
        self._worklist, self._ami, self._calls, self._acd, self._dialout = worklist, ami, calls, acd, dialout
        self._display, self._settings, self._clock = plan.centre.display_number, settings, clock
        self._calling: dict[str, _Call] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def attach(self, _: object = None) -> None:
        """Follow the dialplan's reports of callback calls (once AMI is connected)."""
        self._ami.subscribe("UserEvent", self._on_user_event)

    async def dial(self, item_id: int, agent: str) -> dict[str, str | int]:
        """Start the call (it goes on in the background); the new call's id."""
        claimer, live, number = await self._worklist.claimer(item_id)
        if claimer != agent or not live:
            raise NotClaimed(f"claim callback {item_id} before dialling it")
        call_id = f"callback-{uuid.uuid4().hex[:16]}"
        taken = await self._acd.take_for_call_out(agent, call_id, f"回拨 {item_id}")
        if taken is None:
            raise AgentBusy(f"agent {agent} is on another call, ringing or wrapping up; dial when free")
        token, before = taken
        try:
            await self._dialout.check("callback", number, agent=agent)  # nothing rings when refused
            item = await self._worklist.begin_call(item_id, agent, call_id)
        except BaseException:
            await self._acd.after_call_out(agent, token, before, talked=False)
            raise
        at = self._clock()
        await self._calls.start(call_id, sip_call_id=None, caller=item.number, dialled=self._display, started_at=at,
                                route_mode=MODE)
        await self._calls.assign_agent(call_id, agent, at)
        await self._calls.step(call_id, "callback", {"item": item_id, "kind": item.kind, "direction": "outbound",
                                                     "agent": agent})
        loop = asyncio.get_running_loop()
        call = _Call(call_id, item_id, agent, item.number, token, before, loop.create_future(), loop.create_future())
        self._calling[call_id] = call
        task = asyncio.create_task(self._call(call), name=call_id)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        log.info("agent %s calls back item %s (%s) as %s", agent, item_id, mask_number(item.number), call_id)
        return {"call_id": call_id, "callback": item_id, "status": "ringing_agent"}

    async def _call(self, call: _Call) -> None:
        try:
            status, cause, talked = await self._ring(call)
        finally:  # cut by a shutdown: nothing is written (the restart gives the item back to its claimer)
            self._calling.pop(call.call_id, None)
        await self._ended(call, status, cause, talked)

    async def _ring(self, call: _Call) -> tuple[str, int | None, bool]:
        """The agent's phone, then (in the dialplan) the citizen's; (how the dial ended, its cause, whether the
        agent answered)."""
        try:
            ring = self._settings.agent_ring_s
            origination = await self._ami.originate(
                f"PJSIP/{call.agent}", context=CONTEXT, exten=call.number, caller_id=f'"回拨" <{call.number}>',
                timeout_s=ring, channel_id=call.call_id,
                variables={"__HOTLINE_CALL_ID": call.call_id, "HOTLINE_CALLBACK": str(call.item),
                           "HOTLINE_RING_S": str(self._settings.citizen_ring_s)})
            result = await origination.result(timeout=ring + 10)
        except (AmiError, TimeoutError) as exc:
            log.warning("callback call %s of item %s could not ring the agent: %s", call.call_id, call.item, exc)
            return "FAILED", None, False
        if not result.answered:
            return f"AGENT_{result.reason.name}", None, False
        await self._step(call, "agent_answered", {})
        with contextlib.suppress(AmiError, TimeoutError):
            await origination.hangup(timeout=4 * 3600)
        try:
            event = await asyncio.wait_for(asyncio.shield(call.ended), 5)
        except TimeoutError:
            return "UNKNOWN", None, True
        raw = str(event.get("Cause", ""))
        return str(event.get("Status", "")) or "UNKNOWN", int(raw) if raw.isdigit() else None, True

    async def _ended(self, call: _Call, status: str, cause: int | None, talked: bool) -> None:
        with logged(log, "writing the end of callback call %s", call.call_id):
            await self._worklist.call_ended(call.call_id, status, cause)
        with logged(log, "writing the end of callback call %s", call.call_id):
            await self._calls.step(call.call_id, "callback_dial", {"status": status, "cause": cause})
            await self._calls.end(call.call_id, f"callback_{status.lower()}"[:32], self._clock())
        log.info("callback call %s of item %s ended: %s", call.call_id, call.item, status)
        await self._acd.after_call_out(call.agent, call.token, call.before, talked)

    def _on_user_event(self, event: AmiMessage) -> None:
        call = self._calling.get(str(event.get("CallId", "")))
        if call is None:
            return
        name = event.get("UserEvent")
        if name == "HotlineCallbackAnswered" and not call.answered.done():
            call.answered.set_result(None)
            task = asyncio.create_task(self._citizen_answered(call))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif name == "HotlineCallbackDial" and not call.ended.done():
            call.ended.set_result(event)

    async def _citizen_answered(self, call: _Call) -> None:
        with logged(log, "writing the answer of callback call %s", call.call_id):
            await self._calls.answered(call.call_id, self._clock())
            await self._step(call, "citizen_answered", {})

    async def _step(self, call: _Call, step: str, detail: dict[str, object]) -> None:
        with logged(log, "writing step %s of callback call %s", step, call.call_id):
            await self._calls.step(call.call_id, step, detail)

    async def close(self) -> None:
        """Stop following calls (the calls themselves go on in Asterisk; a restart gives their items back)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
