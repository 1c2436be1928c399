"""After a crash: the ACD's view rebuilt from Redis and from what Asterisk is really doing.

The service may die (even by SIGKILL) while callers wait and agents talk. Asterisk and Redis go on:
waiting callers hear music in the queue context, conversations stay bridged. On restart the router
compares the calls and agents kept in Redis with Asterisk's live channels (CoreShowChannels):

- a waiting caller whose channel is alive keeps their place; one who hung up meanwhile is forgotten;
- an agent whose phone is bridged is talking: the call counts as connected and the router follows the
  phone's channel to wrap-up and ready, as if it had offered the call itself;
- an offer that was still ringing is withdrawn (its answer could no longer be followed): the caller goes
  back to their original place and the agent stays ready, since missing it was not the agent's fault;
- an agent in wrap-up finishes it; one whose call ended while the service was down gets their wrap-up;
- a three-way party or a consulted seat is followed as a talking agent, and the call may take a new party.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from acd.store import AcdStore, Reservation
from hotline.core.asterisk.ami import AmiClient, AmiError

log = logging.getLogger(__name__)

BUSY_STATES = ("offered", "on_call", "wrap_up")


@dataclass(frozen=True)
class LiveChannel:
    """One channel Asterisk has now."""

    name: str
    uniqueid: str
    linkedid: str
    bridge: str

    @classmethod
    def of(cls, event: Mapping[str, str]) -> LiveChannel:
        return cls(*(str(event.get(k, "")) for k in ("Channel", "Uniqueid", "Linkedid", "BridgeId")))


@dataclass
class ResyncReport:
    """What the resync found; logged and shown in health."""

    waiting: int = 0
    talking: int = 0
    requeued: int = 0
    gone: dict[str, str] = field(default_factory=dict)  # call -> its state: calls that ended while unobserved
    freed: int = 0  # agents whose call ended while the service was down
    answered: dict[str, str] = field(default_factory=dict)  # call -> agent: offers answered meanwhile
    alive: frozenset[str] = frozenset()  # the Uniqueids and Linkedids Asterisk has now

    def summary(self) -> str:
        return (f"{self.waiting} waiting kept, {self.talking} conversations followed, {self.requeued} offers "
                f"withdrawn and requeued, {len(self.gone)} calls ended meanwhile, {self.freed} agents freed")


FollowTalk = Callable[[str, str, LiveChannel], None]  # agent, token, the agent's channel
FollowWrapUp = Callable[[str, str], None]  # agent, token


async def _live_channels(ami: AmiClient) -> list[LiveChannel]:
    return [LiveChannel.of(e) for e in await ami.action_list("CoreShowChannels", timeout=15)]


class Resync:
    """One pass over Redis against Asterisk's channels; the router supplies how to follow what goes on."""

    def __init__(self, store: AcdStore, ami: AmiClient, follow_talk: FollowTalk,
                 follow_wrap_up: FollowWrapUp) -> None:
        self._store = store
        self._ami = ami
        self._follow_talk = follow_talk
        self._follow_wrap_up = follow_wrap_up

    async def run(self) -> ResyncReport:
        channels = await _live_channels(self._ami)
        alive = {c.uniqueid for c in channels}
        report = ResyncReport(alive=frozenset(i for c in channels for i in (c.uniqueid, c.linkedid)))
        for agent, info in (await self._store.agents()).items():
            if info.get("state") in BUSY_STATES:
                await self._agent(agent, info, channels, report)
        for call_id, call in (await self._store.calls()).items():
            if call_id not in alive:
                report.gone[call_id] = await self._store.forget_call(call_id) or ""
            elif call.get("state") == "waiting":
                report.waiting += 1
            elif call.get("third") or call.get("consult"):
                # the party's seat is followed like any talking agent; the bookkeeping of the three-way call
                # or consultation died with the old service, so the call may take a new party again
                await self._store.note_call(call_id, third="", consult="")
        return report

    async def _agent(self, agent: str, info: dict[str, str], channels: list[LiveChannel],
                     report: ResyncReport) -> None:
        token, call_id = info.get("token", ""), info.get("call", "")
        own = [c for c in channels if c.name.startswith(f"PJSIP/{agent}-")]
        talking = next((c for c in own if c.bridge), None)
        call = await self._store.call(call_id) if call_id else {}
        if talking is not None:
            if call.get("state") == "offered" and await self._store.connected(Reservation(
                    call_id, agent, token, call.get("channel", ""), call.get("caller", ""))):
                report.answered[call_id] = agent  # answered while nobody was watching
            if call:
                await self._store.note_call(call_id, agent_channel=talking.name)
            self._follow_talk(agent, token, talking)
            report.talking += 1
            return
        for ringing in own:  # an offer nobody can follow any more
            try:
                await self._ami.action("Hangup", {"Channel": ringing.name})
            except AmiError as exc:
                log.info("withdrawn offer to %s already gone: %s", agent, exc)
        if info.get("state") == "offered":
            if call.get("state") == "offered" and await self._store.requeue(
                    Reservation(call_id, agent, token, call.get("channel", ""), call.get("caller", ""))):
                report.requeued += 1
            await self._store.set_agent_state(agent, "ready", token=token, reason="offer withdrawn at restart")
            return
        if info.get("state") == "on_call":
            await self._store.start_wrap_up(agent, token, 0.0)
            report.freed += 1
        self._follow_wrap_up(agent, token)
