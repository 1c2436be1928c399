"""Tickets over HTTP: drafts, submission, timeline, the repeat-caller view, the case-system outbox, and
the case system's signed webhook.

Agents write and read the tickets they created; supervisors and admins all; auditors read all but
confidential ones (those only supervisors, admins and the creating agent). The access table decides;
every access is audited. The ticket form keeps its own checks (`tickets.form`, 422 `bad_ticket` naming
each field); `tickets.schemas` describes bodies and answers for the OpenAPI document. The webhook carries
no token: it is signed (HMAC), each event id is accepted once, and each refusal is audited.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from aiohttp import web
from pydantic import ValidationError

from hotline.core.errors import BadRequest, DomainError, NotFound
from hotline.core.web.bodies import field_errors, json_body, path_id, read_body, read_query
from hotline.core.web.policy import AUDIT, Grant, Scope, guarded
from hotline.core.web.routes import RouteTable
from integration.casesystem.mapping import BadEvent, CaseMapping, InboundEvent
from integration.casesystem.outbox import OutboxWorker
from integration.casesystem.signing import BadSignature, verify
from tickets.duty_call import DutyCaller
from tickets.form import BadTicket, FieldError, TicketForm, read_form
from tickets.models import Ticket
from tickets.schemas import (
    CallerHistory,
    CaseEventApplied,
    DutyCallIn,
    DutyCallStarted,
    LegalHoldIn,
    LegalHoldOut,
    LinkCall,
    Outbox,
    OutboxQuery,
    Replayed,
    TicketDetail,
    TicketIn,
    TicketOut,
    Timeline,
)
from tickets.service import StaleEvent, TicketNotFound, Tickets, TicketView

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/case-system/events"
_NUMBER = re.compile(r"[0-9]{1,32}")


@dataclass(frozen=True)
class CaseLink:
    """What the ticket routes need from the case-system adapter."""

    outbox: OutboxWorker
    mapping: CaseMapping
    webhook_secret: str


TICKETS = web.AppKey("tickets", Tickets)
CASE = web.AppKey("case_link", CaseLink)
DUTY = web.AppKey("duty_caller", DutyCaller)

def _me(grant: Grant) -> str:
    """Who a change is written as: the agent's number, or the principal's name."""
    return grant.who.agent_id or grant.who.name


def _may_read(grant: Grant, row: Ticket) -> bool:
    """Within the grant's reach; a confidential ticket only with `tickets.confidential` or as its agent."""
    if row.confidential and not grant.may("tickets.confidential"):
        return grant.scope is Scope.OWN and grant.covers_agent(row.created_by)
    return grant.covers_agent(row.created_by)


def _ticket_id(request: web.Request) -> int:
    return path_id(request, "ticket_id", "ticket")


async def _ticket(request: web.Request, grant: Grant, action: str, *, write: bool = False) -> TicketView:
    """The ticket in the path, if the grant reaches it (404 if there is none, 403 if out of reach)."""
    grant.action = action
    try:
        ticket = await request.app[TICKETS].get(_ticket_id(request))
    except TicketNotFound:
        grant.note(found=False)
        raise
    grant.note(number=ticket.row.number)
    if write:
        grant.require(grant.covers_agent(ticket.row.created_by), "you may not change this ticket")
    else:
        grant.require(_may_read(grant, ticket.row), "you may not read this ticket")
    return ticket


async def _form(request: web.Request) -> TicketForm:
    """The ticket form in the body: every bad field named (422 `bad_ticket`), and never more than the
    document allows."""
    raw = await json_body(request)
    form = read_form(raw, request.app[TICKETS].catalogue)
    try:
        TicketIn.model_validate(raw)
    except ValidationError as exc:
        raise BadTicket([FieldError(f["field"], f["message"]) for f in field_errors(exc)]) from None
    return form


ticket_table = RouteTable("tickets")  # served whatever else is configured


@ticket_table.post("/api/tickets", summary="a new draft ticket; several per call, one issue each",
                   body=TicketIn, response=TicketOut, status=201)
@guarded("tickets.create", resource="tickets")
async def create(request: web.Request, grant: Grant) -> web.Response:
    ticket = await request.app[TICKETS].create(await _form(request), _me(grant))
    grant.resource = f"tickets/{ticket.id}"
    grant.note(number=ticket.row.number)
    return web.json_response(ticket.to_json(), status=201)


@ticket_table.get("/api/tickets/{ticket_id}", summary="one ticket with its calls (agents: their own; "
                  "confidential: supervisors, admins and its agent)", response=TicketDetail, errors=(400,))
@guarded("tickets.read", resource="tickets/{ticket_id}")
async def get(request: web.Request, grant: Grant) -> web.Response:
    ticket = await _ticket(request, grant, "tickets.get")
    return web.json_response({**ticket.to_json(), "call_details": await request.app[TICKETS].call_details(ticket)})


@ticket_table.patch("/api/tickets/{ticket_id}", summary="change a draft", body=TicketIn, response=TicketOut,
                    errors=(409,))
@guarded("tickets.write", resource="tickets/{ticket_id}")
async def update(request: web.Request, grant: Grant) -> web.Response:
    found = await _ticket(request, grant, "tickets.update", write=True)
    ticket = await request.app[TICKETS].update(found.id, await _form(request), _me(grant))
    return web.json_response(ticket.to_json())


@ticket_table.post("/api/tickets/{ticket_id}/submit", summary="check completeness, fix the time limits, queue "
                   "for the case system", response=TicketOut, errors=(400, 409, 422))
@guarded("tickets.write", resource="tickets/{ticket_id}")
async def submit(request: web.Request, grant: Grant) -> web.Response:
    found = await _ticket(request, grant, "tickets.submit", write=True)
    ticket = await request.app[TICKETS].submit(found.id, _me(grant))
    if CASE in request.app:
        request.app[CASE].outbox.poke()
    return web.json_response(ticket.to_json())


@ticket_table.post("/api/tickets/{ticket_id}/calls", summary="link another call (a repeat caller about the same "
                   "issue) to the ticket, whatever its status", body=LinkCall, response=TicketOut)
@guarded("tickets.write", resource="tickets/{ticket_id}")
async def link_call(request: web.Request, grant: Grant) -> web.Response:
    found = await _ticket(request, grant, "tickets.link_call", write=True)
    link = await read_body(request, LinkCall, error_id="bad_json", status=400)
    form = read_form({"calls": [link.call_id]}, request.app[TICKETS].catalogue)
    ticket = await request.app[TICKETS].link_call(found.id, (form.calls or [""])[0], _me(grant))
    grant.note(call_id=link.call_id)
    return web.json_response(ticket.to_json())


@ticket_table.get("/api/tickets/{ticket_id}/timeline", summary="the ticket's timeline (created, submitted, "
                  "delivered, case-system statuses, revisits)", response=Timeline, errors=(400,))
@guarded("tickets.read", resource="tickets/{ticket_id}")
async def timeline(request: web.Request, grant: Grant) -> web.Response:
    found = await _ticket(request, grant, "tickets.timeline")
    tickets = request.app[TICKETS]
    return web.json_response({"ticket": found.row.number, "status": found.row.status,
                              "timeline": await tickets.timeline(found.id),
                              "revisits": await tickets.revisits(found.id)})


@ticket_table.put("/api/tickets/{ticket_id}/legal-hold", summary="keep (hold, with a reason) or release the "
                  "ticket's recordings past the retention period", body=LegalHoldIn, response=LegalHoldOut)
@guarded("tickets.legal_hold", resource="tickets/{ticket_id}")
async def legal_hold(request: web.Request, grant: Grant) -> web.Response:
    ticket_id = _ticket_id(request)
    hold = await read_body(request, LegalHoldIn, error_id="bad_request", status=400)
    if hold.hold and not hold.reason:
        raise BadRequest("a hold needs a reason of at most 200 characters")
    grant.note(hold=hold.hold, reason=hold.reason)
    ticket = await request.app[TICKETS].legal_hold(ticket_id, hold.hold, hold.reason, grant.who.name)
    return web.json_response({"ticket": ticket.row.number, "legal_hold": ticket.row.legal_hold,
                              "reason": ticket.row.legal_hold_reason})


@ticket_table.get("/api/callers/{number}/history", summary="screen pop: a number's recent calls and tickets",
                  response=CallerHistory, errors=(400,))
@guarded("callers.history", resource="callers/{number}")
async def caller_history(request: web.Request, grant: Grant) -> web.Response:
    number = request.match_info["number"]
    if not _NUMBER.fullmatch(number):
        raise BadRequest("number must be digits", error_id="bad_param")
    history = await request.app[TICKETS].of_caller(number)
    if not grant.may("tickets.confidential"):
        history["tickets"] = [t for t in history["tickets"] if not t["confidential"]]
    return web.json_response(history)


duty_table = RouteTable("tickets")  # with a duty caller


@duty_table.post("/api/tickets/{ticket_id}/duty-call", summary="urgent ticket: ring the agent's phone (or "
                 "`phone`), then the handling unit's duty phone, which hears the opening words (B.2.1); outcome "
                 "on the timeline", body=DutyCallIn, response=DutyCallStarted, status=202, errors=(409, 429))
@guarded("tickets.duty_call", resource="tickets/{ticket_id}")
async def duty_call(request: web.Request, grant: Grant) -> web.Response:
    ticket = await _ticket(request, grant, "tickets.duty_call", write=True)
    asked = await read_body(request, DutyCallIn, optional=True, error_id="bad_param", status=400)
    phone = asked.phone or grant.who.agent_id
    grant.require(grant.scope is not Scope.OWN or phone == grant.who.agent_id, "an agent calls from their own phone")
    if phone is None:
        raise BadRequest('give the phone to ring first, e.g. {"phone": "9001"}', error_id="bad_param")
    grant.note(phone=phone)
    started = await request.app[DUTY].start(ticket, phone, _me(grant))
    return web.json_response(started, status=202)


case_table = RouteTable("case-system")  # with the case-system link


@case_table.get("/api/case-system/outbox", summary="messages to the case system: pending, dead (dead letters) "
                "or delivered; the backlog", query=OutboxQuery, response=Outbox)
@guarded("case.outbox")
async def outbox(request: web.Request, grant: Grant) -> web.Response:
    state = read_query(request.query, OutboxQuery).state
    grant.resource = f"case-system/outbox?state={state}"
    link = request.app[CASE]
    messages = await link.outbox.messages(state)
    numbers = await request.app[TICKETS].numbers(m["ticket_id"] for m in messages)
    return web.json_response({"backlog": await link.outbox.backlog(),
                              "messages": [{**m, "ticket": numbers.get(m["ticket_id"])} for m in messages]})


@case_table.post("/api/case-system/outbox/{message_id}/replay", summary="put a dead message back in line",
                 response=Replayed, errors=(400,))
@guarded("case.replay", resource="case-system/outbox/{message_id}")
async def replay(request: web.Request, grant: Grant) -> web.Response:
    message_id = path_id(request, "message_id", "case-system message")
    if not await request.app[CASE].outbox.replay(message_id):
        raise NotFound(f"no dead message {message_id}", error_id="not_dead")
    return web.json_response({"id": message_id, "replayed": True})


async def _refused_event(request: web.Request, reason: str, **detail: object) -> None:
    """A webhook refused: audited as the case system's (it has no token)."""
    await request.app[AUDIT].record(actor="case-system", role="integration", action="case.webhook",
                                    resource=WEBHOOK_PATH, allowed=False, remote=request.remote,
                                    detail={"reason": reason, **detail})


async def _inbound(request: web.Request, mapping: CaseMapping, raw: bytes) -> InboundEvent:
    """The signed body as an event; a body that is not one is a 400, logged and audited."""
    try:
        return mapping.event(json.loads(raw))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        refusal = BadRequest("the event must be a JSON object", error_id="bad_json")
    except BadEvent as exc:
        refusal = BadRequest(str(exc), error_id="bad_event")
    log.warning("case-system event refused from %s: %s", request.remote, refusal)
    await _refused_event(request, str(refusal))
    raise refusal


@case_table.post(WEBHOOK_PATH, summary="the case system's webhook: status changes, signed (X-Signature-Timestamp, "
                 "X-Signature: HMAC-SHA256 of '<timestamp>.<body>'), each event id once", public=True,
                 response=CaseEventApplied, errors=(400, 401, 409))
async def case_event(request: web.Request) -> web.Response:
    link, raw = request.app[CASE], await request.read()
    try:
        verify(link.webhook_secret, request.headers, raw)
    except BadSignature as exc:
        log.warning("case-system webhook refused from %s: %s", request.remote, exc)
        await _refused_event(request, str(exc))
        raise DomainError(str(exc), error_id="bad_signature", status=401) from None
    event = await _inbound(request, link.mapping, raw)
    try:
        ticket = await request.app[TICKETS].case_event(
            event.event_id, event.ticket, event.status, event.at,
            {"note": event.note, **({"case_number": event.case_number} if event.case_number else {})})
    except StaleEvent as exc:
        log.warning("case-system event %s refused: %s", event.event_id, exc)
        await _refused_event(request, str(exc), event_id=event.event_id)
        raise
    return web.json_response({"ticket": ticket.row.number, "status": ticket.row.status})


table = RouteTable("tickets", [*ticket_table.routes, *duty_table.routes, *case_table.routes])  # every route


def routes(tickets: Tickets, case: CaseLink | None = None, duty: DutyCaller | None = None) -> RouteTable:
    """The tickets' routes, bound to the service; duty calls and the case system's only when given."""
    bound = RouteTable(table.tag, [*ticket_table.routes, *(duty_table.routes if duty else []),
                                   *(case_table.routes if case else [])])
    bound.provide(TICKETS, tickets)
    if duty is not None:
        bound.provide(DUTY, duty)
    if case is not None:
        bound.provide(CASE, case)
    return bound
