"""Issue 18's first "Done when", everything together: two Asterisk media nodes behind Kamailio, two service
instances (`hotline run` ×2, SIGKILL-able), Redis primary + replica + three Sentinels, PostgreSQL and the reference
case system, with real carrier calls through Kamailio from the world.

Who is where: every member in its own network namespace with its own address on the run's bridge
(integration.cluster): the two nodes, Kamailio, the world, the two instances (a: .21, b: .22; each serves its
API and FastAGI there and reaches the nodes' AMI, Redis, PostgreSQL and the case system across the bridge), the
Redis primary, its replica and the three Sentinels (one each: replication and Sentinel's gossip cross the bridge
as between machines), PostgreSQL and the case system. The root namespace (.1) holds only the test, which drives
the world and watches. The first instance starts the nodes' Asterisks (HOTLINE_NODES names their namespaces); the
second finds them running and adopts them, as does an instance started again after a kill.

The scenario, one topology for the module, in order: one queue across the nodes in arrival order; the routing
instance SIGKILLed while callers wait; the Redis primary SIGKILLed while callers wait; the standby instance
stopped gracefully (the nodes stay up for the other); a node SIGKILLed. Teardown leaves no process, namespace or
link behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from dialplans.loader import load_dialplan
from dialplans.secrets import load_or_create_secrets, load_phone_secrets
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiError
from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.asterisk.root import find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.embedded.sentinel import SentinelSet
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client
from integration.cluster.topology import ClusterTopology, Edge, namespaces, start_edge
from integration.refcase.process import RefCaseProcess, RefCaseSecrets
from integration.world.call import WorldCall, WorldCaller
from tests.cluster.test_two_nodes import _registered, _until
from tests.e2e.conftest import edited_dialplan
from tests.e2e.service import Service
from tests.instances.test_two_instances import (
    PATIENT,
    SHARED,
    holder,
    listen_offers,
    submitted_ticket,
)
from tests.postgres_server import PostgresServer
from tickets.http import WEBHOOK_PATH

pytestmark = [pytest.mark.asterisk, pytest.mark.cluster, pytest.mark.postgres,
              pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]

AGENTS = ("8001", "8002", "8003", "8004")
INSTANCES = ("a", "b")
REDIS = ("redis-1", "redis-2", "sentinel-1", "sentinel-2", "sentinel-3")  # primary, replica, Sentinels
DATABASE, CASES = "pg", "cases"


@dataclass
class Whole:
    topology: ClusterTopology
    services: dict[str, Service]
    edge: Edge
    caller: WorldCaller
    calls: CallRecords
    data: DataDirs
    sentinels: SentinelSet
    redis: aioredis.Redis
    offers: Counter[str]  # call id -> offers seen on the ACD's live feed
    refcase: RefCaseProcess
    starter: Service | None  # the instance that started the nodes' Asterisks, while it runs

    async def routing(self) -> Service:
        """The instance holding the router lease (once one holds it)."""
        name = await _until(lambda: _held(self.redis), 20, "an instance holding the router lease")
        return self.services[name]

    async def waiting(self) -> list[str]:
        """The call ids waiting, in routing order, as the routing instance shows them."""
        return [w["call_id"] for w in (await (await self.routing()).api("GET", "/api/acd/queue"))["waiting"]]

    async def set_agents(self, state: str, *agents: str) -> None:
        service = await self.routing()
        for agent in agents:
            await service.api("POST", f"/api/agents/{agent}/state", {"state": state, "reason": "test"})

    async def call_id(self, call: WorldCall) -> str:
        sip = await call.answered(timeout=15)

        async def found() -> str | None:
            rows = await self.calls.list(sip_call_id=sip, limit=1)
            return rows[0].call_id if rows else None

        return str(await _until(found, 10, f"a call record for {sip}"))

    async def cases(self, *titles: str) -> dict[str, int]:
        """How often each ticket title reached the case system, once every one of them did."""
        async def all_there() -> dict[str, int] | None:
            got = (await self.refcase.admin("GET", "/admin/cases"))["cases"]
            assert isinstance(got, list)
            cases = [str(c) for c in got]  # (each case as text: its title among the rest)
            seen = {t: sum(t in c for c in cases) for t in titles}
            return seen if all(seen.values()) else None

        return dict(await _until(all_there, 20, f"tickets {titles} in the case system"))


async def _held(redis: aioredis.Redis) -> str | None:
    return name if (name := await holder(redis)) in ("a", "b") else None


def _nodes_env(topology: ClusterTopology) -> str:
    return ",".join(f"{n.name}@{n.address}:{n.ami_port};netns={n.netns}" for n in topology.nodes())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def whole(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Whole]:
    top = tmp_path_factory.mktemp("whole")
    home = top / "home"
    home.mkdir()
    topology = ClusterTopology.create(instances=INSTANCES, shared=(*REDIS, DATABASE, CASES))

    def edit(plan: dict[str, Any]) -> None:
        plan["cluster"] = topology.cluster_section()
        plan["trunks"][0]["match"] = [topology.world_address]  # the carrier: the world, through Kamailio

    redis = [topology.member(m) for m in REDIS]
    sentinels = SentinelSet(top / "redis", (free_port(), free_port()), (free_port(), free_port(), free_port()),
                            hosts=tuple(m.address for m in redis), netns=tuple(m.netns for m in redis))
    db, cases = topology.member(DATABASE), topology.member(CASES)
    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port(), host=db.address, netns=db.netns,
                        clients=topology.network)
    keys = RefCaseSecrets(*(secrets.token_urlsafe(16) for _ in range(3)))
    with namespaces(topology):
        async with contextlib.AsyncExitStack() as stack:
            hosts = {n: topology.instance(n).address for n in INSTANCES}
            a = Service(home, netns=topology.instance("a").netns, host=hosts["a"], INSTANCE="a", AGI_BIND=hosts["a"])
            b = Service(home, netns=topology.instance("b").netns, host=hosts["b"], INSTANCE="b", AGI_BIND=hosts["b"],
                        **{k: a.env[f"HOTLINE_{k}"] for k in SHARED if f"HOTLINE_{k}" in a.env})
            refcase = RefCaseProcess(top / "refcase", int(a.env["HOTLINE_CASE_PORT"]), b.url + WEBHOOK_PATH, keys,
                                     host=cases.address, netns=cases.netns)
            await sentinels.start()
            stack.push_async_callback(sentinels.stop)
            await pg.start()
            stack.push_async_callback(pg.stop)
            await refcase.start()
            stack.push_async_callback(refcase.stop)
            dialplan_file = edited_dialplan(top, edit)
            agi = {n: f"{n}={hosts[n]}:{s.env['HOTLINE_AGI_PORT']}" for n, s in (("a", a), ("b", b))}
            common = {"INSTANCES": f"{agi['a']},{agi['b']}",
                      "NODES": _nodes_env(topology), "DIALPLAN": str(dialplan_file), "WORLD": "0",
                      "CARRIER_URI": f"sip:{topology.world_address}:5060", "DATABASE_URL": pg.url,
                      "REDIS_URL": sentinels.url, "REDIS_MASTER": sentinels.master,
                      "REDIS_SENTINELS": ",".join(f"{h}:{p}" for h, p in sentinels.sentinels),
                      "CASE_URL": refcase.url, "CASE_SECRET": keys.intake, "CASE_WEBHOOK_SECRET": keys.webhook}
            for service in (a, b):
                service.env.update({f"HOTLINE_{k}": v for k, v in common.items()})
                stack.push_async_callback(service.stop)  # (b first, then a: the last one holding them stops the nodes)
            live = redis_client(sentinels.url, sentinels=sentinels.sentinels, master=sentinels.master)
            stack.push_async_callback(live.aclose)
            offers: Counter[str] = Counter()
            listener = asyncio.create_task(listen_offers(live, offers))

            async def stop_listening() -> None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)

            stack.push_async_callback(stop_listening)
            state = await a.start()  # starts both nodes' Asterisks, each in its namespace …
            await b.start()  # … which b finds running and adopts
            plan = load_dialplan(dialplan_file)
            data = DataDirs(find_root(state["asterisk_root"]), state["data_dir_inner"])
            phones = {p: s for p, s in load_phone_secrets(home / "secrets.json").items() if p in AGENTS}
            world_secret = load_or_create_secrets(home / "secrets.json", plan).world_ami_secret
            edge = await start_edge(topology, plan, data.root, top, data.instance("world"), phones, world_secret)
            stack.push_async_callback(edge.close)
            await _registered(edge, len(phones))
            engine = create_engine(state["database_url"])
            stack.push_async_callback(engine.dispose)
            calls = CallRecords(session_factory(engine))
            yield Whole(topology, {"a": a, "b": b}, edge, WorldCaller(edge.world_ami, data.inner_of("heard"), data.host,
                                                                        calls), calls, data, sentinels, live, offers,
                        refcase, a)
        left = topology.nets.processes()  # every member stopped on its own: nothing for `down()` to kill
    assert not left, f"processes left in the run's namespaces: {left}"
    assert not topology.nets.remaining(), f"namespaces or links left: {topology.nets.remaining()}"


@contextlib.asynccontextmanager
async def hung_up_after(calls: list[WorldCall]) -> AsyncIterator[list[WorldCall]]:
    """The calls the block starts; whatever happens in it, every one is hung up after it (no caller left waiting
    ahead of the next step's)."""
    try:
        yield calls
    finally:
        for call in calls:
            with contextlib.suppress(AmiError, TimeoutError, asyncio.InvalidStateError):
                await call.hangup()
        for call in calls:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(call.outcome(), 30)


async def place(w: Whole, calls: list[WorldCall], count: int, prefix: str) -> list[str]:
    """`count` patient callers about a second apart; their call ids."""
    for n in range(count):
        calls.append(await w.caller.start("12345", f"{prefix}{n:02d}", script=PATIENT, timeout_s=150))
        await asyncio.sleep(1.0)
    return [await w.call_id(call) for call in calls[-count:]]


async def served(w: Whole, ids: list[str]) -> dict[str, str]:
    """Call id -> the agent who took it, once every caller was connected to an agent and their recording (made on
    whichever node held the call) filed once, though both instances heard the events."""
    async def all_served() -> dict[str, str] | None:
        rows = [await w.calls.get(i) for i in ids]
        if not all(r is not None and r.agent and r.recordings for r in rows):
            return None
        assert all(len(r.recordings) == 1 for r in rows if r is not None), [r.recordings for r in rows if r]
        return {r.call_id: str(r.agent) for r in rows if r is not None}

    return dict(await _until(all_served, 40, f"{ids} each connected to an agent, recording filed"))


async def all_waiting(w: Whole, ids: list[str]) -> list[str]:
    async def waiting() -> list[str] | None:
        now = await w.waiting()
        return now if set(ids) <= set(now) else None

    return [i for i in await _until(waiting, 40, f"{ids} waiting in the one queue") if i in ids]


async def test_callers_on_both_nodes_wait_in_one_queue_and_are_served_in_arrival_order(whole: Whole) -> None:
    w = whole
    await w.set_agents("paused", *AGENTS)
    for agent in AGENTS:  # each agent talks 2 s, then hangs up
        await w.edge.world_ami.action("Setvar", {"Variable": f"WORLD_TALK_{agent}", "Value": "2"})
    async with hung_up_after([]) as calls:
        ids = await place(w, calls, 4, "135001350")
        print(f"\ncalls {ids} landed on nodes {[i.split('-', 1)[0] for i in ids]}")
        assert {i.split("-", 1)[0] for i in ids} == {"a", "b"}  # Kamailio spread them over both nodes
        waiting = await all_waiting(w, ids)
        queued_at = {i: next(s["at"] for s in r.steps if s["step"] == "queued")
                     for i in ids if (r := await w.calls.get(i)) is not None}
        assert waiting == sorted(ids, key=lambda i: queued_at[i]), (waiting, queued_at)  # one queue, by entry
        await w.set_agents("ready", *AGENTS[:2])
        agents = await served(w, ids)
        rows = [await w.calls.get(i) for i in waiting]
        connected = [next(s["at"] for s in r.steps if s["step"] == "agent") for r in rows if r is not None]
        print("served in order", [(i, agents[i], at) for i, at in zip(waiting, connected, strict=True)])
        assert max(connected[:2]) < min(connected[2:])  # the first two in the queue before the last two
        assert set(agents.values()) == set(AGENTS[:2])  # agents' phones reached from both nodes through Kamailio
        assert all(w.offers[i] == 1 for i in ids), {i: w.offers[i] for i in ids}


async def test_killing_the_routing_instance_loses_no_caller_and_no_ticket(whole: Whole) -> None:
    w = whole
    router = await w.routing()
    first = next(n for n, s in w.services.items() if s is router)
    survivor = w.services["b" if first == "a" else "a"]
    await w.set_agents("paused", *AGENTS)
    async with hung_up_after([]) as calls:
        ids = await place(w, calls, 3, "136001360")
        before = await all_waiting(w, ids)
        await submitted_ticket(router, "路由实例故障前")  # typed on the instance about to die

        router.kill()
        killed = time.monotonic()
        assert router.proc is not None
        await asyncio.wait_for(router.proc.wait(), 10)
        w.starter = None if router is w.starter else w.starter

        async def taken_over() -> str | None:  # (the dead one's lease stands until it expires)
            return name if (name := await _held(w.redis)) not in (None, first) else None

        taken = await _until(taken_over, 10, "the other instance taking the router lease")
        gap = time.monotonic() - killed
        print(f"\ninstance {first} (routing) SIGKILLed: instance {taken} took routing over {gap:.2f} s later")
        assert taken != first and gap < 5.0

        late = await place(w, calls, 1, "136001369")  # its FastAGI fails over to the survivor when a was first
        assert await all_waiting(w, [*ids, *late]) == [*before, *late], "the places kept, the late one last"
        for agent in AGENTS[:2]:
            await survivor.api("POST", f"/api/agents/{agent}/state", {"state": "ready"})
        agents = await served(w, [*ids, *late])
        print("offers per call:", {c: w.offers[c] for c in agents})
        assert all(w.offers[c] == 1 for c in agents), "every caller offered exactly once"
    assert await w.cases("路由实例故障前") == {"路由实例故障前": 1}, "the ticket reached the case system once"
    await router.start()  # back as the standby: it adopts both nodes' Asterisks again
    assert await _held(w.redis) == taken


async def test_killing_the_redis_primary_loses_no_waiting_caller(whole: Whole) -> None:
    w = whole
    await w.set_agents("paused", *AGENTS)
    async with hung_up_after([]) as calls:
        ids = await place(w, calls, 2, "137001370")
        before = await all_waiting(w, ids)
        await submitted_ticket(await w.routing(), "缓存故障前")
        await w.redis.wait(1, 2000)  # the replica has the queue before the primary dies

        old = await w.sentinels.kill_primary()
        killed = time.monotonic()
        new = await w.sentinels.wait_primary(not_port=old)
        print(f"\nRedis primary SIGKILLed: Sentinel named {new} primary {time.monotonic() - killed:.1f} s later")
        assert await all_waiting(w, ids) == before, "the waiting callers survived the failover, in their places"
        await w.set_agents("ready", *AGENTS[2:])
        agents = await served(w, ids)
        assert set(agents.values()) <= set(AGENTS[2:])
    assert await w.cases("缓存故障前") == {"缓存故障前": 1}


async def test_a_graceful_stop_of_the_standby_instance_leaves_the_nodes_to_the_other(whole: Whole) -> None:
    w = whole
    router = await w.routing()
    name, standby = next((n, s) for n, s in w.services.items() if s is not router)
    pids = {node: await _node_pid(w, node) for node in w.topology.node_names}
    await w.set_agents("paused", *AGENTS)
    assert standby.proc is not None
    standby.proc.terminate()  # SIGTERM: `hotline run` closes everything it holds
    assert await asyncio.wait_for(standby.proc.wait(), 60) == 0
    print(f"\ninstance {name} (standby, had {'started' if standby is w.starter else 'adopted'} the nodes) stopped "
          f"gracefully; the nodes' Asterisks: {pids}")
    assert {node: await _node_pid(w, node) for node in pids} == pids  # both still up, the same processes
    await w.set_agents("ready", *AGENTS[2:])
    async with hung_up_after([]) as calls:
        ids = await place(w, calls, 2, "137501375")
        assert {i.split("-", 1)[0] for i in ids} == {"a", "b"}  # a call on each node …
        agents = await served(w, ids)  # … served by the instance left: FastAGI, routing, recording
        assert set(agents.values()) <= set(AGENTS[2:]) and all(w.offers[i] == 1 for i in ids)


async def _node_pid(w: Whole, node: str) -> int:
    name = f"hotline-{node}"
    pid = await AsteriskInstance(w.data.root, name, {}, inner_dir=w.data.instance(name)).running()
    assert pid is not None, f"node {node}'s Asterisk not running"
    return pid


async def test_a_killed_node_loses_only_its_calls_and_new_calls_succeed_on_the_other(whole: Whole) -> None:
    w = whole
    await w.set_agents("paused", *AGENTS)
    async with hung_up_after([]) as calls:
        ids = {i.split("-", 1)[0]: i for i in await place(w, calls, 2, "138001380")}
        assert set(ids) == {"a", "b"}, ids  # one caller waiting on each node
        await all_waiting(w, list(ids.values()))
        pid = await _node_pid(w, "a")
        killed = time.monotonic()
        for kill in (os.killpg, os.kill):  # (its process group: Asterisk and whatever it runs)
            with contextlib.suppress(ProcessLookupError):
                kill(pid, signal.SIGKILL)
        down, results = await _calls_after_the_kill(w, calls, killed)
        print(f"\nnode a SIGKILLed: Kamailio marked it down {down:.1f} s later; new calls (placed s after the kill, "
              f"answered, answered s after the kill, node): "
              f"{[(round(p, 1), ok, round(at, 1), n) for p, ok, at, n in results]}")
        assert all(ok and node == "b" for _, ok, _, node in results), results  # none lost: all on node b …
        assert all(at - placed < 5.0 for placed, _, at, _ in results), results  # … each answered within 5 s
        assert down < 5.0  # and from then on, new calls avoid the dead node

        async def a_caller_given_up() -> bool:  # node a's caller is lost with it: out of the queue, record ended
            record = await w.calls.get(ids["a"])
            return ids["a"] not in await w.waiting() and record is not None and record.ended_at is not None

        await _until(a_caller_given_up, 15, "node a's caller given up")
        print(f"node a's caller {ids['a']} given up {time.monotonic() - killed:.1f} s after the kill")
        assert ids["b"] in await w.waiting()  # node b's caller waits on …
        await w.set_agents("ready", AGENTS[0])

        async def b_caller_served() -> bool:
            record = await w.calls.get(ids["b"])
            return record is not None and record.agent == AGENTS[0]

        await _until(b_caller_served, 20, "node b's caller connected to an agent")  # … and is served


async def _calls_after_the_kill(w: Whole, calls: list[WorldCall], killed: float,
                                ) -> tuple[float, list[tuple[float, bool, float, str]]]:
    """New calls one after the other from the kill on, until one second past Kamailio marking node a down: when
    it did (seconds after the kill), and each call's (placed, answered, answered seconds after the kill, node)."""
    down: list[float] = []

    async def watch_down() -> None:
        await _until(_logged(w, "media node down"), 10, "Kamailio marking node a down")
        down.append(time.monotonic() - killed)

    watcher = asyncio.create_task(watch_down())
    results: list[tuple[float, bool, float, str]] = []
    try:
        while not results or (results[-1][0] < (down[0] if down else 99) + 1 and len(results) < 8):
            placed = time.monotonic() - killed
            call = await w.caller.start("12345", f"139001390{len(results):02d}", script="wait:1")
            calls.append(call)
            try:
                node = (await w.call_id(call)).split("-", 1)[0]
                results.append((placed, True, time.monotonic() - killed, node))
            except (AssertionError, TimeoutError):
                results.append((placed, False, time.monotonic() - killed, ""))
        await asyncio.wait_for(watcher, 10)
    finally:
        watcher.cancel()
    return down[0], results


def _logged(w: Whole, needle: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(w.edge.front_door.log_lines(needle))
    return check
