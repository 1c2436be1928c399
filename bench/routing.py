"""`python -m bench routing`: the ACD's routing decision on a real redis-server at centre scale.

2,000 agents (1-3 skills each, levels 1-5) and 2,000 waiting callers across 30 skills, half of the
skills widening to the general one. Each decision: an agent becomes ready, then one reservation
(the atomic Lua script: pick the caller and the agent, take both, fence). A served caller is
replaced by a new arrival so 2,000 keep waiting. Baseline, same run and same Redis: the round trip
of a script that does nothing (what any Redis-backed decision pays at least). `BENCH_ROUTING_DECISIONS`
(default 3000) sizes it.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from acd.policy import RoutingPolicy
from acd.store import AcdStore
from bench.common import median, percentile, progress, publish
from bench.headlines import Headline
from dialplans.model import Skill, Widening
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client

AGENTS = 2000
WAITING = 2000
SKILLS = 30
DECISIONS = int(os.environ.get("BENCH_ROUTING_DECISIONS", "3000"))
SEED = 12345

HEADLINES = (
    Headline("decision_p99_ms", baseline="baseline_noop_script_p99_ms", target="<= 5"),
    Headline("decision_p50_ms", baseline="baseline_noop_script_p50_ms"),
    Headline("decisions_per_s"),
)
ALL_ENV = {"BENCH_ROUTING_DECISIONS": "600"}  # each decision's loop step takes ~0.2 s here: 3000 take ~10 min
BUDGET_S = 420


def _policy() -> RoutingPolicy:
    skills = [Skill("s00", "general", "general")]
    for i in range(1, SKILLS):
        widen = (Widening(30, "s00", 3),) if i % 2 else ()
        skills.append(Skill(f"s{i:02d}", f"skill {i}", "expert", min_level=1, widen=widen))
    return RoutingPolicy(tuple(skills))


async def run() -> dict[str, Any]:
    rng = random.Random(SEED)
    policy = _policy()
    skill_ids = [f"s{i:02d}" for i in range(SKILLS)]
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp:
        server = RedisServer(Path(tmp), free_port())
        await server.start()
        client = redis_client(server.url)
        try:
            store = AcdStore(client)
            progress(f"{AGENTS} agents, {WAITING} waiting callers, {SKILLS} skills")
            agents = [f"a{i:04d}" for i in range(AGENTS)]
            for agent in agents:
                await store.add_agent(agent, {s: rng.randint(1, 5) for s in rng.sample(skill_ids, rng.randint(1, 3))})
                await store.set_agent_state(agent, "on_call")
            serial = 0

            async def arrive() -> None:
                nonlocal serial
                serial += 1
                skill = rng.choice(skill_ids)
                await store.enqueue(f"c{serial}", channel="PJSIP/x", skill=skill, caller="13800000000",
                                    priority=1 if rng.random() < 0.05 else 0, pools=policy.pools(skill))

            for _ in range(WAITING):
                await arrive()
            noop = client.register_script("return 1")
            baseline: list[float] = []
            for _ in range(500):
                t0 = time.perf_counter()
                await noop()
                baseline.append((time.perf_counter() - t0) * 1000)
            progress(f"{DECISIONS} decisions")
            decisions: list[float] = []
            offered = 0
            for i in range(DECISIONS):
                await store.set_agent_state(rng.choice(agents), "ready")
                t0 = time.perf_counter()
                r = await store.reserve()
                decisions.append((time.perf_counter() - t0) * 1000)
                if r is not None:
                    offered += 1
                    await store.connected(r)
                    await arrive()
                if (i + 1) % 1000 == 0:
                    progress(f"{i + 1}/{DECISIONS}: p99 {percentile(decisions, 99):.2f} ms")
            waiting_now = len(await store.waiting())
            ready_now = sum(1 for a in (await store.agents()).values() if a.get("state") == "ready")
        finally:
            await client.aclose()
            await server.stop()
    return publish("routing", {
        "agents": AGENTS, "waiting": WAITING, "skills": SKILLS,
        "decision_p50_ms": round(median(decisions), 3),
        "decision_p99_ms": round(percentile(decisions, 99), 3),
        "decisions_per_s": round(len(decisions) / (sum(decisions) / 1000), 1),
        "target_p99_ms": 5.0,
        "decisions": len(decisions), "offers": offered,
        "waiting_at_end": waiting_now, "ready_unmatched_at_end": ready_now,
        "baseline_noop_script_p50_ms": round(median(baseline), 3),
        "baseline_noop_script_p99_ms": round(percentile(baseline, 99), 3),
        "baseline": "round trip of a Lua script that does nothing, same Redis, same run",
    })
