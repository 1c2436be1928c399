"""Routing decisions of the reservation script on a real redis-server: skills, levels, widening,
priority, longest idle, and no head-of-line blocking between skills."""

from __future__ import annotations

import asyncio

from acd.policy import RoutingPolicy
from acd.store import AcdStore
from dialplans.model import Skill, Widening

POLICY = RoutingPolicy((
    Skill("general", "综合受理", "general"),
    Skill("social_security", "人社", "expert", min_level=2, widen=(Widening(0, "general", 3),)),
    Skill("tax", "税务", "sub_centre"),
))


async def agents(store: AcdStore, *specs: tuple[str, dict[str, int]]) -> None:
    """Agents ready in the order given (the first is the longest idle)."""
    for agent, skills in specs:
        await store.add_agent(agent, skills)
        await store.set_agent_state(agent, "ready")
        await asyncio.sleep(0.005)


async def enqueue(store: AcdStore, call: str, skill: str, priority: int = 0, pools: str | None = None) -> None:
    await store.enqueue(call, channel=f"PJSIP/c-{call}", skill=skill, caller="13800000000", priority=priority,
                        pools=pools if pools is not None else POLICY.pools(skill))
    await asyncio.sleep(0.005)


async def test_a_call_goes_to_an_agent_with_its_skill_and_level(store: AcdStore) -> None:
    await agents(store, ("8001", {"general": 5}), ("8002", {"social_security": 1}), ("8003", {"social_security": 4}))
    await enqueue(store, "c1", "social_security", pools="social_security:2:0")
    r = await store.reserve()
    assert r is not None and (r.call_id, r.agent) == ("c1", "8003")  # 8002 is below level 2, 8001 lacks the skill


async def test_widening_lets_senior_general_agents_take_an_expert_call_after_the_wait(store: AcdStore) -> None:
    await agents(store, ("8001", {"general": 2}), ("8002", {"general": 3}))
    await enqueue(store, "c1", "social_security", pools="social_security:2:0,general:3:300")
    assert await store.reserve() is None  # no expert, and not waited long enough to widen
    await asyncio.sleep(0.35)
    r = await store.reserve()
    assert r is not None and r.agent == "8002"  # 8001 is idle longer but below level 3


async def test_priority_callers_go_first_and_the_longest_idle_agent_answers(store: AcdStore) -> None:
    await agents(store, ("8001", {"general": 3}), ("8002", {"general": 3}))
    await enqueue(store, "early", "general")
    await enqueue(store, "urgent", "general", priority=1)
    first, second = await store.reserve(), await store.reserve()
    assert first is not None and (first.call_id, first.agent) == ("urgent", "8001")
    assert second is not None and (second.call_id, second.agent) == ("early", "8002")


async def test_a_busy_skill_does_not_block_callers_of_other_skills(store: AcdStore) -> None:
    await agents(store, ("8004", {"tax": 4}))
    for i in range(100):  # a long general queue nobody can take now
        await store.enqueue(f"g{i}", channel="x", skill="general", caller="1", pools=POLICY.pools("general"))
    await enqueue(store, "t1", "tax")
    r = await store.reserve()
    assert r is not None and (r.call_id, r.agent) == ("t1", "8004")


async def test_an_unknown_skill_routes_as_general() -> None:
    assert POLICY.route_skill("no_such_skill") == "general"
    assert POLICY.pools("social_security") == "social_security:2:0,general:3:0"


async def test_requeue_restores_the_place_in_the_skill_queue(store: AcdStore) -> None:
    await agents(store, ("8001", {"general": 3}))
    await enqueue(store, "a", "general")
    await enqueue(store, "b", "general")
    r = await store.reserve()
    assert r is not None and r.call_id == "a"
    assert await store.requeue(r)
    await store.set_agent_state("8001", "ready")
    again = await store.reserve()
    assert again is not None and again.call_id == "a"  # back at the front, not behind b
    assert (await store.skill_load("general")).waiting == 1
