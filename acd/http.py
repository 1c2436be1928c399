"""Agents and the queue over HTTP: `GET /api/agents`, `POST /api/agents/{agent}/state`, `GET /api/acd/queue`,
`GET /api/acd/stats` (service level per skill), `GET /api/acd/events` (websocket live feed),
`POST /api/calls/{call_id}/silent` (the agent hands a silent caller to the IVR's silent-caller procedure),
`POST /api/calls/{call_id}/three-way` and `/leave` (a third party joins; the agent drops out)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any, Protocol

from aiohttp import web

from acd.router import NotWithAgent
from acd.store import today
from acd.threeway import ThreeWayRefused
from hotline.core.web.access import audited, json_object
from hotline.core.web.auth import principal
from hotline.core.web.errors import error
from hotline.core.web.routes import RouteTable

STATES = ("ready", "paused", "signed_out")
WATCHERS = frozenset({"supervisor", "admin", "auditor"})


class AgentControl(Protocol):
    async def agents(self) -> dict[str, dict[str, str]]: ...
    async def waiting(self) -> list[dict[str, str]]: ...
    async def set_agent_state(self, agent: str, state: str, reason: str = "") -> bool: ...
    async def call_agent(self, call_id: str) -> str | None: ...
    async def hand_to_silent_check(self, call_id: str) -> bool: ...
    def events(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...
    async def stats(self, day: str) -> dict[str, dict[str, float]]: ...
    async def spy(self, agent: str, phone: str, mode: str) -> None: ...
    async def transfer_to_skill(self, call_id: str, skill: str) -> None: ...
    async def transfer_to_linkage(self, call_id: str, number: str) -> None: ...
    async def three_way(self, call_id: str, *, agent: str | None = None,
                        number: str | None = None) -> dict[str, str]: ...
    async def agent_leaves(self, call_id: str) -> str: ...
    async def consult(self, call_id: str, *, agent: str | None = None,
                      number: str | None = None) -> dict[str, str]: ...
    async def consult_complete(self, call_id: str) -> dict[str, str]: ...
    async def consult_cancel(self, call_id: str) -> dict[str, str]: ...
    async def extend_wrap_up(self, agent: str, seconds: float) -> float | None: ...


ACD = web.AppKey("acd", AgentControl)


async def _call_with_its_agent(request: web.Request) -> tuple[str, str | None, bool]:
    """(call id, the agent talking with the caller, whether this principal may act on the call):
    the call's own agent or a supervisor."""
    who = principal(request)
    call_id = request.match_info["call_id"]
    agent = await request.app[ACD].call_agent(call_id)
    allowed = who.role in ("supervisor", "admin") or (who.role == "agent" and agent is not None
                                                      and who.agent_id == agent)
    return call_id, agent, allowed


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
    await audited(request, "agents.state", f"agents/{agent}", True, state=state, reason=reason)
    return web.json_response({"agent": agent, "state": state})


async def queue(request: web.Request) -> web.Response:
    who = principal(request)
    if who.role not in WATCHERS:
        return error(403, "forbidden", f"role {who.role} may not see the queue")
    return web.json_response({"waiting": await request.app[ACD].waiting()})


async def silent_check(request: web.Request) -> web.Response:
    """The agent hears nothing: the IVR asks the caller three times, the agent is free at once."""
    call_id, agent, allowed = await _call_with_its_agent(request)
    await audited(request, "calls.silent", f"calls/{call_id}", allowed, agent=agent)
    if not allowed:
        return error(403, "forbidden", "only the call's agent or a supervisor may hand it over")
    if agent is None or not await request.app[ACD].hand_to_silent_check(call_id):
        return error(409, "not_connected", f"call {call_id} is not with an agent now")
    return web.json_response({"call_id": call_id, "handed_over": True})


async def stats(request: web.Request) -> web.Response:
    """Per skill for a day (China time, default today): offered, answered, within 15 s, abandoned, waits."""
    who = principal(request)
    if who.role not in WATCHERS:
        return error(403, "forbidden", f"role {who.role} may not see the statistics")
    day = request.query.get("day") or today()
    try:
        date.fromisoformat(day)
    except ValueError:
        return error(400, "bad_param", "day must be YYYY-MM-DD")
    return web.json_response({"day": day, "skills": await request.app[ACD].stats(day)})


async def live_events(request: web.Request) -> web.StreamResponse:
    """Websocket: queue and agent events as JSON messages; an agent sees only their own."""
    who = principal(request)
    allowed = who.role in WATCHERS or (who.role == "agent" and who.agent_id is not None)
    await audited(request, "acd.events", "acd/events", allowed)
    if not allowed:
        return error(403, "forbidden", f"role {who.role} may not watch the ACD")
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    async with request.app[ACD].events() as feed:

        async def pump() -> None:
            async for event in feed:
                if who.role == "agent" and event.get("agent") != who.agent_id:
                    continue
                await ws.send_json(event)

        pumping = asyncio.create_task(pump())
        try:
            async for _ in ws:  # the client says nothing; this ends when it goes away
                pass
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pumping
    return ws


async def spy(request: web.Request) -> web.Response:
    """A supervisor listens to, whispers to or joins an agent's call on their own phone (ChanSpy)."""
    who = principal(request)
    agent = request.match_info["agent"]
    body = await json_object(request)
    if body is None or not isinstance(body.get("phone"), str) or not str(body["phone"]).isdigit():
        return error(400, "bad_json", 'send {"mode": "listen" | "whisper" | "barge", "phone": "<your phone>"}')
    mode, phone = str(body.get("mode", "listen")), str(body["phone"])
    allowed = who.role in ("supervisor", "admin")
    await audited(request, f"agents.spy.{mode}", f"agents/{agent}", allowed, phone=phone)
    if not allowed:
        return error(403, "forbidden", "only supervisors may listen in")
    try:
        await request.app[ACD].spy(agent, phone, mode)
    except NotWithAgent as exc:
        return error(409, "cannot_spy", str(exc))
    except ValueError as exc:
        return error(400, "cannot_spy", str(exc))
    return web.json_response({"agent": agent, "phone": phone, "mode": mode, "ringing": True}, status=202)


async def transfer(request: web.Request) -> web.Response:
    """Blind transfer of the agent's caller: to a skill or sub-centre `{"skill": "tax"}`, or one-key to an
    emergency linkage number `{"linkage": "110"}`."""
    call_id, agent, allowed = await _call_with_its_agent(request)
    body = await json_object(request) or {}
    skill, linkage = body.get("skill"), body.get("linkage")
    await audited(request, "calls.transfer", f"calls/{call_id}", allowed, agent=agent, skill=skill, linkage=linkage)
    if not allowed:
        return error(403, "forbidden", "only the call's agent or a supervisor may transfer it")
    acd = request.app[ACD]
    try:
        if isinstance(linkage, str) and linkage and skill is None:
            await acd.transfer_to_linkage(call_id, linkage)
        elif isinstance(skill, str) and skill and linkage is None:
            await acd.transfer_to_skill(call_id, skill)
        else:
            return error(400, "bad_json", 'send {"skill": "<skill id>"} or {"linkage": "110"}')
    except NotWithAgent as exc:
        return error(409, "cannot_transfer", str(exc))
    except ValueError as exc:
        return error(400, "cannot_transfer", str(exc))
    return web.json_response({"call_id": call_id, "skill": skill, "linkage": linkage, "transferred": True})


async def _bring_in(request: web.Request, action: str) -> web.Response:
    """A second party for the agent's call, named in the body (`three_way` or `consult`); audited."""
    call_id, agent, allowed = await _call_with_its_agent(request)
    body = await json_object(request) or {}
    party, number = body.get("agent"), body.get("number")
    await audited(request, f"calls.{action}", f"calls/{call_id}", allowed, agent=agent, party=party, number=number)
    if not allowed:
        return error(403, "forbidden", "only the call's agent or a supervisor may bring in another party")
    if not (isinstance(party, str) and party and number is None) and not (
            isinstance(number, str) and number and party is None):
        return error(400, "bad_json", 'send {"agent": "<expert seat>"} or {"number": "<outside number>"}')
    acd = request.app[ACD]
    start = acd.three_way if action == "three_way" else acd.consult
    try:
        started = await start(call_id, agent=party, number=number)
    except ThreeWayRefused as exc:
        return error(409, f"cannot_{action}", str(exc))
    except ValueError as exc:
        return error(400, f"cannot_{action}", str(exc))
    return web.json_response(started, status=202)


async def three_way(request: web.Request) -> web.Response:
    """Ring a third party into the agent's call: `{"agent": "8003"}` (an expert or sub-centre seat) or
    `{"number": "..."}` (a department outside). 202: ringing; the outcome goes on the call record."""
    return await _bring_in(request, "three_way")


async def consult(request: web.Request) -> web.Response:
    """Attended transfer: the citizen on hold (music), the agent rings `{"agent"}` or `{"number"}` and talks
    to them first; then `/consult/complete` hands the citizen over or `/consult/cancel` goes back."""
    return await _bring_in(request, "consult")


async def consult_end(request: web.Request) -> web.Response:
    """`/consult/complete` (the citizen goes to the party, the agent to wrap-up) or `/consult/cancel`."""
    call_id, agent, allowed = await _call_with_its_agent(request)
    how = request.match_info["how"]
    await audited(request, f"calls.consult_{how}", f"calls/{call_id}", allowed, agent=agent)
    if not allowed:
        return error(403, "forbidden", "only the call's agent or a supervisor may end the consultation")
    acd = request.app[ACD]
    try:
        done = await (acd.consult_complete(call_id) if how == "complete" else acd.consult_cancel(call_id))
    except ThreeWayRefused as exc:
        return error(409, f"cannot_{how}", str(exc))
    return web.json_response(done)


async def leave(request: web.Request) -> web.Response:
    """The agent drops out of a three-way call; the citizen and the third party go on talking."""
    call_id, agent, allowed = await _call_with_its_agent(request)
    await audited(request, "calls.leave", f"calls/{call_id}", allowed, agent=agent)
    if not allowed:
        return error(403, "forbidden", "only the call's agent or a supervisor may take the agent off the call")
    try:
        left = await request.app[ACD].agent_leaves(call_id)
    except ThreeWayRefused as exc:
        return error(409, "cannot_leave", str(exc))
    return web.json_response({"call_id": call_id, "agent_left": left})


async def wrap_up(request: web.Request) -> web.Response:
    """`{"extend_s": 60}`: the agent needs more after-call work (their own, or a supervisor for them)."""
    who, agent = principal(request), request.match_info["agent"]
    allowed = who.role in ("supervisor", "admin") or (who.role == "agent" and who.agent_id == agent)
    body = await json_object(request) or {}
    extend = body.get("extend_s")
    await audited(request, "agents.wrap_up", f"agents/{agent}", allowed, extend_s=extend)
    if not allowed:
        return error(403, "forbidden", "only the agent or a supervisor may extend this agent's wrap-up")
    if isinstance(extend, bool) or not isinstance(extend, int | float) or not 1 <= extend <= 600:
        return error(400, "bad_json", 'send {"extend_s": <1 to 600 seconds>}')
    left = await request.app[ACD].extend_wrap_up(agent, float(extend))
    if left is None:
        return error(409, "not_in_wrap_up", f"agent {agent} is not in wrap-up")
    return web.json_response({"agent": agent, "state": "wrap_up", "left_s": round(left, 1)})


def routes(acd: AgentControl) -> RouteTable:
    table = RouteTable("acd")
    table.provide(ACD, acd)
    for method, path, handler in (
        ("GET", "/api/agents", list_agents), ("POST", "/api/agents/{agent}/state", set_state),
        ("POST", "/api/agents/{agent}/wrap-up", wrap_up), ("GET", "/api/acd/queue", queue),
        ("GET", "/api/acd/stats", stats), ("POST", "/api/agents/{agent}/spy", spy),
        ("GET", "/api/acd/events", live_events), ("POST", "/api/calls/{call_id}/silent", silent_check),
        ("POST", "/api/calls/{call_id}/transfer", transfer), ("POST", "/api/calls/{call_id}/three-way", three_way),
        ("POST", "/api/calls/{call_id}/leave", leave), ("POST", "/api/calls/{call_id}/consult", consult),
        ("POST", "/api/calls/{call_id}/consult/{how:complete|cancel}", consult_end),
    ):
        table.add(method, path, summary=handler.__name__)(handler)
    return table
