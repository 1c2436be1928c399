"""What the desk page asks the API beside the domains' own routes: `/api/desk/pop/{call_id}` (the screen pop in
one request: only the agent the call is offered to or talking with, their supervisor, admins),
`/api/desk/phrases` (service phrases), `/api/desk/transfer-targets`, `/api/desk/ticket-form` (the form's
choices and checks). The access table decides; every access is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from acd.directory.service import AgentDirectory
from desk.phrases import phrases
from desk.pop import NoSuchCall, ScreenPop
from desk.targets import transfer_targets
from dialplans.model import Dialplan
from hotline.core.clock import china_today
from hotline.core.errors import BadRequest, NotFound
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable
from tickets.form import CALL_ID


@dataclass(frozen=True)
class DeskParts:
    """The services the desk's routes read."""

    pop: ScreenPop
    plan: Dialplan
    ticket_form: dict[str, Any]
    directory: AgentDirectory


DESK = web.AppKey("desk", DeskParts)
table = RouteTable("desk")


@table.get("/api/desk/pop/{call_id}", summary="screen pop: the caller's number, the line dialled, route and keys, "
           "time waited, flags (with the recorded-line warning) and earlier calls with ratings and tickets "
           "(the call's agent, their supervisor, admins)", errors=(400,))
@guarded("desk.pop", resource="calls/{call_id}")
async def pop(request: web.Request, grant: Grant) -> web.Response:
    call_id = request.match_info["call_id"]
    if not CALL_ID.fullmatch(call_id):
        raise BadRequest("call id must be 1-64 letters, digits, '.', '_' or '-'", error_id="bad_param")
    desk = request.app[DESK]
    try:
        agent, live, row = await desk.pop.agent_of(call_id)
    except NoSuchCall:
        agent, live, row = None, {}, None
    grant.note(agent=agent)
    # an unknown call and another agent's call look the same to those who reach only some calls
    known = row is not None or bool(live)
    grant.require((known or grant.agents_in_reach() is None) and (not known or grant.covers_agent(agent)),
                  "you may see the screen pop of your own calls only")
    if not known:
        raise NotFound(f"no call {call_id}", error_id="call_not_found")
    return web.json_response(await desk.pop.build(call_id, live, row, confidential=grant.may("tickets.confidential")))


@table.get("/api/desk/phrases", summary="service phrases from the standards (greeting of the day, transfer, hold, "
           "closing with the rating invitation …) and the words never to say")
@guarded("desk.reference", resource="desk/phrases")
async def service_phrases(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response(phrases(request.app[DESK].plan, china_today()))


@table.get("/api/desk/transfer-targets", summary="where a caller may be sent: skills and sub-centres, expert and "
           "sub-centre seats, handling units' duty numbers, the linkage numbers 110/119/120/122")
@guarded("desk.reference", resource="desk/transfer-targets")
async def targets(request: web.Request, grant: Grant) -> web.Response:
    desk = request.app[DESK]
    seats = await desk.directory.agents(active_only=True)
    return web.json_response(transfer_targets(desk.plan, seats, me=grant.who.agent_id))


@table.get("/api/desk/ticket-form", summary="the ticket form's choices and checks: request types, urgencies, "
           "channels, content fields, the category tree, handling units, field names in Chinese")
@guarded("desk.reference", resource="desk/ticket-form")
async def ticket_form(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response(request.app[DESK].ticket_form)


def routes(parts: DeskParts) -> RouteTable:
    bound = RouteTable(table.tag, list(table.routes))
    bound.provide(DESK, parts)
    return bound
