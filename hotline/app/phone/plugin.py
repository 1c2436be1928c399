"""The browser phone part: its routes (`/api/desk/phone`, `/sip`) and its page folder (`/phone/`)."""

from __future__ import annotations

from pathlib import Path

from acd.directory.sync import PhoneSync
from dialplans.model import Dialplan
from dialplans.secrets import Secrets
from dialplans.webrtc import HTTP_HOST, WS_PATH, DialplanPhones, PhoneBook, webrtc_phones
from hotline.app.phone.http import BrowserPhones, routes
from hotline.app.phone.ice import ice_servers
from hotline.app.phone.tickets import PhoneTickets
from hotline.core.plugin import Brought, Deps, Plugin

STATIC = Path(__file__).parent / "static"


async def load(deps: Deps) -> Brought:
    # the agent directory's phones as last rendered into Asterisk, else the dialplan file's lists
    book: PhoneBook = deps.find(PhoneSync) or DialplanPhones(webrtc_phones(deps.get(Dialplan)),
                                                             deps.get(Secrets).agent_secrets)
    phones = deps.publish(BrowserPhones(book, sip_websocket(deps.get(Dialplan), deps.core.ports.hotline_http),
                                        PhoneTickets(deps.redis), ice_servers()))
    return Brought(routes=[routes(phones)], pages={"phone": STATIC})


def sip_websocket(plan: Dialplan, asterisk_http_port: int) -> str:
    """Where the `/sip` relay goes: the SIP front door's websocket with media nodes behind it (`cluster.ws_port`),
    else the hotline Asterisk's on loopback."""
    if plan.cluster.nodes and plan.cluster.ws_port:
        return f"ws://{plan.cluster.address}:{plan.cluster.ws_port}{WS_PATH}"
    return f"ws://{HTTP_HOST}:{asterisk_http_port}{WS_PATH}"


plugin = Plugin("phone", load)
