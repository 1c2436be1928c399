"""Tickets over HTTP: drafts, submission, timeline, the repeat-caller view, the case-system outbox, and
the case system's signed webhook.

Agents write and read their own tickets; supervisors and admins all; auditors read all but
confidential ones. Every access is audited. The webhook carries no token: it is signed (HMAC) and each
event id is accepted once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from hotline.core.web.access import AUDIT, audited, gate, json_object
from hotline.core.web.auth import principal
from hotline.core.web.errors import error
from hotline.core.web.routes import RouteTable
from hotline.core.web.tokens import Principal
from integration.casesystem.mapping import BadEvent, CaseMapping
from integration.casesystem.outbox import OutboxWorker
from integration.casesystem.signing import BadSignature, verify
from tickets.duty_call import DutyCaller, DutyCallRefused
from tickets.form import BadTicket, read_form
from tickets.service import StaleEvent, TicketLocked, TicketNotFound, Tickets, TicketView

log = logging.getLogger(__name__)

WRITERS = frozenset({"agent", "supervisor", "admin"})
READERS = WRITERS | {"auditor"}
CONFIDENTIAL_READERS = frozenset({"supervisor", "admin"})
OPERATORS = frozenset({"supervisor", "admin"})
HOLDERS = frozenset({"supervisor", "auditor", "admin"})  # may keep recordings past retention
WEBHOOK_PATH = "/api/case-system/events"


@dataclass(frozen=True)
class CaseLink:
    """What the ticket routes need from the case-system adapter."""

    outbox: OutboxWorker
    mapping: CaseMapping
    webhook_secret: str


TICKETS = web.AppKey("tickets", Tickets)
CASE = web.AppKey("case_link", CaseLink)
DUTY = web.AppKey("duty_caller", DutyCaller)


def _me(who: Principal) -> str:
    return who.agent_id or who.name


def _may_read(who: Principal, ticket: TicketView) -> bool:
    if ticket.row.confidential and who.role not in CONFIDENTIAL_READERS:
        return who.role == "agent" and ticket.row.created_by == _me(who)
    if who.role == "agent":
        return ticket.row.created_by == _me(who)
    return who.role in READERS


def _may_write(who: Principal, ticket: TicketView) -> bool:
    return who.role in OPERATORS or (who.role == "agent" and ticket.row.created_by == _me(who))


def _bad(exc: BadTicket) -> web.Response:
    body = {"error": {"id": "bad_ticket", "message": str(exc), "fields": [e.to_json() for e in exc.errors]}}
    return web.json_response(body, status=422)


def _ticket_id(request: web.Request) -> int | None:
    raw = request.match_info["ticket_id"]
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


async def _readable(request: web.Request, action: str) -> TicketView | web.Response:
    """The ticket in the path if this principal may read it (audited either way), else the error."""
    who, ticket_id = principal(request), _ticket_id(request)
    resource = f"tickets/{request.match_info['ticket_id']}"
    if ticket_id is None:
        return error(400, "bad_param", "ticket id must be a number")
    try:
        ticket = await request.app[TICKETS].get(ticket_id)
    except TicketNotFound:
        await audited(request, action, resource, who.role in READERS, found=False)
        return error(404, "not_found", f"no ticket {ticket_id}")
    allowed = _may_read(who, ticket) if action.endswith((".get", ".timeline")) else _may_write(who, ticket)
    await audited(request, action, resource, allowed, number=ticket.row.number)
    if not allowed:
        return error(403, "forbidden", "you may not " + ("read" if action.endswith("get") else "change")
                     + " this ticket")
    return ticket


async def create(request: web.Request) -> web.Response:
    who = principal(request)
    if who.role not in WRITERS:
        await audited(request, "tickets.create", "tickets", False)
        return error(403, "forbidden", f"role {who.role} may not create tickets")
    body = await json_object(request)
    if body is None:
        return error(400, "bad_json", 'send a JSON object, e.g. {"request_type": "咨询", "calls": ["…"]}')
    try:
        ticket = await request.app[TICKETS].create(read_form(body, request.app[TICKETS].catalogue), _me(who))
    except BadTicket as exc:
        await audited(request, "tickets.create", "tickets", True, refused=str(exc)[:200])
        return _bad(exc)
    await audited(request, "tickets.create", f"tickets/{ticket.id}", True, number=ticket.row.number)
    return web.json_response(ticket.to_json(), status=201)


async def get(request: web.Request) -> web.Response:
    found = await _readable(request, "tickets.get")
    if isinstance(found, web.Response):
        return found
    return web.json_response({**found.to_json(), "call_details": await request.app[TICKETS].call_details(found)})


async def update(request: web.Request) -> web.Response:
    found = await _readable(request, "tickets.update")
    if isinstance(found, web.Response):
        return found
    body = await json_object(request)
    if body is None:
        return error(400, "bad_json", "send a JSON object with the fields to change")
    try:
        form = read_form(body, request.app[TICKETS].catalogue)
        ticket = await request.app[TICKETS].update(found.id, form, _me(principal(request)))
    except BadTicket as exc:
        return _bad(exc)
    except TicketLocked as exc:
        return error(409, "not_a_draft", str(exc))
    return web.json_response(ticket.to_json())


async def submit(request: web.Request) -> web.Response:
    found = await _readable(request, "tickets.submit")
    if isinstance(found, web.Response):
        return found
    try:
        ticket = await request.app[TICKETS].submit(found.id, _me(principal(request)))
    except BadTicket as exc:
        return _bad(exc)
    except TicketLocked as exc:
        return error(409, "not_a_draft", str(exc))
    if CASE in request.app:
        request.app[CASE].outbox.poke()
    return web.json_response(ticket.to_json())


async def link_call(request: web.Request) -> web.Response:
    """A repeat call about the same issue joins the ticket, whatever its status (one issue, one ticket)."""
    found = await _readable(request, "tickets.link_call")
    if isinstance(found, web.Response):
        return found
    body = await json_object(request)
    if body is None or not isinstance(body.get("call_id"), str):
        return error(400, "bad_json", 'send {"call_id": "…"}')
    try:
        form = read_form({"calls": [body["call_id"]]}, request.app[TICKETS].catalogue)
        ticket = await request.app[TICKETS].link_call(found.id, (form.calls or [""])[0], _me(principal(request)))
    except BadTicket as exc:
        return _bad(exc)
    return web.json_response(ticket.to_json())


async def timeline(request: web.Request) -> web.Response:
    found = await _readable(request, "tickets.timeline")
    if isinstance(found, web.Response):
        return found
    tickets = request.app[TICKETS]
    return web.json_response({"ticket": found.row.number, "status": found.row.status,
                              "timeline": await tickets.timeline(found.id),
                              "revisits": await tickets.revisit_tasks(found.id)})


async def duty_call(request: web.Request) -> web.Response:
    """Ring the handling unit's duty phone about an urgent ticket, from the agent's (or a given) phone."""
    found = await _readable(request, "tickets.duty_call")
    if isinstance(found, web.Response):
        return found
    who = principal(request)
    body = await json_object(request) if request.can_read_body else {}
    phone = (body or {}).get("phone") or who.agent_id
    if who.role == "agent" and phone != who.agent_id:
        return error(403, "forbidden", "an agent calls from their own phone")
    if not isinstance(phone, str) or not phone.isdigit():
        return error(400, "bad_param", 'give the phone to ring first, e.g. {"phone": "9001"}')
    try:
        started = await request.app[DUTY].start(found, phone, _me(who))
    except DutyCallRefused as exc:
        return error(409, "duty_call_refused", str(exc))
    return web.json_response(started, status=202)


async def legal_hold(request: web.Request) -> web.Response:
    """`PUT {"hold": true, "reason": "..."}`: the ticket's recordings outlive the retention period."""
    who, ticket_id = principal(request), _ticket_id(request)
    if refused := await gate(request, HOLDERS, "tickets.legal_hold", f"tickets/{request.match_info['ticket_id']}",
                             "place a legal hold"):
        return refused
    body = await json_object(request)
    if ticket_id is None or body is None or not isinstance(body.get("hold"), bool):
        return error(400, "bad_request", 'send {"hold": true, "reason": "..."} or {"hold": false}')
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 200 or (body["hold"] and not reason.strip()):
        return error(400, "bad_request", "a hold needs a reason of at most 200 characters")
    try:
        ticket = await request.app[TICKETS].legal_hold(ticket_id, body["hold"], reason.strip(), who.name)
    except TicketNotFound:
        return error(404, "not_found", f"no ticket {ticket_id}")
    return web.json_response({"ticket": ticket.row.number, "legal_hold": ticket.row.legal_hold,
                              "reason": ticket.row.legal_hold_reason})


async def caller_history(request: web.Request) -> web.Response:
    """The screen pop's repeat-caller view: a number's recent calls and tickets."""
    who, number = principal(request), request.match_info["number"]
    if refused := await gate(request, READERS, "callers.history", f"callers/{number}", "read caller history"):
        return refused
    if not (number.isdigit() and len(number) <= 32):
        return error(400, "bad_param", "number must be digits")
    history = await request.app[TICKETS].of_caller(number)
    if who.role not in CONFIDENTIAL_READERS:
        history["tickets"] = [t for t in history["tickets"] if not t["confidential"]]
    return web.json_response(history)


async def outbox(request: web.Request) -> web.Response:
    state = request.query.get("state", "pending")
    if refused := await gate(request, OPERATORS, "case.outbox", f"case-system/outbox?state={state}",
                             "read the case-system outbox"):
        return refused
    if state not in ("pending", "dead", "delivered"):
        return error(400, "bad_param", "state must be pending, dead or delivered")
    link = request.app[CASE]
    return web.json_response({"backlog": await link.outbox.backlog(), "messages": await link.outbox.messages(state)})


async def replay(request: web.Request) -> web.Response:
    raw = request.match_info["message_id"]
    if refused := await gate(request, OPERATORS, "case.replay", f"case-system/outbox/{raw}", "replay messages"):
        return refused
    if not raw.isdigit() or not await request.app[CASE].outbox.replay(int(raw)):
        return error(404, "not_dead", f"no dead message {raw}")
    return web.json_response({"id": int(raw), "replayed": True})


async def case_event(request: web.Request) -> web.Response:
    """The case system's webhook: signed, each event once; status goes on the ticket's timeline."""
    link, body = request.app[CASE], await request.read()
    try:
        verify(link.webhook_secret, request.headers, body)
    except BadSignature as exc:
        log.warning("case-system webhook refused from %s: %s", request.remote, exc)
        await request.app[AUDIT].record(actor="case-system", role="integration", action="case.webhook",
                                        resource=WEBHOOK_PATH, allowed=False, remote=request.remote,
                                        detail={"reason": str(exc)})
        return error(401, "bad_signature", str(exc))
    try:
        event = link.mapping.event(json.loads(body))
        at = datetime.fromisoformat(event.at) if event.at else None
        if at is not None and at.tzinfo is None:
            raise BadEvent("changedAt must carry a time zone")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error(400, "bad_json", "the event must be JSON")
    except (BadEvent, ValueError) as exc:
        return error(400, "bad_event", str(exc))
    try:
        ticket = await request.app[TICKETS].case_event(
            event.event_id, event.ticket, event.status, at,
            {"note": event.note, **({"case_number": event.case_number} if event.case_number else {})})
    except StaleEvent as exc:
        log.warning("case-system event %s refused: %s", event.event_id, exc)
        await request.app[AUDIT].record(actor="case-system", role="integration", action="case.webhook",
                                        resource=WEBHOOK_PATH, allowed=False, remote=request.remote,
                                        detail={"reason": str(exc), "event_id": event.event_id})
        return error(409, "stale_event", str(exc))
    return web.json_response({"ticket": ticket.row.number, "status": ticket.row.status})


def routes(tickets: Tickets, case: CaseLink | None,
               duty: DutyCaller | None = None) -> RouteTable:
    table = RouteTable("tickets")
    table.provide(TICKETS, tickets)
    if duty is not None:
        table.provide(DUTY, duty)
        table.post("/api/tickets/{ticket_id}/duty-call", summary="duty_call")(duty_call)
    table.post("/api/tickets", summary="create")(create)
    table.get("/api/tickets/{ticket_id}", summary="get")(get)
    table.patch("/api/tickets/{ticket_id}", summary="update")(update)
    table.post("/api/tickets/{ticket_id}/submit", summary="submit")(submit)
    table.get("/api/tickets/{ticket_id}/timeline", summary="timeline")(timeline)
    table.post("/api/tickets/{ticket_id}/calls", summary="link_call")(link_call)
    table.put("/api/tickets/{ticket_id}/legal-hold", summary="legal_hold")(legal_hold)
    table.get("/api/callers/{number}/history", summary="caller_history")(caller_history)
    if case is not None:
        table.provide(CASE, case)
        table.get("/api/case-system/outbox", summary="outbox")(outbox)
        table.post("/api/case-system/outbox/{message_id}/replay", summary="replay")(replay)
        table.post(WEBHOOK_PATH, summary="case_event", public=True)(case_event)
    return table
