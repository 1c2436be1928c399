"""Agents' phone feature codes (R-ACD-1): state changes from the softphone, without the console.

`[agents]` sends `*21` ready, `*22` pause, `*23` sign out and `*24` one more minute of wrap-up to
`agi://…/agent/code?code=<n>&agent=${CHANNEL(endpoint)}`: the agent is the authenticated phone, never a
digit the caller could key. A short Chinese prompt confirms. While a call is with the agent the state
stays as it is (it belongs to the call); the change is logged like the API's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from acd.router import CALL_OWNED
from hotline.core.asterisk.agi import AgiCall

log = logging.getLogger(__name__)

CODES = {"21": "ready", "22": "paused", "23": "signed_out", "24": "wrap_up"}
WRAP_UP_MORE_S = 60
BUSY = CALL_OWNED  # the call owns the agent's state


class AgentStates(Protocol):
    async def agents(self) -> dict[str, dict[str, str]]: ...
    async def set_agent_state(self, agent: str, state: str, reason: str = "") -> bool: ...
    async def extend_wrap_up(self, agent: str, seconds: float) -> float | None: ...


@dataclass(frozen=True)
class AgentCodeFlow:
    acd: AgentStates
    sounds_dir: str

    async def __call__(self, call: AgiCall) -> None:
        agent, code = call.params.get("agent", ""), call.params.get("code", "")
        await call.answer()
        await call.stream_file(f"{self.sounds_dir}/{await self._apply(agent, code)}")

    async def _apply(self, agent: str, code: str) -> str:
        """Make the change; the prompt that says what happened."""
        wanted = CODES.get(code)
        current = (await self.acd.agents()).get(agent)
        if wanted is None or current is None:
            log.warning("phone feature code *%s from %r: no such code or agent", code, agent)
            return "agent_code_invalid"
        if wanted == "wrap_up":
            left = await self.acd.extend_wrap_up(agent, WRAP_UP_MORE_S)
            return "agent_wrap_up_extended" if left is not None else "agent_not_in_wrap_up"
        if current.get("state") in BUSY:
            return "agent_on_call"
        await self.acd.set_agent_state(agent, wanted, reason="phone feature code")
        log.info("agent %s is %s (phone feature code *%s)", agent, wanted, code)
        return f"agent_{wanted}"
