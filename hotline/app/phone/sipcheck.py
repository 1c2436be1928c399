"""Whose SIP message is this: the relay lets a browser speak for its own agent's phone only.

A request the browser sends (REGISTER, INVITE, BYE …) must come From the agent (a REGISTER also To the agent:
the address it binds); a response it sends answers a request To the agent; credentials, when present, are the
agent's. Anything else, or a message that is not SIP at all, is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# full and compact header names (RFC 3261 7.3.3)
_NAMES = {"from": "from", "f": "from", "to": "to", "t": "to", "authorization": "authorization",
          "proxy-authorization": "authorization"}
_USER = re.compile(r"<?\s*sips?:([^@;>\s]+)@", re.IGNORECASE)
_AUTH_USER = re.compile(r'username\s*=\s*"([^"]*)"', re.IGNORECASE)
_REQUEST = re.compile(r"^([A-Z]+) \S+ SIP/2\.0$")
_RESPONSE = re.compile(r"^SIP/2\.0 \d{3}( .*)?$")


@dataclass(frozen=True)
class SipParties:
    """The parts of one SIP message the relay checks."""

    method: str | None  # None for a response
    from_user: str | None
    to_user: str | None
    auth_users: tuple[str, ...]


def parties(message: str) -> SipParties | None:
    """The method and parties of a SIP message, or None when it is not one."""
    head = message.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    start = lines[0].strip()
    request = _REQUEST.match(start)
    if request is None and _RESPONSE.match(start) is None:
        return None
    found: dict[str, list[str]] = {"from": [], "to": [], "authorization": []}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        kind = _NAMES.get(name.strip().lower())
        if sep and kind is not None:
            found[kind].append(value.strip())
    if len(found["from"]) != 1 or len(found["to"]) != 1:
        return None
    return SipParties(request.group(1) if request else None, _user(found["from"][0]), _user(found["to"][0]),
                      tuple(m.group(1) for v in found["authorization"] if (m := _AUTH_USER.search(v))))


def _user(value: str) -> str | None:
    match = _USER.search(value)
    return match.group(1) if match else None


def refusal(message: str, agent: str) -> str | None:
    """Why the browser of `agent` may not send `message` (None: it may). Keep-alive blank lines pass."""
    if not message.strip():
        return None
    p = parties(message)
    if p is None:
        return "not a SIP message"
    if any(user != agent for user in p.auth_users):
        return "credentials of another phone"
    if p.method is None:
        return None if p.to_user == agent else f"a response for {p.to_user}"
    if p.from_user != agent:
        return f"{p.method} from {p.from_user}"
    if p.method == "REGISTER" and p.to_user != agent:
        return f"REGISTER for {p.to_user}"
    return None
