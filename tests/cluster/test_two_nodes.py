"""Issue 18's first slice on real parts: carriers' calls through Kamailio onto two Asterisk nodes driven by one
service, served from one queue to agents' phones registered through Kamailio; a node killed, new calls go on.

The topology (network namespaces: two nodes, Kamailio, the world; the service on the same bridge) is built once
for the module and torn down after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from hotline.core.asterisk.ami import AmiError
from integration.cluster.frontdoor import sip_request
from integration.world.call import WorldCall
from tests.cluster.common import Cluster, call_id, registered, running_cluster, until
from tests.e2e.conftest import api
from tests.e2e.test_first_call import stored_recording

pytestmark = [pytest.mark.asterisk, pytest.mark.cluster, pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]

AGENTS = ("8001", "8002")
_registered, _until = registered, until  # (their names before tests/cluster/common.py; tests/cluster/test_whole.py)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    async with running_cluster(tmp_path_factory.mktemp("home")) as c:
        yield c


async def _set_agents(c: Cluster, state: str, *agents: str) -> None:
    assert c.stack.acd is not None
    for agent in agents:
        await c.stack.acd.set_agent_state(agent, state, reason="test")


async def test_calls_land_on_both_nodes_and_one_queue_serves_them_in_arrival_order(cluster: Cluster) -> None:
    c = cluster
    assert c.stack.acd is not None
    await _set_agents(c, "paused", *[a for a in (await c.stack.acd.agents())])
    for agent in AGENTS:  # each agent talks 2 s, then hangs up
        await c.edge.world_ami.action("Setvar", {"Variable": f"WORLD_TALK_{agent}", "Value": "2"})
    calls = []
    try:
        for i in range(4):
            calls.append(await c.caller.start("12345", f"1380013800{i}", script="wait:40"))
            await asyncio.sleep(1.0)
        await _one_queue_in_arrival_order(c, calls)
    finally:
        for call in calls:  # whatever happened: no caller left waiting ahead of the next test's
            with contextlib.suppress(AmiError, TimeoutError):
                await call.hangup()
        for call in calls:
            await call.outcome()


async def _one_queue_in_arrival_order(c: Cluster, calls: list[WorldCall]) -> None:
    ids = [await call_id(c, call) for call in calls]
    nodes = [c.ami.node_of(i) or i.split("-", 1)[0] for i in ids]
    print(f"\ncalls {ids} landed on nodes {nodes}")
    assert set(nodes) == {"a", "b"}, nodes  # Kamailio spread them over both nodes
    assert all(i.startswith(f"{n}-") for i, n in zip(ids, nodes, strict=True))  # (the call id names its node)

    async def all_waiting() -> list[str] | None:
        assert c.stack.acd is not None
        waiting = [w["call_id"] for w in await c.stack.acd.waiting()]
        return waiting if set(ids) <= set(waiting) else None

    waiting = [w for w in await until(all_waiting, 20, "the four callers waiting in the one queue") if w in ids]
    assert c.stack.calls is not None
    queued_at = {i: next(s["at"] for s in r.steps if s["step"] == "queued")
                 for i in ids if (r := await c.stack.calls.get(i)) is not None}
    # one queue across the nodes, in the order the callers arrived in it (on either node); placed a second
    # apart, that is the order they called in unless a node was slow to greet one
    assert waiting == sorted(ids, key=lambda i: queued_at[i]), (waiting, queued_at)
    print(f"queue order {waiting}; order called {ids}")
    await _set_agents(c, "ready", *AGENTS)

    async def all_served() -> list[Any] | None:
        assert c.stack.calls is not None
        rows = [await c.stack.calls.get(i) for i in waiting]
        return rows if all(r is not None and r.agent for r in rows) else None

    served = await until(all_served, 40, "every caller connected to an agent")
    connected = [next(s["at"] for s in r.steps if s["step"] == "agent") for r in served]
    print("served by", [(r.call_id, r.agent, at) for r, at in zip(served, connected, strict=True)])
    assert max(connected[:2]) < min(connected[2:])  # the first two in the queue before the last two
    assert {r.agent for r in served} == set(AGENTS)  # agents' phones reached from both nodes through Kamailio

    async def all_rated() -> bool:  # each agent hangs up after 2 s: every caller, on either node, is asked to rate
        assert c.stack.calls is not None
        rows = [await c.stack.calls.get(i) for i in ids]
        return all(r is not None and "rating_prompt" in [s["step"] for s in r.steps] for r in rows)

    await until(all_rated, 20, "every caller bridged to their own agent, then asked to rate")
    for call in calls:
        await call.hangup()
    for call in calls:
        await call.outcome()
    for one in ids[:2]:  # one call of each node: its recording reaches the one store
        stored = await stored_recording(c.stack, one)
        print(f"{one} recorded: {stored['status']} {stored.get('duration_s') or stored.get('path', '')}")


async def test_the_front_door_takes_calls_from_carriers_only_and_registrations_with_the_password(
        cluster: Cluster) -> None:
    door, port = cluster.topology.front_door_address, 5060

    def ask(method: str, uri: str, user: str = "probe") -> str:
        return sip_request(method, uri, door, port, 2.0, user)

    # the service's own address is neither a carrier nor a node: no call through it, and no phone without its password
    assert (await asyncio.to_thread(ask, "INVITE", f"sip:12345@{door}")).startswith("SIP/2.0 403")
    assert (await asyncio.to_thread(ask, "REGISTER", f"sip:{door}", "8001")).startswith("SIP/2.0 401")
    assert (await asyncio.to_thread(ask, "REGISTER", f"sip:{door}", "8999")).startswith("SIP/2.0 403")


async def test_an_agent_added_to_the_directory_reaches_every_node(cluster: Cluster) -> None:
    c = cluster
    assert c.stack.tokens is not None
    admin = await c.stack.tokens.create(name="admin", role="admin")
    status, body = await api(c.stack, "POST", "/api/directory/agents", admin,
                             {"id": "8123", "name": "新坐席", "seat": "general", "skills": {"general": 3}})
    assert status == 201, body
    via = f"sip:8123@{c.topology.front_door_address}:5060"

    async def on_every_node() -> bool:
        shown = [await node.cli("pjsip show aor 8123") for node in c.stack.nodes]
        return len(shown) == 2 and all(via in aor for aor in shown)

    await until(on_every_node, 20, "the new agent's phone on both nodes, reached through Kamailio")


async def test_a_killed_node_loses_its_calls_only_and_new_calls_go_to_the_other(cluster: Cluster) -> None:
    c = cluster
    node_a = c.stack.nodes[0]
    assert node_a.pid is not None and node_a.netns.endswith("-a") and c.stack.acd is not None
    await _set_agents(c, "paused", *AGENTS)
    before = [await c.caller.start("12345", f"1370013700{i}", script="wait:60") for i in range(2)]
    held = {(await call_id(c, call)).split("-", 1)[0]: call for call in before}
    assert set(held) == {"a", "b"}  # one caller waiting on each node
    ids = {node: await call_id(c, call) for node, call in held.items()}

    async def both_waiting() -> bool:
        assert c.stack.acd is not None
        return set(ids.values()) <= {w["call_id"] for w in await c.stack.acd.waiting()}

    await until(both_waiting, 20, "a caller waiting on each node")
    killed = time.monotonic()
    os.killpg(node_a.pid, signal.SIGKILL)
    down_seen: list[float] = []

    async def down_logged() -> bool:
        return bool(c.edge.front_door.log_lines("media node down"))

    async def watch_down() -> None:
        await until(down_logged, 10, "Kamailio marking node a down")
        down_seen.append(time.monotonic() - killed)

    watcher = asyncio.create_task(watch_down())
    # new calls one after the other from the kill on: (placed, answered, seconds after the kill, node)
    results: list[tuple[float, bool, float, str]] = []
    while not results or (results[-1][0] < (down_seen[0] if down_seen else 99) + 1 and len(results) < 8):
        placed = time.monotonic() - killed
        call = await c.caller.start("12345", f"139001390{len(results):02d}", script="wait:1")
        try:
            node = (await call_id(c, call)).split("-", 1)[0]
            results.append((placed, True, time.monotonic() - killed, node))
        except (AssertionError, TimeoutError):
            results.append((placed, False, time.monotonic() - killed, ""))
        await call.outcome()
    await asyncio.wait_for(watcher, 10)
    print(f"\nnode a killed: Kamailio marked it down after {down_seen[0]:.1f}s; new calls "
          f"(placed s after the kill, answered, answered s after the kill, node): "
          f"{[(round(p, 1), ok, round(at, 1), n) for p, ok, at, n in results]}")
    assert all(ok and node == "b" for _, ok, _, node in results), results  # no new call lost: failover to b
    assert down_seen[0] < 5.0  # new calls avoid the dead node within the 5 s
    assert c.ami.node_states()["a"] != "connected" and c.ami.connected

    async def a_caller_gone() -> bool:  # the caller on node a is lost with it: out of the queue, record ended
        assert c.stack.acd is not None and c.stack.calls is not None
        record = await c.stack.calls.get(ids["a"])
        waiting = {w["call_id"] for w in await c.stack.acd.waiting()}
        return ids["a"] not in waiting and record is not None and record.ended_at is not None

    await until(a_caller_gone, 10, "node a's caller given up")
    lost = await c.stack.calls.get(ids["a"]) if c.stack.calls else None
    print(f"node a's caller {ids['a']}: {lost.outcome if lost else None}, {lost.hangup_cause if lost else None}; "
          f"given up {time.monotonic() - killed:.1f}s after the kill")
    async def health_names_the_lost_node() -> bool:  # the service stays healthy on node b
        ami = (await c.stack.health.report())["ami"]
        return ami.ok and "a disconnected (lost), b connected" in ami.detail

    await until(health_names_the_lost_node, 8, "/api/health naming node a lost")
    assert ids["b"] in {w["call_id"] for w in await c.stack.acd.waiting()}  # node b's caller waits on …
    await _set_agents(c, "ready", AGENTS[0])

    async def b_caller_served() -> bool:
        assert c.stack.calls is not None
        record = await c.stack.calls.get(ids["b"])
        return record is not None and record.agent == AGENTS[0]

    await until(b_caller_served, 20, "node b's caller connected to an agent")  # … and is served
    for call in before:
        with contextlib.suppress(AmiError):
            await call.hangup()
