"""Agents' phones keep the ACD honest: a phone that unregisters (or stops answering qualify) makes a
ready agent paused with the reason, so nobody is offered to a seat whose phone is gone; when the
phone registers again the agent is ready again. After every AMI (re)connect the contacts are
re-read, since events may have been missed while the link was down."""

from __future__ import annotations

import logging
from collections.abc import Callable

from acd.store import AcdStore
from hotline.core.asterisk.ami import AmiClient, AmiError, AmiMessage

log = logging.getLogger(__name__)

PHONE_GONE = "phone unregistered"
_GONE = frozenset({"Removed", "Unreachable"})
_BACK = frozenset({"Created", "Reachable"})


class PhoneWatch:
    """AMI ContactStatus → agent state."""

    def __init__(self, store: AcdStore, ami: AmiClient, on_ready: Callable[[], None]) -> None:
        self._store = store
        self._ami = ami
        self._on_ready = on_ready

    def attach(self) -> None:
        self._ami.subscribe("ContactStatus", self._on_contact)
        self._ami.on_connected(self.resync)

    async def _on_contact(self, event: AmiMessage) -> None:
        agent = str(event.get("AOR") or event.get("EndpointName") or "")
        status = str(event.get("ContactStatus", ""))
        if status in _GONE:
            await self.phone_gone(agent)
        elif status in _BACK:
            await self.phone_back(agent)

    async def phone_gone(self, agent: str) -> None:
        state = (await self._store.agent(agent)).get("state")
        if state == "ready":  # talking or ringing agents finish: the call itself tells what happened
            await self._store.set_agent_state(agent, "paused", reason=PHONE_GONE)
            log.warning("agent %s paused: %s", agent, PHONE_GONE)

    async def phone_back(self, agent: str) -> None:
        info = await self._store.agent(agent)
        if info.get("state") == "paused" and info.get("reason") == PHONE_GONE:
            await self._store.set_agent_state(agent, "ready", reason="phone registered again")
            log.info("agent %s ready again: phone registered", agent)
            self._on_ready()

    async def resync(self) -> None:
        """Compare every agent with the registered contacts (after start and every AMI reconnect)."""
        try:
            contacts = await self._ami.action_list("PJSIPShowContacts")
        except AmiError as exc:
            log.warning("could not read the registered contacts: %s", exc)
            return
        registered = {str(c.get("Aor", "")) for c in contacts if c.get("Status") not in _GONE}
        for agent in await self._store.agents():
            if agent in registered:
                await self.phone_back(agent)
            else:
                await self.phone_gone(agent)
