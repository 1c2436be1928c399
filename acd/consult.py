"""Consult (attended) transfer (R-ACD-3): the agent talks to an expert seat or an outside department
first, with the citizen on hold, then hands the citizen over or comes back to them.

It is Asterisk's own attended transfer, started over AMI (`Atxfer`) on the agent's leg, whose bridge
allows the agent to transfer (`Bridge(…,T…)`): the citizen hears music on hold, the agent's phone is
connected to `Local/<party>@hotline-consult-seat|out`, which rings the party and reports to the
service (`HotlineConsult` when it starts, `DialEnd` when the party answers, `HotlineConsultEnded` when
the leg ends). Completing hangs up the agent's leg: Asterisk then bridges the citizen with the party.
Cancelling hangs up the consultation leg: the agent is back with the citizen. A seat taken as the
party is claimed from the ready agents like a three-way party and freed (after wrap-up, if they
talked) when their leg ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from acd.store import AcdStore
from acd.tasks import TaskSet
from acd.threeway import ThreeWayRefused, record_step, release_party, take_party
from dialplans.dialout import DialOutGuard
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient, AmiError, AmiMessage
from hotline.core.logged import logged

log = logging.getLogger(__name__)

SEAT_CONTEXT = "hotline-consult-seat"
OUTSIDE_CONTEXT = "hotline-consult-out"


@dataclass
class ConsultLeg:
    """One consultation in progress."""

    call_id: str
    party: str
    seat: bool
    token: str | None
    channel: str = ""  # the Local channel half that rings the party
    party_channel: str = ""  # the party's own channel, once answered
    answered: bool = False
    completed: bool = False


class Consult:
    def __init__(self, store: AcdStore, ami: AmiClient, calls: CallRecords, wrap_up_s: float,
                 poke: Callable[[], None], dialout: DialOutGuard) -> None:
        self._store, self._ami, self._calls, self._wrap_up_s, self._poke = store, ami, calls, wrap_up_s, poke
        self._dialout = dialout
        self._legs: dict[str, ConsultLeg] = {}
        self._tasks = TaskSet()
        ami.subscribe("UserEvent", self._on_user_event)
        ami.subscribe("DialEnd", self._on_dial_end)

    async def start(self, call_id: str, *, agent: str | None = None, number: str | None = None) -> dict[str, str]:
        """Put the citizen on hold and ring the party for the agent. ValueError for a bad party,
        ThreeWayRefused when the call or the seat cannot take it now."""
        call, party, token = await take_party(self._store, self._dialout, call_id, agent, number, "consult")
        leg = ConsultLeg(call_id, party, agent is not None, token)
        self._legs[call_id] = leg
        await self._store.note_call(call_id, consult=party)
        agent_channel = call["agent_channel"]
        try:
            await self._ami.action("Setvar", {"Channel": agent_channel, "Variable": "__HOTLINE_CONSULT_CALL",
                                              "Value": call_id})
            await self._ami.action("Atxfer", {"Channel": agent_channel, "Exten": party,
                                              "Context": SEAT_CONTEXT if leg.seat else OUTSIDE_CONTEXT})
        except AmiError as exc:
            await self._end(leg, "failed")
            raise ThreeWayRefused(f"could not start the consultation: {exc}") from exc
        await self._step(call_id, "consult", {"from_agent": call.get("agent"), "with": party,
                                              "seat": "agent" if leg.seat else "outside"})
        log.info("call %s on hold: agent %s consults %s", call_id, call.get("agent"), party)
        return {"call_id": call_id, "consult": party, "status": "ringing"}

    async def complete(self, call_id: str) -> dict[str, str]:
        """Hand the citizen over to the party: the agent's leg ends (wrap-up) and Asterisk joins the two."""
        leg = self._leg(call_id)
        if not leg.answered:
            raise ThreeWayRefused(f"{leg.party} has not answered yet: wait, or cancel the consultation")
        call = await self._store.call(call_id)
        try:
            await self._ami.action("Hangup", {"Channel": call.get("agent_channel", "")})
        except AmiError as exc:
            raise ThreeWayRefused(f"could not complete the transfer: {exc}") from exc
        leg.completed = True
        if leg.seat:  # the seat is the call's agent from now on (further transfers are theirs)
            await self._store.note_call(call_id, agent=leg.party, agent_channel=leg.party_channel)
        await self._step(call_id, "consult_completed", {"from_agent": call.get("agent"), "to": leg.party})
        return {"call_id": call_id, "transferred_to": leg.party}

    async def cancel(self, call_id: str) -> dict[str, str]:
        """The agent goes back to the citizen; the party's leg is hung up."""
        leg = self._leg(call_id)
        if not leg.channel:
            raise ThreeWayRefused("the consultation is still being set up; try again in a moment")
        try:
            await self._ami.action("Hangup", {"Channel": leg.channel})
        except AmiError as exc:
            raise ThreeWayRefused(f"could not end the consultation: {exc}") from exc
        await self._step(call_id, "consult_cancelled", {"with": leg.party})
        return {"call_id": call_id, "back_with": "agent"}

    def _leg(self, call_id: str) -> ConsultLeg:
        leg = self._legs.get(call_id)
        if leg is None or leg.completed:
            raise ThreeWayRefused(f"call {call_id} has no consultation going on")
        return leg

    def _on_user_event(self, event: AmiMessage) -> None:
        leg = self._legs.get(str(event.get("CallId", "")))
        if leg is None:
            return
        name = event.get("UserEvent")
        if name == "HotlineConsult":
            leg.channel = str(event.get("Channel", ""))  # the channel that sent the event: the Local half
        elif name == "HotlineConsultEnded":
            self._tasks.spawn(self._end(leg, str(event.get("Status", ""))))

    def _on_dial_end(self, event: AmiMessage) -> None:
        leg = next((g for g in self._legs.values() if g.channel and g.channel == event.get("Channel")), None)
        if leg is None or event.get("DialStatus") != "ANSWER":
            return
        leg.answered, leg.party_channel = True, str(event.get("DestChannel", ""))
        self._tasks.spawn(self._step(leg.call_id, "consult_answered", {"by": leg.party}))

    async def close(self) -> None:
        await self._tasks.close()

    async def _end(self, leg: ConsultLeg, status: str) -> None:
        """The consultation leg is over (completed and finished, cancelled, not reached)."""
        if self._legs.pop(leg.call_id, None) is None:
            return
        with logged(log, "clearing the consultation of call %s", leg.call_id):
            await self._store.note_call(leg.call_id, consult="")
        if not leg.completed:
            await self._step(leg.call_id, "consult_ended", {"with": leg.party, "status": status.lower()})
        await release_party(self._store, leg.party if leg.seat else None, leg.token,
                            self._wrap_up_s if leg.answered else None, self._poke)

    async def _step(self, call_id: str, step: str, detail: dict[str, object]) -> None:
        await record_step(self._calls, call_id, step, detail)
