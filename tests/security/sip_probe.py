"""A small real SIP user agent over UDP for the edge tests: sends REGISTER or INVITE from a chosen loopback
address, answers a digest challenge when it has a password, and returns every final status it got.

It speaks just enough SIP (RFC 3261 over UDP, RFC 2617 digest with MD5 and qop=auth) to stand for a
stranger, a scanner or a phone; an INVITE that is answered is acknowledged and hung up at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import uuid
from dataclasses import dataclass, field

_SDP = ("v=0\r\no=probe 1 1 IN IP4 {ip}\r\ns=probe\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
        "m=audio {port} {profile} 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n{crypto}")
# an SDES key line (RFC 4568) for an SRTP offer: 30 bytes of key and salt, base64
_CRYPTO = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}\r\n"


@dataclass
class Probe:
    """One dialogue's outcome: the final statuses in order (a challenge, then the answer to the retry)."""

    call_id: str
    statuses: list[int] = field(default_factory=list)

    @property
    def final(self) -> int:
        return self.statuses[-1] if self.statuses else 0


class _Udp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: asyncio.Queue[str] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.replies.put_nowait(data.decode(errors="replace"))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # SIP digest is MD5 by definition


def _header(message: str, name: str) -> str:
    found = re.search(rf"^{name}:\s*(.*?)\r?$", message, re.IGNORECASE | re.MULTILINE)
    return found.group(1) if found else ""


def _challenge(message: str) -> dict[str, str]:
    """The MD5 digest challenge of a 401/407 (Asterisk may offer several algorithms)."""
    for line in re.findall(r"^(?:WWW|Proxy)-Authenticate:\s*Digest\s+(.*?)\r?$", message, re.I | re.M):
        params = dict(re.findall(r'(\w+)="?([^",]*)"?', line))
        if params.get("algorithm", "MD5").upper() == "MD5":
            return params
    return {}


async def sip_request(method: str, *, source: str, host: str, port: int, user: str, to_user: str | None = None,
                      password: str | None = None, timeout: float = 3.0, hold_s: float = 2.0,
                      srtp: bool = False) -> Probe:
    """`method` (REGISTER or INVITE) from `source` to `host:port` as `user` (From and, for REGISTER, To);
    INVITE goes to `to_user`. A 401/407 is answered once when `password` is given; an answered INVITE is
    hung up after `hold_s` seconds. `srtp`: the INVITE offers SDES-SRTP media (RTP/SAVP with a key)."""
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Udp, local_addr=(source, 0))
    local_port = transport.get_extra_info("sockname")[1]
    probe = Probe(f"{uuid.uuid4().hex}@{source}")
    target = f"sip:{host}:{port}" if method == "REGISTER" else f"sip:{to_user}@{host}:{port}"
    to = f"sip:{user}@{host}" if method == "REGISTER" else f"sip:{to_user}@{host}"
    tag = uuid.uuid4().hex[:8]
    try:
        auth = ""
        for cseq in (1, 2):
            branch = f"z9hG4bK{uuid.uuid4().hex[:12]}"
            crypto = _CRYPTO.format(key=base64.b64encode(os.urandom(30)).decode()) if srtp else ""
            body = _SDP.format(ip=source, port=local_port + 2, profile="RTP/SAVP" if srtp else "RTP/AVP",
                               crypto=crypto) if method == "INVITE" else ""
            request = (f"{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {source}:{local_port};branch={branch};rport\r\n"
                       f"Max-Forwards: 70\r\nFrom: <sip:{user}@{host}>;tag={tag}\r\nTo: <{to}>\r\n"
                       f"Call-ID: {probe.call_id}\r\nCSeq: {cseq} {method}\r\n"
                       f"Contact: <sip:{user}@{source}:{local_port}>\r\n{auth}"
                       + ("Expires: 60\r\n" if method == "REGISTER" else "Content-Type: application/sdp\r\n")
                       + f"User-Agent: hotline-edge-probe\r\nContent-Length: {len(body)}\r\n\r\n{body}")
            transport.sendto(request.encode(), (host, port))
            reply = await _final(proto, timeout)
            if reply is None:
                break
            status = int(reply.split(" ", 2)[1])
            probe.statuses.append(status)
            if method == "INVITE":
                _ack(transport, reply, request, host, port, status)
                if 200 <= status < 300:
                    await asyncio.sleep(hold_s)
                    _bye(transport, reply, request, host, port)
            challenge = _challenge(reply)
            if status not in (401, 407) or password is None or not challenge or cseq == 2:
                break
            auth = _authorization(status, challenge, method, target, user, password)
    finally:
        transport.close()
    return probe


async def _final(proto: _Udp, timeout: float) -> str | None:
    """The next final response (provisional ones skipped), or None after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            reply = await asyncio.wait_for(proto.replies.get(), left)
        except TimeoutError:
            return None
        if reply.startswith("SIP/2.0 ") and not reply.startswith("SIP/2.0 1"):
            return reply
    return None


def _authorization(status: int, challenge: dict[str, str], method: str, uri: str, user: str, password: str) -> str:
    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    ha1, ha2, cnonce = _md5(f"{user}:{realm}:{password}"), _md5(f"{method}:{uri}"), uuid.uuid4().hex[:8]
    fields = f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", algorithm=MD5'
    if "auth" in challenge.get("qop", "").split(","):
        response = _md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
        fields += f', qop=auth, nc=00000001, cnonce="{cnonce}"'
    else:
        response = _md5(f"{ha1}:{nonce}:{ha2}")
    if challenge.get("opaque"):
        fields += f', opaque="{challenge["opaque"]}"'
    name = "Authorization" if status == 401 else "Proxy-Authorization"
    return f'{name}: {fields}, response="{response}"\r\n'


def _in_dialogue(request: str, reply: str, new_branch: bool) -> tuple[str, str, int]:
    """The INVITE's request URI, the headers a request in its dialogue repeats, and its CSeq number."""
    uri = request.split(" ", 2)[1]
    via = _header(request, "Via")
    if new_branch:
        via = via.split(";branch=")[0] + f";branch=z9hG4bK{uuid.uuid4().hex[:12]};rport"
    common = (f"Via: {via}\r\nMax-Forwards: 70\r\nFrom: {_header(request, 'From')}\r\n"
              f"To: {_header(reply, 'To')}\r\nCall-ID: {_header(request, 'Call-ID')}\r\n")
    return uri, common, int(_header(request, "CSeq").split(" ")[0])


def _ack(transport: asyncio.DatagramTransport, reply: str, request: str, host: str, port: int, status: int) -> None:
    """ACK the INVITE's final response (a new transaction after a 2xx)."""
    uri, common, cseq = _in_dialogue(request, reply, new_branch=200 <= status < 300)
    transport.sendto(f"ACK {uri} SIP/2.0\r\n{common}CSeq: {cseq} ACK\r\nContent-Length: 0\r\n\r\n".encode(),
                     (host, port))


def _bye(transport: asyncio.DatagramTransport, reply: str, request: str, host: str, port: int) -> None:
    """Hang up an answered call."""
    uri, common, cseq = _in_dialogue(request, reply, new_branch=True)
    contact = re.search(r"<([^>]+)>", _header(reply, "Contact"))
    transport.sendto(f"BYE {contact.group(1) if contact else uri} SIP/2.0\r\n{common}CSeq: {cseq + 1} BYE\r\n"
                     "Content-Length: 0\r\n\r\n".encode(), (host, port))
