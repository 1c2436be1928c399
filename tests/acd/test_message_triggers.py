"""R-ACC-9: when a queued caller is offered a voice message instead of waiting, on the real ACD store (Redis):
nobody signed in with the skill, as many callers as `queue.capacity` already waiting, or an expected wait of
`queue.message_over_s` (from the answered waits of the last half hour). The whole call, with the message left,
is tests/e2e/test_ivr_routes.py::test_over_capacity_a_caller_leaves_a_voice_message_and_a_person_calls_back."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from acd.store import AcdStore, now_ms
from acd.waits import AnsweredWait
from dialplans.model import QueueSettings
from ivr.flows.voice_message import VoiceMessages


def messages(store: AcdStore, *, capacity: int = 30, message_over_s: int = 600) -> VoiceMessages:
    nothing = cast(Any, None)
    return VoiceMessages(calls=nothing, sounds_dir="", queue=cast(Any, store), requests=nothing,
                         settings=QueueSettings(capacity=capacity, message_over_s=message_over_s),
                         messages_inner="", to_host=Path)


async def queued(store: AcdStore, *calls: str) -> None:
    for call in calls:
        await store.enqueue(call, channel=f"PJSIP/x-{call}", skill="general", caller="13800000000")


async def test_nobody_signed_in_with_the_skill(store: AcdStore) -> None:
    await queued(store, "c1")
    assert await messages(store).over_capacity("c1", "general") == "nobody_signed_in"
    await store.add_agent("8001", {"general": 3})
    await store.set_agent_state("8001", "paused")  # signed in, even paused: the caller may wait
    assert await messages(store).over_capacity("c1", "general") is None


async def test_a_full_queue_offers_the_message_to_the_caller_at_capacity(store: AcdStore) -> None:
    await store.add_agent("8001", {"general": 3})
    await store.set_agent_state("8001", "paused")
    await queued(store, "c1", "c2")
    assert await messages(store, capacity=3).over_capacity("c2", "general") is None
    await queued(store, "c3")
    assert await messages(store, capacity=3).over_capacity("c3", "general") == "queue_full"
    assert await messages(store, capacity=0).over_capacity("c3", "general") is None  # 0: no limit


async def test_a_long_expected_wait_from_the_last_half_hour(store: AcdStore) -> None:
    await store.add_agent("8001", {"general": 3})
    await store.set_agent_state("8001", "paused")
    await queued(store, "c1", "c2", "c3")
    assert await messages(store, message_over_s=600).over_capacity("c3", "general") is None  # nobody answered yet
    at = now_ms()
    for i in range(3):  # callers of the last half hour each waited ten minutes with one agent
        await store.note_answered_wait(f"old-{i}", AnsweredWait(at - 60_000 * (i + 1), 600_000, 1, 1), "general")
    assert await messages(store, message_over_s=600).over_capacity("c3", "general") == "long_wait"
    assert await messages(store, message_over_s=0).over_capacity("c3", "general") is None  # 0: never
