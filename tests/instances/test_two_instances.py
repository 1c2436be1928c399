"""Two active-active service instances (`hotline run` ×2, SIGKILL-able) sharing one Asterisk pair, PostgreSQL
and Redis behind Sentinel: killing the instance that routes hands routing to the other within 5 s, with every
waiting caller offered once and served; new calls reach the survivor's FastAGI; killing the Redis primary
loses no waiting caller."""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from hotline.core.embedded.sentinel import SentinelSet
from hotline.core.lease import PREFIX
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client
from integration.refcase.process import RefCaseProcess, RefCaseSecrets
from integration.world.call import WorldCall
from tests.e2e.service import Service, world_of
from tests.postgres_server import PostgresServer
from tickets.http import WEBHOOK_PATH

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres, pytest.mark.asyncio(loop_scope="module")]

PATIENT = "noise/wait:1/dtmf:1/wait:150"  # presses 1 for a person, then waits as long as it takes
AGENTS = ("8001", "8002", "8003", "8004")
SHARED = ("SIP_PORT", "AMI_PORT", "WORLD_SIP_PORT", "WORLD_AMI_PORT", "REDIS_PORT", "CASE_PORT", "ASTERISK_HTTP_PORT")
ROUTER_LEASE = f"{PREFIX}acd-router"


@dataclass
class Pair:
    a: Service
    b: Service
    sentinels: SentinelSet
    redis: aioredis.Redis
    offers: Counter[str]  # call id -> offers seen on the live feed
    state: dict[str, Any]  # what `hotline call` reads of the running stack (the world's AMI…)
    refcase: RefCaseProcess


async def listen_offers(redis: aioredis.Redis, offers: Counter[str]) -> None:
    while True:
        try:
            pubsub = redis.pubsub()
            await pubsub.subscribe("acd:events")
            async for message in pubsub.listen():
                if message.get("type") == "message" and (e := json.loads(message["data"])).get("event") == "offered":
                    offers[str(e["call"])] += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            await asyncio.sleep(0.2)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    top = tmp_path_factory.mktemp("instances")
    sentinels = SentinelSet(top / "redis", (free_port(), free_port()), (free_port(), free_port(), free_port()))
    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port())
    keys = RefCaseSecrets(*(secrets.token_urlsafe(16) for _ in range(3)))
    home = top / "home"
    a = Service(home, INSTANCE="a")
    b = Service(home, INSTANCE="b", **{k: a.env[f"HOTLINE_{k}"] for k in SHARED if f"HOTLINE_{k}" in a.env})
    refcase = RefCaseProcess(top / "refcase", int(a.env["HOTLINE_CASE_PORT"]), b.url + WEBHOOK_PATH, keys)
    await sentinels.start()
    await pg.start()
    await refcase.start()
    common = {"INSTANCES": f"a=127.0.0.1:{a.env['HOTLINE_AGI_PORT']},b=127.0.0.1:{b.env['HOTLINE_AGI_PORT']}",
              "DATABASE_URL": pg.url, "REDIS_URL": sentinels.url, "REDIS_MASTER": sentinels.master,
              "REDIS_SENTINELS": ",".join(f"{h}:{p}" for h, p in sentinels.sentinels),
              "CASE_URL": refcase.url, "CASE_SECRET": keys.intake, "CASE_WEBHOOK_SECRET": keys.webhook}
    for service in (a, b):
        service.env.update({f"HOTLINE_{k}": v for k, v in common.items()})
    redis = redis_client(sentinels.url, sentinels=sentinels.sentinels, master=sentinels.master)
    offers: Counter[str] = Counter()
    listener = asyncio.create_task(listen_offers(redis, offers))
    try:
        state = await a.start()
        await b.start()
        yield Pair(a, b, sentinels, redis, offers, state, refcase)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        for service in (b, a):
            await service.stop()
        await redis.aclose()
        await refcase.stop()
        await pg.stop()
        await sentinels.stop()


async def holder(redis: aioredis.Redis) -> str:
    return str(await redis.get(ROUTER_LEASE) or "").split(":")[0]


async def waiting(service: Service, count: int, timeout: float = 40.0) -> list[str]:
    for _ in range(int(timeout * 5)):
        callers = await service.waiting_callers()
        if len(callers) == count:
            return callers
        await asyncio.sleep(0.2)
    raise AssertionError(f"not {count} waiting: {await service.waiting_callers()}")


async def served(calls: list[WorldCall]) -> dict[str, str]:
    """Call id -> the agent who served it, once every call ended; each was served."""
    outcomes = await asyncio.gather(*(c.outcome() for c in calls))
    agents = {}
    for outcome in outcomes:
        assert outcome.record is not None and outcome.record.agent, outcome.record
        assert len(outcome.record.recordings) == 1, "written once, though both instances heard the events"
        agents[outcome.record.call_id] = outcome.record.agent
    return agents


@pytest.mark.timeout(240)
async def test_killing_the_routing_instance_hands_routing_over_within_5_s_without_double_offers(pair: Pair) -> None:
    a, b = pair.a, pair.b
    for _ in range(50):
        if await holder(pair.redis) in ("a", "b"):
            break
        await asyncio.sleep(0.1)
    first = await holder(pair.redis)
    router, survivor = (a, b) if first == "a" else (b, a)
    async with world_of(pair.state) as (world, ami):
        for agent in AGENTS:
            await survivor.api("POST", f"/api/agents/{agent}/state", {"state": "paused", "reason": "test"})
        for agent in AGENTS:
            await ami.action("Setvar", {"Variable": f"WORLD_TALK_{agent}", "Value": "2"})
        calls = [await world.start("12345", f"1360000010{n}", script=PATIENT, timeout_s=150) for n in range(3)]
        before = await waiting(survivor, 3)

        router.kill()
        killed = time.monotonic()
        assert router.proc is not None
        await asyncio.wait_for(router.proc.wait(), 10)
        for _ in range(100):
            if await holder(pair.redis) not in ("", first):
                break
            await asyncio.sleep(0.05)
        gap = time.monotonic() - killed
        print(f"router lease taken over {gap:.2f} s after the SIGKILL")
        assert await holder(pair.redis) not in ("", first) and gap < 5.0

        late = await world.start("12345", "13600000199", script=PATIENT, timeout_s=150)  # the AGI fails over
        assert await waiting(survivor, 4) == [*before, "13600000199"], "the places kept, the late one last"
        for agent in ("8001", "8002"):
            await survivor.api("POST", f"/api/agents/{agent}/state", {"state": "ready"})
        agents = await served([*calls, late])
        assert set(agents.values()) <= {"8001", "8002"}
        print("offers per call:", {c: pair.offers[c] for c in agents})
        assert all(pair.offers[c] == 1 for c in agents), "every caller offered exactly once"
        assert await survivor.waiting_callers() == []
    await router.start()  # the killed instance comes back, as the standby now
    assert await holder(pair.redis) == ("b" if first == "a" else "a")


async def routing(pair: Pair) -> Service:
    """The instance holding the router lease (waiting for one to hold it)."""
    for _ in range(100):
        if (name := await holder(pair.redis)) in ("a", "b"):
            return pair.a if name == "a" else pair.b
        await asyncio.sleep(0.1)
    raise AssertionError("no instance holds the router lease")


async def submitted_ticket(service: Service, title: str) -> int:
    ticket = {"channel": "网站", "request_type": "咨询", "category": "010101", "title": title,
              "content": {"description": "如何办理护照"},
              "petitioner": {"name": "李", "phone": "13800138000", "revisit_consent": True}}
    made = await service.api("POST", "/api/tickets", ticket)
    await service.api("POST", f"/api/tickets/{made['id']}/submit")
    return int(made["id"])


@pytest.mark.timeout(180)
async def test_killing_the_redis_primary_loses_no_waiting_caller_and_no_ticket(pair: Pair) -> None:
    service = await routing(pair)
    async with world_of(pair.state) as (world, _):
        for agent in AGENTS:
            await service.api("POST", f"/api/agents/{agent}/state", {"state": "paused", "reason": "test"})
        call = await world.start("12345", "13600000201", script=PATIENT, timeout_s=150)
        assert await waiting(service, 1) == ["13600000201"]
        await submitted_ticket(service, "故障切换前")
        await pair.redis.wait(1, 2000)  # the replica has the queue before the primary dies

        old = await pair.sentinels.kill_primary()
        killed = time.monotonic()
        await submitted_ticket(pair.a if service is pair.b else pair.b, "故障切换中")  # while Redis fails over
        new = await pair.sentinels.wait_primary(not_port=old)
        print(f"Sentinel named a new primary ({old} -> {new}) {time.monotonic() - killed:.1f} s after the kill")

        service = await routing(pair)
        assert await waiting(service, 1) == ["13600000201"], "the waiting caller survived the failover"
        await service.api("POST", "/api/agents/8003/state", {"state": "ready"})
        assert list((await served([call])).values()) == ["8003"]
    wanted = ("故障切换前", "故障切换中")
    for _ in range(100):
        got = (await pair.refcase.admin("GET", "/admin/cases"))["cases"]
        assert isinstance(got, list)
        cases = [json.dumps(c, ensure_ascii=False) for c in got]
        if all(any(t in c for c in cases) for t in wanted):
            break
        await asyncio.sleep(0.2)
    assert {t: sum(t in c for c in cases) for t in wanted} == dict.fromkeys(wanted, 1), "each ticket exactly once"
