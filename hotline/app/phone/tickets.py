"""One-time tickets for the phone's websocket: a browser cannot send a bearer header when it opens a websocket,
so `/api/desk/phone` (authenticated) hands out a ticket that `/sip` takes once, within its lifetime.

Kept in Redis under the ticket's hash (a leaked Redis dump names no usable ticket); taken with GETDEL, so two
sockets can never share one.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from hotline.core.web.tokens import Principal

PREFIX = "hotline:phone-ticket:"
TTL_S = 60


@dataclass(frozen=True)
class Holder:
    """Whose ticket it was: the principal who asked and the phone (agent) it opens."""

    agent: str
    token_id: int
    name: str
    role: str
    group: str | None = None
    session: str | None = None  # signed in with a session cookie: its key (sign-out closes the phone's socket)
    user_id: int | None = None

    def principal(self) -> Principal:
        return Principal(self.token_id, self.name, self.role, self.agent, self.group, self.session, self.user_id)


def _key(ticket: str) -> str:
    return PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


class PhoneTickets:
    def __init__(self, redis: Redis, ttl_s: int = TTL_S) -> None:
        self._redis = redis
        self.ttl_s = ttl_s

    async def issue(self, who: Principal, agent: str) -> str:
        """A new ticket for `agent`'s phone, good once for `ttl_s` seconds."""
        ticket = secrets.token_urlsafe(24)
        holder = Holder(agent, who.token_id, who.name, who.role, who.group, who.session, who.user_id)
        await self._redis.set(_key(ticket), json.dumps(asdict(holder)), ex=self.ttl_s)
        return ticket

    async def take(self, ticket: str) -> Holder | None:
        """The ticket's holder, once; None for an unknown, expired or used ticket."""
        if not ticket or len(ticket) > 100:
            return None
        raw = await self._redis.getdel(_key(ticket))
        return Holder(**json.loads(raw)) if raw else None
