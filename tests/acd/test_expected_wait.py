"""The expected wait a queued caller is told (R-ACC-9), from the day's talk times on a real redis-server."""

from __future__ import annotations

from acd.store import AcdStore
from ivr.flows.position import expand_position_prompts, wait_prompt
from tests.acd.test_routing import POLICY, enqueue


async def test_the_wait_grows_with_the_place_in_line_and_shrinks_with_agents(store: AcdStore) -> None:
    await store.add_agent("8001", {"general": 3})
    await store.set_agent_state("8001", "on_call")
    for call in ("a", "b", "c"):
        await enqueue(store, call, "general")
    assert await store.expected_wait_s("a") is None, "nothing known yet: nothing is promised"
    await store.talked("general", 240_000)
    await store.talked("general", 120_000)  # three minutes on average
    assert await store.expected_wait_s("a") == 180 and await store.expected_wait_s("c") == 540
    await store.add_agent("8002", {"general": 3, "tax": 2})
    await store.set_agent_state("8002", "paused")
    assert await store.expected_wait_s("c") == 270, "two agents signed in share the line"
    assert await store.expected_wait_s("nobody") is None
    assert POLICY.knows("general")


def test_the_prompt_says_whole_minutes_up_to_nine_then_long() -> None:
    assert wait_prompt(None) is None and wait_prompt(59) is None
    assert wait_prompt(61) == "queue_wait_2" and wait_prompt(540) == "queue_wait_9"
    assert wait_prompt(541) == "queue_wait_long"
    expanded = expand_position_prompts({"queue_wait": "预计还需等待约{m}分钟。"})
    assert expanded["queue_wait_2"] == "预计还需等待约两分钟。" and "queue_wait" not in expanded
