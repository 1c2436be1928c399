"""Agents and the queue over HTTP: `GET /api/agents`, `POST /api/agents/{agent}/state`, `GET /api/acd/queue`."""

from __future__ import annotations

import json
from typing import Protocol

from aiohttp import web

from hotline.web.auth import principal
from hotline.web.calls import AUDIT
from hotline.web.errors import error

STATES = ("ready", "paused", "signed_out")
WATCHERS = frozenset({"supervisor", "admin", "auditor"})


class AgentControl(Protocol):
    async def agents(self) -> dict[str, dict[str, str]]: ...
    async def waiting(self) -> list[dict[str, str]]: ...
    async def set_agent_state(self, agent: str, state: str, reason: str = "") -> bool: ...


ACD = web.AppKey("acd", AgentControl)


async def list_agents(request: web.Request) -> web.Response:
    who = principal(request)
    agents = await request.app[ACD].agents()
    if who.role == "agent":
        agents = {k: v for k, v in agents.items() if k == who.agent_id}
    elif who.role not in WATCHERS:
        return error(403, "forbidden", f"role {who.role} may not see agents")
    return web.json_response({"agents": [{"agent": k, **v} for k, v in agents.items()]})


async def set_state(request: web.Request) -> web.Response:
    who = principal(request)
    agent = request.match_info["agent"]
    if not (who.role in ("supervisor", "admin") or (who.role == "agent" and who.agent_id == agent)):
        return error(403, "forbidden", "only the agent or a supervisor may change this agent's state")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "bad_json", "send a JSON object like {\"state\": \"ready\"}")
    state = body.get("state") if isinstance(body, dict) else None
    reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
    if state not in STATES:
        return error(400, "bad_state", f"state must be one of {', '.join(STATES)}")
    if not await request.app[ACD].set_agent_state(agent, state, reason):
        return error(404, "agent_not_found", f"no agent {agent}")
    await request.app[AUDIT].record(actor=who.name, role=who.role, action="agents.state", resource=f"agents/{agent}",
                                    allowed=True, remote=request.remote, detail={"state": state, "reason": reason})
    return web.json_response({"agent": agent, "state": state})


async def queue(request: web.Request) -> web.Response:
    who = principal(request)
    if who.role not in WATCHERS:
        return error(403, "forbidden", f"role {who.role} may not see the queue")
    return web.json_response({"waiting": await request.app[ACD].waiting()})
