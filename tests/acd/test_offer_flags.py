"""The caller's labels go with the offer (R-ACC-7): the `offered` event on the live feed says `watch`, and a
transferred caller keeps the labels they came in with. On a real redis-server."""

from __future__ import annotations

import asyncio
from typing import Any

from acd.store import AcdStore


async def offered(store: AcdStore, call: str, flags: str, agent: str) -> dict[str, Any]:
    """Queue `call` with `flags`, let `agent` get ready, and return the `offered` event the feed carried."""
    async with store.events() as feed:
        await store.enqueue(call, channel=f"PJSIP/c-{call}", skill="general", caller="13500135101", flags=flags)
        await store.set_agent_state(agent, "ready")
        reservation = await store.reserve()
        assert reservation is not None and reservation.call_id == call
        async with asyncio.timeout(5):
            async for event in feed:
                if event.get("event") == "offered" and event.get("call") == call:
                    return event
    raise AssertionError("no offered event")


async def test_the_offer_event_carries_the_watch_flag_and_the_labels(store: AcdStore) -> None:
    await store.add_agent("8001", {"general": 3})
    await store.add_agent("8002", {"general": 3})
    watched = await offered(store, "c-watch", "repeat_caller,watch", "8001")
    assert watched["watch"] is True and watched["flags"] == "repeat_caller,watch" and watched["agent"] == "8001"
    assert watched["caller"] == "13500135101", "the desk shows the number the moment the offer comes"
    plain = await offered(store, "c-plain", "", "8002")
    assert plain["watch"] is False and plain["flags"] == ""


async def test_a_caller_queued_again_without_labels_keeps_the_ones_they_came_with(store: AcdStore) -> None:
    await store.add_agent("8001", {"general": 3})
    await store.add_agent("8002", {"general": 3})
    await offered(store, "c1", "watch", "8001")
    again = await offered(store, "c1", "", "8002")  # as a blind transfer does: no labels passed
    assert again["watch"] is True and again["flags"] == "watch"
