"""The browser phone's two routes: `GET /api/desk/phone` (the signed-in agent's own phone: SIP credentials and a
one-time websocket ticket) and `GET /sip` (the websocket, opened with that ticket, relayed to Asterisk)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from pydantic import BaseModel

from dialplans.webrtc import PhoneBook
from hotline.app.phone.relay import SUBPROTOCOL, RelayLimits, connect_upstream, relay
from hotline.app.phone.tickets import Holder, PhoneTickets
from hotline.core.accounts.http import SIGN_IN
from hotline.core.accounts.origins import own_origin, trusted_origin
from hotline.core.errors import Conflict, NotFound
from hotline.core.web.audit import AUDIT
from hotline.core.web.auth import THROTTLE, failed, throttled
from hotline.core.web.bodies import Query
from hotline.core.web.errors import error
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable
from hotline.core.web.sockets import SOCKETS


@dataclass
class BrowserPhones:
    """The browser phones of this hotline (which phones are browsers, their SIP secrets), where Asterisk's
    websocket is; and the relays open now, by agent (so a sign-out can cut them)."""

    book: PhoneBook
    asterisk_ws: str  # ws://127.0.0.1:<port>/ws, or the SIP front door's websocket (plugin.sip_websocket)
    tickets: PhoneTickets
    ice_servers: list[dict[str, object]] = field(default_factory=list)  # hotline.app.phone.ice
    limits: RelayLimits = field(default_factory=RelayLimits)
    open: dict[str, set[web.WebSocketResponse]] = field(default_factory=dict)

    async def drop(self, agent: str) -> int:
        """Close the agent's phone sockets (the page reconnects with a fresh ticket if it still may)."""
        sockets = list(self.open.get(agent, ()))
        await asyncio.gather(*(ws.close(code=4401, message=b"signed out") for ws in sockets))
        return len(sockets)


PHONES = web.AppKey("browser_phones", BrowserPhones)
table = RouteTable("desk")


class DeskPhone(BaseModel):
    agent: str
    uri: str
    username: str
    password: str
    ws_url: str
    ice_servers: list[dict[str, object]]
    ticket_ttl_s: int


class SipQuery(Query):
    ticket: str = ""


@table.get("/api/desk/phone", summary="the signed-in agent's browser phone: SIP credentials and a one-time ticket "
           "(60 s) for the /sip websocket", response=DeskPhone, errors=(409,))
@guarded("desk.phone", resource="desk/phone")
async def desk_phone(request: web.Request, grant: Grant) -> web.Response:
    phones = request.app[PHONES]
    agent = grant.who.agent_id
    if agent is None:
        raise NotFound("this sign-in has no phone (no agent number)", error_id="no_phone")
    secret = phones.book.browser_secret(agent)
    if secret is None:
        raise Conflict(f"agent {agent}'s phone is a SIP phone, not the browser (phone: webrtc in the dialplan file)",
                       error_id="not_a_browser_phone")
    ticket = await phones.tickets.issue(grant.who, agent)
    grant.note(agent=agent)
    host = request.url.host or "hotline.invalid"
    return web.json_response(DeskPhone(
        agent=agent, uri=f"sip:{agent}@{host}", username=agent, password=secret,
        ws_url=f"/sip?ticket={ticket}", ice_servers=phones.ice_servers, ticket_ttl_s=phones.tickets.ttl_s).model_dump())


@table.get("/sip", summary="websocket (subprotocol sip): the browser phone's SIP, relayed to the hotline's Asterisk; "
           "opened with a ticket from /api/desk/phone (401 without a valid unused one)", query=SipQuery,
           public=True, status=101, errors=(502,))
async def sip_socket(request: web.Request) -> web.StreamResponse:
    phones, audit, throttle = request.app[PHONES], request.app[AUDIT], request.app[THROTTLE]
    remote = request.remote or "?"
    if wait := throttle.blocked_for(remote):
        return throttled(wait)
    if request.headers.get("Origin") and not _own_origin(request):  # a browser on another site: never
        await audit.record(actor="anonymous", role="none", action="phone.sip", resource="sip", allowed=False,
                           remote=remote, detail={"refused": "origin", "origin": request.headers["Origin"][:200]})
        return error(403, "origin_refused", "the phone's websocket opens from the hotline's own pages only")
    holder = await phones.tickets.take(request.query.get("ticket", ""))
    if holder is None:  # counted against the address like a bad token (the block that follows is audited)
        return await failed(request, error(401, "ticket_invalid",
                                           "the phone's ticket is unknown, expired or used: ask /api/desk/phone"))
    async with aiohttp.ClientSession() as http:
        try:
            asterisk = await connect_upstream(http, phones.asterisk_ws, phones.limits)
        except (aiohttp.ClientError, TimeoutError):
            return error(502, "phone_unavailable", "the hotline's phone service is not answering; try again")
        return await _relay(request, phones, holder, asterisk)


def _own_origin(request: web.Request) -> bool:
    """The Origin is the service's own, or a public origin the accounts' settings name (behind a proxy)."""
    sign_in = request.app.get(SIGN_IN)
    if sign_in is not None:
        return trusted_origin(request, sign_in.settings)
    return request.headers.get("Origin", "").strip().lower().rstrip("/") == own_origin(request)


async def _relay(request: web.Request, phones: BrowserPhones, holder: Holder,
                 asterisk: aiohttp.ClientWebSocketResponse) -> web.StreamResponse:
    audit, remote = request.app[AUDIT], request.remote

    async def audited(allowed: bool, **detail: object) -> None:
        await audit.record(actor=holder.name, role=holder.role, action="phone.sip", resource=f"phones/{holder.agent}",
                           allowed=allowed, remote=remote, detail=detail)

    async def refused(reason: str) -> None:
        await audited(False, refused="not_your_phone", reason=reason[:200])

    browser = web.WebSocketResponse(protocols=(SUBPROTOCOL,), max_msg_size=phones.limits.message_bytes,
                                    heartbeat=phones.limits.heartbeat_s)
    await audited(True)
    await browser.prepare(request)
    held = phones.open.setdefault(holder.agent, set())
    held.add(browser)
    try:
        # counted with the principal's other sockets: a revoked token or an ended session closes it (4401)
        async with request.app[SOCKETS].hold(holder.principal(), browser):
            await relay(browser, asterisk, holder.agent, refused)
    finally:
        held.discard(browser)
        if not held:
            phones.open.pop(holder.agent, None)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await asterisk.close()
    return browser


def routes(phones: BrowserPhones) -> RouteTable:
    """The phone's routes, bound to this hotline's browser phones."""
    bound = RouteTable(table.tag, table.routes)
    bound.provide(PHONES, phones)
    return bound
