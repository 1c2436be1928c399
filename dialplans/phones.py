"""The phones' part of the hotline's configs, in files of their own so they can follow the agent directory:
each agent's and supervisor's PJSIP endpoint (`pjsip_phones.conf`, included from pjsip.conf) and the dialplan
lines per seat (`extensions_phones.conf`, included from extensions.conf: calls between seats in `[agents]`,
consult targets in `[hotline-consult-seat]`). Rendered from the dialplan file's lists by `hotline dialplan
render`, and from the directory (acd.directory) by the running service on every change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dialplans.model import Agent, Supervisor
from dialplans.siptls import phone_context, phone_media
from dialplans.webrtc import TRANSPORT, webrtc_endpoint_lines

if TYPE_CHECKING:
    from dialplans.render import RenderContext

PHONES_PJSIP = "pjsip_phones.conf"
PHONES_EXTENSIONS = "extensions_phones.conf"
PHONE_FILES: tuple[str, ...] = (PHONES_PJSIP, PHONES_EXTENSIONS)
UDP = "transport-udp"  # the node's SIP transport (dialplans.render)
HEADER = "; Generated from the agent directory (the dialplan file's agents: seed it). Do not edit.\n"


def render_phones(agents: Sequence[Agent], supervisors: Sequence[Supervisor], ctx: RenderContext) -> dict[str, str]:
    """File name → text of the phones' endpoints and their dialplan lines; every phone needs a secret."""
    return {PHONES_PJSIP: _pjsip(agents, supervisors, ctx), PHONES_EXTENSIONS: _extensions(agents)}


def _pjsip(agents: Sequence[Agent], supervisors: Sequence[Supervisor], ctx: RenderContext) -> str:
    phones = [(a.id, f"agent {a.id} ({a.seat} seat)", "agents", a.phone) for a in agents]
    phones += [(sup.id, f"supervisor {sup.id}", "supervisors", sup.phone) for sup in supervisors]
    out = [HEADER]
    for phone, label, context, kind in phones:
        secret = ctx.agent_secrets.get(phone)
        if not secret:
            raise ValueError(f"no generated secret for phone {phone}")
        # a browser phone: WebRTC's DTLS-SRTP always, its signalling behind the service's own (HTTPS) origin
        # (on a media node: through the front door, which holds the browser's websocket)
        media = (webrtc_endpoint_lines(UDP if ctx.phones_via else TRANSPORT) + f"context={context}\n"
                 if kind == "webrtc"
                 else f"{phone_media(ctx.tls)}context={phone_context(ctx.tls, context)}\n")
        out.append(f"""
; {label}{" (browser phone, WebRTC)" if kind == "webrtc" else ""}
[{phone}]
type=endpoint
identify_by=username
{media}disallow=all
allow=alaw,ulaw
dtmf_mode=rfc4733
direct_media=no
rtp_symmetric=yes
force_rport=yes
rewrite_contact=yes
auth={phone}-auth
aors={phone}
callerid="{phone}" <{phone}>

[{phone}-auth]
type=auth
auth_type=userpass
username={phone}
password={secret}

[{phone}]
type=aor
{_contact(phone, ctx)}""")
    return "".join(out)


def _contact(phone: str, ctx: RenderContext) -> str:
    """Where the phone is reached: where it registered, or (on a media node) through the SIP front door, which
    knows where it registered."""
    if ctx.phones_via:
        return f"contact=sip:{phone}@{ctx.phones_via.removeprefix('sip:')}\n"
    return "max_contacts=1\nremove_existing=yes\nqualify_frequency=30\n"


def _extensions(agents: Sequence[Agent]) -> str:
    """Calls between seats, and each seat as a consult target (exact extensions: the transfer dials at once)."""
    seats = "".join(f"exten => {a.id},1,Dial(PJSIP/{a.id},30)\n same => n,Hangup()\n" for a in agents)
    consult = "".join(f"exten => {a.id},1,Set(HOTLINE_CONSULT_TARGET=PJSIP/{a.id})\n"
                      " same => n,Goto(hotline-consult-dial,s,1)\n" for a in agents)
    return f"{HEADER}\n[agents]\n{seats}\n[hotline-consult-seat]\n{consult}"
