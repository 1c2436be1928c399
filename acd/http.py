"""Agents, the queue and calls in progress over HTTP: `/api/agents` (states, wrap-up, listening in),
`/api/acd/queue`, `/api/acd/stats` (service level per skill), `/api/acd/events` (websocket live feed), and
what an agent does with the caller they talk to: `/api/calls/{call_id}/silent`, `/transfer`, `/three-way`,
`/leave`, `/consult` (and `/consult/complete`, `/consult/cancel`), `/flag-emergency` (`acd.emergency`).

An agent acts on themself and on the calls they are talking on, a supervisor on their team's agents and
calls (a supervisor without a team: everyone's), admins on all. The access table decides; every access is
audited.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal, Protocol

from aiohttp import WSCloseCode, web
from pydantic import BaseModel

from acd.connection import ConnectionRate
from acd.emergency import EmergencyFlags, NoCallerNumber, UnknownCall
from acd.router import CALL_OWNED, NotWithAgent
from acd.schemas import (
    AgentLeft,
    AgentList,
    ConsultCancelled,
    ConsultCompleted,
    ConsultRinging,
    EmergencyFlag,
    EmergencyFlagged,
    HandedOver,
    SecondParty,
    SpyRequest,
    SpyRinging,
    StateChange,
    StateChanged,
    Stats,
    StatsQuery,
    ThreeWayRinging,
    Transferred,
    TransferRequest,
    Waiting,
    WrapUpExtension,
    WrapUpLeft,
)
from acd.store import today
from acd.threeway import ThreeWayRefused
from hotline.core.errors import BadRequest, Conflict, Invalid, NotFound
from hotline.core.web.bodies import read_body, read_query
from hotline.core.web.feed import FanOut
from hotline.core.web.policy import Grant, Scope, guarded
from hotline.core.web.routes import Handler, RouteTable
from hotline.core.web.sockets import SOCKETS


class AgentControl(Protocol):
    async def agents(self) -> dict[str, dict[str, str]]: ...
    async def waiting(self) -> list[dict[str, str]]: ...
    async def set_agent_state(self, agent: str, state: str, reason: str = "") -> bool: ...
    async def call_agent(self, call_id: str) -> str | None: ...
    async def hand_to_silent_check(self, call_id: str) -> bool: ...
    def events(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...
    async def stats(self, day: str) -> dict[str, dict[str, float]]: ...
    async def reports(self, day: str) -> dict[str, Any]: ...
    async def connection_rate(self) -> ConnectionRate: ...
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
SUPERVISOR_PHONES = web.AppKey("supervisor_phones", frozenset[str])  # the dialplan's `supervisors:`
FEED = web.AppKey("acd_feed", FanOut)  # the one subscription to the ACD's events, shared by the sockets
EMERGENCIES = web.AppKey("acd_emergencies", EmergencyFlags)



# Helpers


@contextlib.contextmanager
def refusals(what: str) -> Iterator[None]:
    """The ACD's refusals as this route's errors, `cannot_<what>`: 409 when the call, agent or seat cannot
    do it now, 400 when the request names something wrong (an unknown skill or seat, an unreachable phone)."""
    try:
        yield
    except (NotWithAgent, ThreeWayRefused) as exc:
        raise Conflict(str(exc), error_id=f"cannot_{what}") from exc
    except ValueError as exc:
        raise BadRequest(str(exc), error_id=f"cannot_{what}") from exc


async def _talking_agent(request: web.Request, grant: Grant, refusal: str) -> tuple[str, str | None]:
    """(call id, the agent talking with the caller); refused unless that agent is within the grant's reach."""
    call_id = request.match_info["call_id"]
    agent = await request.app[ACD].call_agent(call_id)
    grant.note(agent=agent)
    grant.require(grant.covers_agent(agent), refusal)
    return call_id, agent


def _sees(grant: Grant, event: dict[str, Any]) -> bool:
    """Whether the live feed shows `event`: an agent only their own, a supervisor their team's agents and
    the queue."""
    if str(event.get("event", "")).startswith("callback_"):
        return True  # the callback work list is the centre's: every desk keeps it up to date
    agent = event.get("agent")
    if agent is None:
        return grant.scope is not Scope.OWN
    return grant.covers_agent(str(agent))


# Agents and the queue

table = RouteTable("acd")


@table.get("/api/agents", summary="agents and their states (an agent sees only themself, a supervisor their team)",
           response=AgentList)
@guarded("agents.list")
async def list_agents(request: web.Request, grant: Grant) -> web.Response:
    agents = await request.app[ACD].agents()
    shown = [{"agent": k, **v} for k, v in agents.items() if grant.covers_agent(k)]
    grant.note(returned=len(shown))
    return web.json_response({"agents": shown})


@table.post("/api/agents/{agent}/state", summary="sign in ready, pause (with reason) or sign out an agent",
            body=StateChange, response=StateChanged)
@guarded("agents.state", resource="agents/{agent}")
async def set_state(request: web.Request, grant: Grant) -> web.Response:
    agent = request.match_info["agent"]
    grant.require(grant.covers_agent(agent), "only the agent or their supervisor may change this agent's state")
    change = await read_body(request, StateChange, error_id="bad_state", status=400)
    grant.note(state=change.state, reason=change.reason)
    now = (await request.app[ACD].agents()).get(agent, {}).get("state")
    if change.state == "ready" and now in CALL_OWNED:  # as the phone's feature codes: the call decides
        raise Conflict(f"agent {agent} is {now}: they are ready again when the call ends", error_id="agent_busy")
    if not await request.app[ACD].set_agent_state(agent, change.state, change.reason):
        raise NotFound(f"no agent {agent}", error_id="agent_not_found")
    return web.json_response({"agent": agent, "state": change.state})


@table.post("/api/agents/{agent}/wrap-up", summary="more after-call work: extend the agent's wrap-up "
            "(at most ten minutes from now)", body=WrapUpExtension, response=WrapUpLeft)
@guarded("agents.wrap_up", resource="agents/{agent}")
async def wrap_up(request: web.Request, grant: Grant) -> web.Response:
    agent = request.match_info["agent"]
    grant.require(grant.covers_agent(agent), "only the agent or their supervisor may extend this agent's wrap-up")
    extension = await read_body(request, WrapUpExtension, error_id="bad_json", status=400)
    grant.note(extend_s=extension.extend_s)
    left = await request.app[ACD].extend_wrap_up(agent, extension.extend_s)
    if left is None:
        raise Conflict(f"agent {agent} is not in wrap-up", error_id="not_in_wrap_up")
    return web.json_response({"agent": agent, "state": "wrap_up", "left_s": round(left, 1)})


@table.post("/api/agents/{agent}/spy", summary="ring the supervisor's phone into the agent's call: listen, "
            "whisper (only the agent hears) or barge (both hear) (ChanSpy)", body=SpyRequest,
            response=SpyRinging, status=202)
@guarded("agents.spy", resource="agents/{agent}")
async def spy(request: web.Request, grant: Grant) -> web.Response:
    agent = request.match_info["agent"]
    grant.require(grant.covers_agent(agent), "only the agent's supervisor may listen in")
    ask = await read_body(request, SpyRequest, error_id="bad_json", status=400)
    grant.action = f"agents.spy.{ask.mode}"
    grant.note(phone=ask.phone)
    if ask.phone not in request.app.get(SUPERVISOR_PHONES, frozenset()):
        raise Invalid(f"phone {ask.phone} is not a supervisor's phone (the dialplan's supervisors:); listening "
                      "in rings only those", error_id="not_a_supervisor_phone",
                      fields=[{"field": "phone", "message": "not a supervisor's phone"}])
    own = grant.who.agent_id  # a token made for a supervisor's phone (`--agent 9001`) listens from that one only
    grant.require(own is None or own == ask.phone, f"you listen in from your own phone, {own}")
    with refusals("spy"):
        await request.app[ACD].spy(agent, ask.phone, ask.mode)
    return web.json_response({"agent": agent, "phone": ask.phone, "mode": ask.mode, "ringing": True}, status=202)


@table.get("/api/acd/queue", summary="callers waiting, in routing order", response=Waiting)
@guarded("acd.queue")
async def queue(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response({"waiting": await request.app[ACD].waiting()})


@table.get("/api/acd/stats", summary="service level per skill for a day: offered, answered, answered_15s, "
           "abandoned, deflected, sl_15s, abandon_rate, wait_avg_s; the 24-hour connection rate (R-ACC-3); the day's "
           "callbacks (received, called back, reached, success rate)",
           query=StatsQuery, response=Stats)
@guarded("acd.stats")
async def stats(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, StatsQuery)
    day = q.day.isoformat() if q.day is not None else today()
    acd = request.app[ACD]
    return web.json_response({"day": day, "skills": await acd.stats(day),
                              "connection_24h": (await acd.connection_rate()).to_json(), **await acd.reports(day)})


@table.get("/api/acd/events", summary="websocket: live queue and agent events (queued, offered, connected, "
           "requeued, abandoned, ended, agent); an agent sees only their own, a supervisor their team's; "
           "everyone sees the callback work list's (callback_new, _claimed, _released, _calling, _call_ended, "
           "_outcome)",
           status=101)
@guarded("acd.events", resource="acd/events")
async def live_events(request: web.Request, grant: Grant) -> web.StreamResponse:
    """The feed runs until the client goes away, its token is revoked (4401) or it falls behind (1008); all
    sockets share one subscription; a token or the service over its socket cap gets 429. Its audit row is
    written when it opens."""
    sockets = request.app[SOCKETS]
    sockets.admit(grant.who)
    await grant.audit_now(request)
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=4096)  # the client has nothing to say (1009 beyond)
    await ws.prepare(request)
    async with sockets.hold(grant.who, ws), request.app[FEED].listen() as feed:

        async def pump() -> None:
            async for event in feed:
                if _sees(grant, event):
                    await ws.send_json(event)
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too slow for the live feed")

        pumping = asyncio.create_task(pump())
        try:
            async for _ in ws:  # the client says nothing; this ends when it goes away
                pass
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pumping
    return ws


# The agent's call


@table.post("/api/calls/{call_id}/silent", summary="hand a silent caller to the IVR's silent-caller check "
            "(the call's agent or a supervisor); the agent is free at once", response=HandedOver)
@guarded("calls.silent", resource="calls/{call_id}")
async def silent_check(request: web.Request, grant: Grant) -> web.Response:
    call_id, agent = await _talking_agent(request, grant, "only the call's agent or a supervisor may hand it over")
    if agent is None or not await request.app[ACD].hand_to_silent_check(call_id):
        raise Conflict(f"call {call_id} is not with an agent now", error_id="not_connected")
    return web.json_response({"call_id": call_id, "handed_over": True})


@table.post("/api/calls/{call_id}/transfer", summary="blind transfer of the caller to a skill or sub-centre, "
            "or one-key to 110/119/120/122 (the call's agent or a supervisor)", body=TransferRequest,
            response=Transferred)
@guarded("calls.transfer", resource="calls/{call_id}")
async def transfer(request: web.Request, grant: Grant) -> web.Response:
    call_id, _ = await _talking_agent(request, grant, "only the call's agent or a supervisor may transfer it")
    to = await read_body(request, TransferRequest, error_id="bad_json", status=400)
    grant.note(skill=to.skill, linkage=to.linkage)
    acd = request.app[ACD]
    with refusals("transfer"):
        if to.linkage is not None:
            await acd.transfer_to_linkage(call_id, to.linkage)
        elif to.skill is not None:
            await acd.transfer_to_skill(call_id, to.skill)
    return web.json_response({"call_id": call_id, "skill": to.skill, "linkage": to.linkage, "transferred": True})


def _bring_in(what: Literal["three_way", "consult"], summary: str, answer: type[BaseModel]) -> Handler:
    """The route that brings a second party, named in the body, into the agent's call; 202 while it rings."""

    @table.post(f"/api/calls/{{call_id}}/{what.replace('_', '-')}", summary=summary, body=SecondParty,
                response=answer, status=202, errors=(409, 429))  # 403/429: the dial-out check (toll fraud)
    @guarded(f"calls.{what}", resource="calls/{call_id}")
    async def bring_in(request: web.Request, grant: Grant) -> web.Response:
        call_id, _ = await _talking_agent(request, grant,
                                          "only the call's agent or a supervisor may bring in another party")
        party = await read_body(request, SecondParty, error_id="bad_json", status=400)
        grant.note(party=party.agent, number=party.number)
        acd = request.app[ACD]
        start = acd.three_way if what == "three_way" else acd.consult
        with refusals(what):
            started = await start(call_id, agent=party.agent, number=party.number)
        return web.json_response(started, status=202)

    return bring_in


three_way = _bring_in("three_way", "ring a third party into the call: an expert or sub-centre seat (agent) or a "
                      "department outside (number); the outcome is written on the call record", ThreeWayRinging)
consult = _bring_in("consult", "consult (attended) transfer: the caller on hold with music, the agent rings an "
                    "expert seat (agent) or a department outside (number) and talks to them first", ConsultRinging)


@table.post("/api/calls/{call_id}/leave", summary="the agent drops out of a three-way call; the citizen and "
            "the third party stay", response=AgentLeft)
@guarded("calls.leave", resource="calls/{call_id}")
async def leave(request: web.Request, grant: Grant) -> web.Response:
    call_id, _ = await _talking_agent(request, grant,
                                      "only the call's agent or a supervisor may take the agent off the call")
    with refusals("leave"):
        left = await request.app[ACD].agent_leaves(call_id)
    return web.json_response({"call_id": call_id, "agent_left": left})


def _end_consult(how: Literal["complete", "cancel"], summary: str, answer: type[BaseModel]) -> Handler:
    """The route that completes or cancels the call's consultation; audited as `calls.consult_<how>`."""

    @table.post(f"/api/calls/{{call_id}}/consult/{how}", summary=summary, response=answer)
    @guarded("calls.consult_end", resource="calls/{call_id}")
    async def end(request: web.Request, grant: Grant) -> web.Response:
        grant.action = f"calls.consult_{how}"
        call_id, _ = await _talking_agent(request, grant,
                                          "only the call's agent or a supervisor may end the consultation")
        acd = request.app[ACD]
        with refusals(how):
            done = await (acd.consult_complete(call_id) if how == "complete" else acd.consult_cancel(call_id))
        return web.json_response(done)

    return end


consult_complete = _end_consult("complete", "hand the caller over to the consulted party; the agent goes to wrap-up",
                                ConsultCompleted)
consult_cancel = _end_consult("cancel", "end the consultation; the agent is back with the caller", ConsultCancelled)


@table.post("/api/calls/{call_id}/flag-emergency", summary="flag the caller an emergency: their calls in the next "
            "hours queue before VIPs (the call's agent or a supervisor)", body=EmergencyFlag,
            response=EmergencyFlagged, errors=(404, 409))
@guarded("calls.flag_emergency", resource="calls/{call_id}")
async def flag_emergency(request: web.Request, grant: Grant) -> web.Response:
    call_id, _ = await _talking_agent(request, grant, "only the call's agent or a supervisor may flag its caller")
    flag = await read_body(request, EmergencyFlag, optional=True, error_id="bad_json", status=400)
    try:
        until = await request.app[EMERGENCIES].flag_caller_of(call_id, by=grant.who.name, note=flag.note)
    except UnknownCall as exc:
        raise NotFound(str(exc), error_id="call_not_found") from exc
    except NoCallerNumber as exc:
        raise Conflict(str(exc), error_id="no_caller_number") from exc
    grant.note(note=flag.note, until=until.isoformat())
    return web.json_response({"call_id": call_id, "flagged_until": until.isoformat()})


def routes(acd: AgentControl, supervisor_phones: frozenset[str], emergencies: EmergencyFlags) -> RouteTable:
    """The ACD's routes, bound to its router; spying rings only `supervisor_phones`."""
    bound = RouteTable(table.tag, list(table.routes))
    bound.provide(EMERGENCIES, emergencies)
    bound.provide(ACD, acd)
    bound.provide(SUPERVISOR_PHONES, supervisor_phones)
    bound.provide(FEED, FanOut(acd.events))
    return bound
