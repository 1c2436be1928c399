"""The agent directory over HTTP: `/api/directory/agents` (list, add, add in bulk, read, change, deactivate,
rotate the phone's password) and `/api/directory/teams`.

Admins manage everyone; a supervisor the agents of their own team (a supervisor with no team: everyone);
engineers and auditors read; an agent reads only themself. Every access is audited by `@guarded`; a phone's
password appears only in the answer of its rotation, never in a list nor in the audit log.
"""

from __future__ import annotations

from typing import NoReturn

from aiohttp import web

from acd.directory.schemas import (
    Added,
    AgentOut,
    AgentPatch,
    AgentsOut,
    BulkAgents,
    DirectoryQuery,
    NewAgent,
    NewTeam,
    PhoneSecret,
    SkillsOut,
    TeamOut,
    TeamsOut,
)
from acd.directory.service import AgentDirectory, AgentDraft, Refused, UnknownAgent
from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.core.web.bodies import read_body, read_query
from hotline.core.web.policy import Grant, Scope, guarded
from hotline.core.web.routes import RouteTable

DIRECTORY = web.AppKey("agent_directory", AgentDirectory)
AGENT = "/api/directory/agents/{agent:[0-9]+}"  # (a number of another length is no agent: 404)

table = RouteTable("directory")


def _draft(a: NewAgent) -> AgentDraft:
    return AgentDraft(a.id, a.name, a.seat, a.team, a.skills, a.phone, a.active)


def _refused(exc: Refused, error_id: str) -> NoReturn:
    fields = [p.to_json() for p in exc.problems]
    if exc.exists:
        raise Conflict(str(exc), error_id=error_id.replace("bad", "exists"), fields=fields) from None
    raise Invalid(str(exc), error_id=error_id, fields=fields) from None


def _own_team(grant: Grant, team: str | None) -> None:
    """A team supervisor adds agents to, and moves agents into, their own team only."""
    if grant.scope is Scope.TEAM and grant.who.group is not None:
        grant.require(team == grant.who.group, f"you look after team {grant.who.group}: agents of other teams "
                                               "are for their supervisors")


def _agent_in_reach(request: web.Request, grant: Grant) -> str:
    agent = request.match_info["agent"]
    grant.require(grant.covers_agent(agent), "only the agent's own supervisor or an admin may see or change them"
                  if grant.scope is not Scope.OWN else "an agent sees only themself")
    return agent


@table.get("/api/directory/agents", summary="the directory's agents (an agent sees themself, a supervisor their "
           "team); never the phones' passwords", query=DirectoryQuery, response=AgentsOut)
@guarded("directory.agents.list")
async def list_agents(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, DirectoryQuery)
    reach = grant.agents_in_reach()
    agents = [a for a in await request.app[DIRECTORY].agents(reach)
              if (q.team is None or a.team == q.team) and (q.active is None or a.active == q.active)]
    grant.note(returned=len(agents))
    return web.json_response({"agents": [a.to_json() for a in agents]})


@table.post("/api/directory/agents", summary="add an agent (409 if the number is taken); their phone's password "
            "is generated, and Asterisk has the phone within a second", body=NewAgent, response=AgentOut, status=201,
            errors=(409,))
@guarded("directory.agents.create", resource="directory/agents")
async def add_agent(request: web.Request, grant: Grant) -> web.Response:
    body = await read_body(request, NewAgent, error_id="bad_agent")
    grant.resource = f"directory/agents/{body.id}"
    _own_team(grant, body.team)
    try:
        (entry,) = await request.app[DIRECTORY].add([_draft(body)], grant.who.name)
    except Refused as exc:
        _refused(exc, "bad_agent")
    grant.note(team=entry.team, skills=entry.skills, phone=entry.phone)
    return web.json_response(entry.to_json(), status=201)


@table.post("/api/directory/agents/bulk", summary="add many agents at once: all of them or none, every bad row "
            "named; one render and reload of the phones", body=BulkAgents, response=Added, status=201)
@guarded("directory.agents.create", resource="directory/agents/bulk")
async def add_agents(request: web.Request, grant: Grant) -> web.Response:
    body = await read_body(request, BulkAgents, error_id="bad_agents")
    for a in body.agents:
        _own_team(grant, a.team)
    try:
        entries = await request.app[DIRECTORY].add([_draft(a) for a in body.agents], grant.who.name, bulk=True)
    except Refused as exc:
        grant.note(refused_rows=len({p.row for p in exc.problems}))
        _refused(exc, "bad_agents")
    grant.note(added=len(entries))
    return web.json_response({"added": len(entries), "agents": [e.to_json() for e in entries]}, status=201)


@table.get(AGENT, summary="one agent of the directory", response=AgentOut)
@guarded("directory.agents.read", resource="directory/agents/{agent}")
async def read_agent(request: web.Request, grant: Grant) -> web.Response:
    agent = _agent_in_reach(request, grant)
    try:
        entry = await request.app[DIRECTORY].agent(agent)
    except UnknownAgent as exc:
        raise NotFound(str(exc), error_id="agent_not_found") from None
    return web.json_response(entry.to_json())


@table.patch(AGENT, summary="change an agent's name, seat, team, skills, phone kind or active flag (the ACD and "
             "Asterisk follow)", body=AgentPatch, response=AgentOut)
@guarded("directory.agents.update", resource="directory/agents/{agent}")
async def change_agent(request: web.Request, grant: Grant) -> web.Response:
    agent = _agent_in_reach(request, grant)
    patch = await read_body(request, AgentPatch, error_id="bad_agent")
    changes = patch.changes()
    if "team" in changes:
        _own_team(grant, changes["team"])
    grant.note(**changes)
    try:
        entry = await request.app[DIRECTORY].change(agent, grant.who.name, **changes)
    except UnknownAgent as exc:
        raise NotFound(str(exc), error_id="agent_not_found") from None
    except Refused as exc:
        _refused(exc, "bad_agent")
    return web.json_response(entry.to_json())


@table.post(AGENT + "/deactivate", summary="deactivate an agent: signed out and offered no more calls; their phone "
            "is removed from Asterisk (a call in progress goes on)", response=AgentOut)
@guarded("directory.agents.deactivate", resource="directory/agents/{agent}")
async def deactivate(request: web.Request, grant: Grant) -> web.Response:
    agent = _agent_in_reach(request, grant)
    try:
        entry = await request.app[DIRECTORY].change(agent, grant.who.name, active=False)
    except UnknownAgent as exc:
        raise NotFound(str(exc), error_id="agent_not_found") from None
    return web.json_response(entry.to_json())


@table.post(AGENT + "/phone-secret", summary="a new SIP password for the agent's phone, shown this once (the old "
            "one stops working within a second)", response=PhoneSecret)
@guarded("directory.agents.phone_secret", resource="directory/agents/{agent}")
async def rotate_phone_secret(request: web.Request, grant: Grant) -> web.Response:
    agent = _agent_in_reach(request, grant)
    try:
        secret = await request.app[DIRECTORY].rotate_secret(agent)
    except UnknownAgent as exc:
        raise NotFound(str(exc), error_id="agent_not_found") from None
    grant.note(rotated=True)
    return web.json_response({"agent": agent, "username": agent, "secret": secret},
                             headers={"Cache-Control": "no-store"})


@table.get("/api/directory/skills", summary="the skills an agent may have (the dialplan file's) and their labels",
           response=SkillsOut)
@guarded("directory.skills.list")
async def list_skills(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response({"skills": request.app[DIRECTORY].skills()})


@table.get("/api/directory/teams", summary="the teams and their number of active agents", response=TeamsOut)
@guarded("directory.teams.list")
async def list_teams(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response({"teams": await request.app[DIRECTORY].teams()})


@table.post("/api/directory/teams", summary="add a team (409 if it exists)", body=NewTeam, response=TeamOut,
            status=201, errors=(409,))
@guarded("directory.teams.create", resource="directory/teams")
async def add_team(request: web.Request, grant: Grant) -> web.Response:
    body = await read_body(request, NewTeam, error_id="bad_team")
    grant.resource = f"directory/teams/{body.name}"
    try:
        team = await request.app[DIRECTORY].add_team(body.name, grant.who.name)
    except Refused as exc:
        _refused(exc, "bad_team")
    return web.json_response(team, status=201)


def routes(directory: AgentDirectory) -> RouteTable:
    """The directory's routes, bound to it."""
    bound = RouteTable(table.tag, list(table.routes))
    bound.provide(DIRECTORY, directory)
    return bound
