"""Ticket news on Redis: every change on `tickets:events`; urgent submissions also on the ACD's live
feed, where supervisors watch (R-TKT-4: urgent tickets need a person's attention at once)."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from acd.store import EVENTS
from tickets.service import Publish

TICKET_EVENTS = "tickets:events"
URGENT = frozenset({"紧急", "非常紧急"})


def ticket_feed(redis: Redis) -> Publish:
    async def publish(event: dict[str, Any]) -> None:
        await redis.publish(TICKET_EVENTS, json.dumps(event, ensure_ascii=False))
        if event.get("kind") == "submitted" and event.get("urgency") in URGENT:
            await redis.publish(EVENTS, json.dumps({"event": "urgent_ticket", **event}, ensure_ascii=False))

    return publish
