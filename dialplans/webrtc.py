"""Browser phones (WebRTC) on the hotline's Asterisk: its HTTP server on loopback carrying the SIP websocket
(which the service relays to the browsers at `/sip`, so Asterisk's HTTP never leaves loopback), the `ws`
transport, and the endpoint lines a WebRTC phone needs (DTLS-SRTP, ICE, AVPF, RTCP mux, G.711).

A phone whose entry says `phone: webrtc` gets these lines instead of the UDP ones; every other phone is
rendered as before. The HTTP server and the transport are there whenever the service gives Asterisk an HTTP
port, so a phone can become a browser phone with a reload (the directory), not a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from dialplans.model import Dialplan

TRANSPORT = "transport-ws"
WS_PATH = "/ws"  # where res_http_websocket serves SIP (the subprotocol "sip")
HTTP_HOST = "127.0.0.1"


def webrtc_phones(plan: Dialplan) -> frozenset[str]:
    """The agents' and supervisors' phones that are browsers."""
    agents = {a.id for a in plan.agents if a.phone == "webrtc"}
    return frozenset(agents | {s.id for s in plan.supervisors if s.phone == "webrtc"})


class PhoneBook(Protocol):
    """Which phones are browsers, and their SIP secrets (the dialplan file's lists, or the agent directory)."""

    def browser_secret(self, phone: str) -> str | None:
        """The SIP secret of `phone` if it is a browser phone, else None."""


@dataclass(frozen=True)
class DialplanPhones:
    """The browser phones the dialplan file lists."""

    browsers: frozenset[str]
    secrets: Mapping[str, str]

    def browser_secret(self, phone: str) -> str | None:
        return self.secrets.get(phone) if phone in self.browsers else None


def http_conf(port: int) -> str:
    """Asterisk's HTTP server: on loopback only, no status page, no static files; off without a port."""
    if not port:
        return "[general]\nenabled=no\n"
    return (f"[general]\nenabled=yes\nbindaddr={HTTP_HOST}\nbindport={port}\nservername=12345-hotline\n"
            "enablestatic=no\nenable_status=no\nsessionlimit=1000\nsession_inactivity=60000\n"
            "session_keep_alive=15000\n")


def ws_transport() -> str:
    """The one websocket transport (it listens on the HTTP server, so it has no address of its own)."""
    return f"""
; the browsers' SIP over websocket, relayed by the service (GET /sip) to {HTTP_HOST} (Asterisk's HTTP)
[{TRANSPORT}]
type=transport
protocol=ws
bind=0.0.0.0
"""


def webrtc_endpoint_lines(transport: str = TRANSPORT) -> str:
    """A browser phone's transport and media: WebRTC's DTLS-SRTP (a certificate Asterisk makes itself), ICE,
    AVPF feedback and RTCP on the RTP port; G.711 (Chromium speaks it, no transcoding). On a media node the
    transport is the node's SIP (UDP) to the front door, which carries the signalling to the browser's websocket."""
    return (f"transport={transport}\nwebrtc=yes\ndtls_auto_generate_cert=yes\nmedia_encryption=dtls\n"
            "dtls_verify=fingerprint\ndtls_setup=actpass\nice_support=yes\nuse_avpf=yes\nrtcp_mux=yes\n"
            "media_use_received_transport=yes\n")
