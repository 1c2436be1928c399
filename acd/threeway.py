"""Three-way calls (R-ACD-3): the citizen, the agent and an expert seat, a sub-centre or a department.

The third party's phone is originated into the bridge the caller and agent already share (BridgeAdd):
a basic bridge with three channels mixes all three, and when one of them hangs up the other two stay
together. So the agent can drop out (their leg is hung up) and the citizen goes on with the expert;
when the last of the others leaves, the caller's after-agent destination takes over (the rating).
Recording continues on the caller's channel throughout. A seat taken as the third party is claimed
atomically from the ready agents, so the router cannot offer them another caller at the same time.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from acd.store import AcdStore
from acd.tasks import TaskSet
from dialplans.dialout import DialOutGuard
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient, AmiError
from hotline.core.logged import logged

log = logging.getLogger(__name__)


class ThreeWayRefused(RuntimeError):
    """The call is not with an agent, a three-way call is already on, or the party cannot be taken."""


async def take_party(store: AcdStore, dialout: DialOutGuard, call_id: str, agent: str | None, number: str | None,
                     reason: str) -> tuple[dict[str, str], str, str | None]:
    """Check a second party for an agent's call (a seat, claimed from the ready agents, or an outside
    number, which passes the dial-out check for `reason` and counts against the agent's hour): the call's
    live state, the party, and the seat's token. ValueError for a bad party, DialOutRefused for a number
    that may not be dialled, ThreeWayRefused when the call is not with an agent, already has one, or the
    seat is not ready."""
    if (agent is None) == (number is None):
        raise ValueError("name one party: an agent (expert or sub-centre seat) or an outside number")
    if agent is not None and not await store.agent(agent):
        raise ValueError(f"no agent {agent}")
    if number is not None:
        dialout.screen(reason, number)
    call = await store.call(call_id)
    if call.get("state") != "connected" or not call.get("agent_channel"):
        raise ThreeWayRefused(f"call {call_id} is not with an agent now")
    if call.get("third") or call.get("consult"):
        raise ThreeWayRefused(f"call {call_id} already has a second party ({call.get('third') or call['consult']})")
    if agent == call.get("agent"):
        raise ValueError("the call's own agent is already on it")
    token = None
    if number is not None:
        await dialout.check(reason, number, agent=call.get("agent") or None)
    if agent is not None:
        token = await store.claim(agent, call_id, reason)
        if token is None:
            raise ThreeWayRefused(f"agent {agent} is not ready")
    return call, agent or str(number), token


async def record_step(calls: CallRecords, call_id: str, step: str, detail: dict[str, object]) -> None:
    """A step on the call record; the call goes on even when the database cannot take it now."""
    with logged(log, "writing step %s of call %s", step, call_id):
        await calls.step(call_id, step, detail)


async def release_party(store: AcdStore, agent: str | None, token: str | None, wrap_up_s: float | None,
                        poke: Callable[[], None]) -> None:
    """A claimed seat is free again: after its wrap-up when it talked (`wrap_up_s`), else at once."""
    if agent is None or token is None:
        return
    if wrap_up_s is not None and await store.start_wrap_up(agent, token, wrap_up_s):
        await store.wait_out_wrap_up(agent)  # extendable like any wrap-up
    if await store.set_agent_state(agent, "ready", token=token):
        poke()


@dataclass(frozen=True)
class ThreeWaySettings:
    ring_timeout_s: float = 20.0
    wrap_up_s: float = 5.0
    outside_context: str = "hotline-three-way"  # dials an outside number through the carrier


class ThreeWay:
    def __init__(self, store: AcdStore, ami: AmiClient, calls: CallRecords, settings: ThreeWaySettings,
                 poke: Callable[[], None], dialout: DialOutGuard) -> None:
        self._store, self._ami, self._calls, self._settings = store, ami, calls, settings
        self._dialout = dialout
        self._poke = poke
        self._legs = TaskSet()

    async def add(self, call_id: str, *, agent: str | None = None, number: str | None = None) -> dict[str, str]:
        """Ring the third party into the call; returns at once (the outcome goes on the call record).
        ValueError for a bad party, ThreeWayRefused when the call or the seat cannot take it now."""
        call, party, token = await take_party(self._store, self._dialout, call_id, agent, number, "three_way")
        await self._store.note_call(call_id, third=party)
        self._legs.spawn(self._ring(call_id, call, party, agent, token))
        return {"call_id": call_id, "third": party, "status": "ringing"}

    async def _ring(self, call_id: str, call: dict[str, str], party: str, agent: str | None,
                    token: str | None) -> None:
        channel = f"PJSIP/{agent}" if agent else f"Local/{party}@{self._settings.outside_context}/n"
        caller = call.get("caller", "")
        try:
            origination = await self._ami.originate(
                channel, application="BridgeAdd", data=call["channel"],
                caller_id=f'"三方 {caller}" <{caller}>', timeout_s=self._settings.ring_timeout_s,
                variables={"HOTLINE_CALL_ID": call_id})
            result = await origination.result(timeout=self._settings.ring_timeout_s + 10)
            answered, reason = result.answered, result.reason.name.lower()
        except (AmiError, TimeoutError) as exc:
            answered, reason = False, f"failed: {exc}"
        if not answered:
            log.info("three-way party %s for call %s not reached: %s", party, call_id, reason)
            await self._store.note_call(call_id, third="")
            await self._step(call_id, "three_way_failed", {"with": party, "reason": reason})
            await release_party(self._store, agent, token, None, self._poke)
            return
        log.info("call %s is three-way with %s (agent %s)", call_id, party, call.get("agent"))
        await self._step(call_id, "three_way", {"from_agent": call.get("agent"), "with": party,
                                                "seat": "agent" if agent else "outside"})
        with contextlib.suppress(AmiError, TimeoutError):
            await origination.hangup(timeout=4 * 3600)
        await self._store.note_call(call_id, third="")
        await self._step(call_id, "three_way_left", {"with": party})
        await release_party(self._store, agent, token, self._settings.wrap_up_s, self._poke)

    async def agent_leaves(self, call_id: str) -> str:
        """The call's agent drops out; the caller stays with the third party. Returns the agent."""
        call = await self._store.call(call_id)
        if call.get("state") != "connected" or not call.get("agent_channel"):
            raise ThreeWayRefused(f"call {call_id} is not with an agent now")
        if not call.get("third"):
            raise ThreeWayRefused("no third party is on the call: hang up instead (the caller goes to the rating)")
        try:
            await self._ami.action("Hangup", {"Channel": call["agent_channel"]})
        except AmiError as exc:
            raise ThreeWayRefused(f"could not take agent {call.get('agent')} off the call: {exc}") from exc
        await self._step(call_id, "agent_left", {"agent": call.get("agent"), "caller_with": call["third"]})
        return call.get("agent", "")

    async def _step(self, call_id: str, step: str, detail: dict[str, object]) -> None:
        await record_step(self._calls, call_id, step, detail)

    async def close(self) -> None:
        await self._legs.close()
