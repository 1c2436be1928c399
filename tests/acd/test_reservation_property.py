"""Reservations under a storm of concurrent random events on a real redis-server.

Invariants: an agent is never offered two callers at once, a caller is never offered to two agents
at once, a missed offer puts the caller back in their original place, and no caller is ever lost.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from acd.store import WAITING, AcdStore, Reservation


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_no_double_offer_and_no_lost_caller(store: AcdStore, seed: int) -> None:
    rng = random.Random(seed)
    agents = [f"80{i:02d}" for i in range(20)]
    skills = ["general", "tax", "social_security"]
    for agent in agents:
        await store.add_agent(agent, {s: rng.randint(1, 5) for s in rng.sample(skills, rng.randint(1, 2))})
        await store.set_agent_state(agent, "ready")
    callers = [f"call-{seed}-{i}" for i in range(300)]
    busy_agents: dict[str, str] = {}   # agent -> call, for live reservations
    offered: dict[str, str] = {}       # call -> agent
    connected: set[str] = set()
    abandoned: set[str] = set()
    gone_while_offered: set[str] = set()  # settle found the caller gone: must have been abandoned
    events = 0

    async def arrive(call: str) -> None:
        await asyncio.sleep(rng.random() * 0.2)
        await store.enqueue(call, channel=f"PJSIP/c-{call}", skill=rng.choice(skills), caller="13800000000",
                            priority=rng.choice([0, 0, 0, 1]))

    async def settle(r: Reservation) -> None:
        nonlocal events
        await asyncio.sleep(rng.random() * 0.01)
        roll = rng.random()
        if roll < 0.3:  # missed offer: caller back in place, agent paused then back
            rank_before = await store.redis.hget(f"acd:call:{r.call_id}", "rank")
            del offered[r.call_id]  # the offer ends here; the router may pick the caller again at once
            if await store.requeue(r):
                score = await store.redis.zscore(WAITING, r.call_id)
                assert score is None or score == float(rank_before or 0), "back at the original place"
            else:
                gone_while_offered.add(r.call_id)
            assert await store.set_agent_state(r.agent, "paused", token=r.token, reason="missed")
            del busy_agents[r.agent]
            await store.set_agent_state(r.agent, "ready")
        elif roll < 0.35:  # the caller hangs up while their phone rings at the agent
            del offered[r.call_id], busy_agents[r.agent]
            await store.forget_call(r.call_id)
            abandoned.add(r.call_id)
            await store.set_agent_state(r.agent, "ready")
        else:  # answered, talked, wrapped up
            del offered[r.call_id], busy_agents[r.agent]
            if not await store.connected(r):  # the caller hung up while the phone rang
                gone_while_offered.add(r.call_id)
                assert await store.set_agent_state(r.agent, "ready", token=r.token)
                events += 1
                return
            connected.add(r.call_id)
            assert await store.set_agent_state(r.agent, "wrap_up", token=r.token)
            assert await store.set_agent_state(r.agent, "ready", token=r.token)
        events += 1

    async def router() -> None:
        nonlocal events
        pending: list[asyncio.Task[None]] = []
        idle_rounds = 0
        while idle_rounds < 50:
            r = await store.reserve()
            if r is None:
                idle_rounds += 1
                await asyncio.sleep(0.01)
                continue
            idle_rounds = 0
            events += 1
            assert r.agent not in busy_agents, f"agent {r.agent} offered two callers"
            assert r.call_id not in offered, f"caller {r.call_id} offered twice"
            busy_agents[r.agent], offered[r.call_id] = r.call_id, r.agent
            pending.append(asyncio.create_task(settle(r)))
        await asyncio.gather(*pending)

    async def waiting_hangups() -> None:
        for call in rng.sample(callers, 20):
            await asyncio.sleep(rng.random() * 0.2)
            if await store.forget_call(call) in ("waiting", "offered"):
                abandoned.add(call)

    await asyncio.gather(*(arrive(c) for c in callers), router(), router(), waiting_hangups())
    assert await store.waiting() == [], "everyone routable was routed"
    assert gone_while_offered <= abandoned, "an offer only fails to land when the caller hung up"
    assert connected | abandoned == set(callers), "no caller lost"
    assert not connected & abandoned
    assert events > 600
