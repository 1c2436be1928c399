"""Call records and caller lists over HTTP: `/api/calls`, `/api/caller-lists` (R-ACC-7).

Agents read their own calls, supervisors their team's, auditors and admins all; supervisors and admins
keep the caller lists, auditors read them. The access table decides; every access is audited.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from hotline.calls import measures_http
from hotline.calls.caller_lists import KINDS, NUMBER, CallerLists
from hotline.calls.measures import CallerMeasures
from hotline.calls.records import CallRecords
from hotline.core.errors import Conflict, NotFound
from hotline.core.web.bodies import Body, Query, read_body, read_query
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable

CALLS = web.AppKey("calls", CallRecords)
LISTS = web.AppKey("caller_lists", CallerLists)
Kind = Literal["vip", "elderly", "watch", "blocked", "no_revisit"]
assert set(KINDS) == set(Kind.__args__)  # type: ignore[attr-defined]


class CallsQuery(Query):
    caller: Annotated[str | None, Field(pattern=r"^[0-9]{1,32}$")] = None
    sip_call_id: str | None = None
    agent: str | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class Route(BaseModel):
    mode: str | None = None
    skill: str | None = None
    prompt: str | None = None
    overflow: str | None = None


class CallOut(BaseModel):
    """One call into or out of the hotline, as the parts saw it."""

    call_id: str
    sip_call_id: str | None
    caller: str
    dialled: str
    started_at: str
    answered_at: str | None
    ended_at: str | None
    route: Route
    agent: str | None
    rating: int | None
    rating_status: Literal["rated", "not_rated"] | None
    outcome: str | None
    hangup_cause: str | None
    failsafe_reason: str | None
    steps: list[dict[str, Any]]
    recordings: list[dict[str, Any]]
    flags: list[str] = Field(description="the caller's labels when the call came in (vip, elderly, watch …)")
    watch: bool = Field(description="the caller is watched or warned (R-ACC-7): the agent is told")
    measure: dict[str, Any] | None = Field(description="the measure on the caller in force at the call, if any")
    direction: Literal["inbound", "outbound"] = Field(description="outbound: a call the hotline placed (a callback "
                                                      "by an agent, a revisit, a duty call); `caller` is then the "
                                                      "number called")


class CallList(BaseModel):
    calls: list[CallOut]


class ListQuery(Query):
    kind: Kind | None = None


class ListEntry(Body):
    number: Annotated[str, Field(pattern=NUMBER.pattern, description="3-20 digits, an optional leading +")]
    kind: Kind
    note: Annotated[str, Field(max_length=200)] = ""


call_table = RouteTable("calls")
list_table = RouteTable("calls")


@call_table.get("/api/calls", summary="call records, newest first (agents: their own; supervisors: their team's)",
           query=CallsQuery, response=CallList)
@guarded("calls.list")
async def list_calls(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, CallsQuery)
    calls = await request.app[CALLS].list(caller=q.caller, sip_call_id=q.sip_call_id, agent=q.agent,
                                          agents=grant.agents_in_reach(), limit=q.limit)
    grant.note(returned=len(calls))
    return web.json_response({"calls": [c.to_json() for c in calls]})


@call_table.get("/api/calls/{call_id}", summary="one call record", response=CallOut)
@guarded("calls.get", resource="calls/{call_id}")
async def get_call(request: web.Request, grant: Grant) -> web.Response:
    call_id = request.match_info["call_id"]
    call = await request.app[CALLS].get(call_id)
    if call is None or not grant.covers_agent(call.agent):  # to those who see only some: no call looks the same
        grant.require(call is None and grant.agents_in_reach() is None, "you may not read this call record")
        raise NotFound(f"no call {call_id}", error_id="call_not_found")
    return web.json_response(call.to_json())


@list_table.get("/api/caller-lists", summary="numbers on the caller lists", query=ListQuery)
@guarded("caller_lists.read")
async def list_entries(request: web.Request, grant: Grant) -> web.Response:
    q = read_query(request.query, ListQuery)
    return web.json_response({"entries": await request.app[LISTS].entries(q.kind)})


@list_table.post("/api/caller-lists", summary="put a number on a list: vip / elderly (priority), watch (warned), "
            "blocked (refused), no_revisit (never called back)", body=ListEntry, status=201)
@guarded("caller_lists.add", resource="caller-lists")
async def add_entry(request: web.Request, grant: Grant) -> web.Response:
    entry = await read_body(request, ListEntry, error_id="bad_entry", status=400)
    grant.resource = f"caller-lists/{entry.kind}/{entry.number}"
    added = await request.app[LISTS].add(entry.number, entry.kind, entry.note, grant.who.name)
    grant.note(added=added, note=entry.note)
    if not added:
        raise Conflict(f"{entry.number} is already on the {entry.kind} list", error_id="already_listed")
    return web.json_response({"number": entry.number, "kind": entry.kind, "note": entry.note}, status=201)


@list_table.delete("/api/caller-lists/{kind}/{number}", summary="take a number off a list")
@guarded("caller_lists.remove", resource="caller-lists/{kind}/{number}")
async def remove_entry(request: web.Request, grant: Grant) -> web.Response:
    kind, number = request.match_info["kind"], request.match_info["number"]
    removed = await request.app[LISTS].remove(number, kind)
    grant.note(removed=removed)
    if not removed:
        raise NotFound(f"{number} is not on the {kind} list", error_id="not_listed")
    return web.json_response({"number": number, "kind": kind, "removed": True})


# every route (the access table's test)
table = RouteTable("calls", [*call_table.routes, *list_table.routes, *measures_http.table.routes])


def routes(calls: CallRecords, lists: CallerLists | None = None, measures: CallerMeasures | None = None) -> RouteTable:
    """The calls domain's routes, bound to its services (the caller lists' only with `lists`, the measures on
    nuisance callers only with `measures`)."""
    bound = RouteTable(table.tag, [*call_table.routes, *(list_table.routes if lists else []),
                                   *(measures_http.table.routes if measures else [])])
    bound.provide(CALLS, calls)
    if lists is not None:
        bound.provide(LISTS, lists)
    if measures is not None:
        bound.provide(measures_http.MEASURES, measures)
    return bound
