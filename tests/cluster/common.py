"""The cluster tests' shared setup: the namespace topology with two media nodes, Kamailio and the world, one
service driving the nodes, and small waits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd.directory.sync import PhoneSync
from acd.settings import AcdSettings
from dialplans.secrets import Secrets
from hotline.app.settings import Ports, Settings
from hotline.app.stack import Stack
from hotline.core.asterisk.nodes import NodeAmi
from hotline.core.asterisk.sipbans import BanPolicy
from hotline.core.settings import CoreSettings, SipEdgeSettings
from integration.cluster.topology import ClusterTopology, Edge, namespaces, start_edge
from integration.world.call import WorldCall, WorldCaller
from tests.e2e.conftest import edited_dialplan, running_stack, stack_settings


@dataclass
class Cluster:
    stack: Stack
    edge: Edge
    topology: ClusterTopology
    caller: WorldCaller

    @property
    def ami(self) -> NodeAmi:
        assert isinstance(self.stack.ami, NodeAmi)
        return self.stack.ami


async def registered(edge: Edge, phones: int, timeout: float = 20.0) -> None:
    """Until the world's phones are registered through Kamailio."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        shown = await edge.world.cli("pjsip show registrations")
        if shown.count("Registered") >= phones:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"phones not registered through Kamailio:\n{shown}\n{edge.front_door.log_tail()}")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_cluster(home: Path, edit: Callable[[dict[str, Any]], None] | None = None,
                          ring_timeout_s: float = 6.0, websocket: bool = False,
                          sip: SipEdgeSettings | None = None) -> AsyncIterator[Cluster]:
    """The topology up, the service driving both nodes, Kamailio and the world started and the world's phones
    registered; `edit` changes the dialplan file further, `websocket` opens the browser phones' websocket, `sip`
    sets the ban policy (the nodes' and the front door's)."""
    topology = ClusterTopology.create()

    def edited(plan: dict[str, Any]) -> None:
        plan["cluster"] = topology.cluster_section(websocket=websocket)
        plan["trunks"][0]["match"] = [topology.world_address]  # the carrier: the world, through Kamailio
        if edit is not None:
            edit(plan)

    with namespaces(topology):
        base = stack_settings(home, dialplan_file=edited_dialplan(home, edited))
        core = CoreSettings(home=home, dialplan_file=base.core.dialplan_file, bind_host="127.0.0.1",
                            ports=Ports.free(), redis_url="", asterisk_root=base.core.asterisk_root, with_world=False,
                            agi_bind=topology.service_address, nodes=topology.nodes(), sip=sip or SipEdgeSettings())
        settings = Settings(core=core, acd=AcdSettings(wrap_up_s=1.0, ring_timeout_s=ring_timeout_s,
                                                       carrier_uri=f"sip:{topology.world_address}:5060"),
                            case_system=base.case_system, recordings=base.recordings, callback=base.callback)
        async with running_stack(settings) as stack:
            assert stack.data is not None and stack.root is not None and stack.dialplan is not None
            assert stack.calls is not None
            sync = stack.service(PhoneSync)  # the world's SIP phones; Kamailio knows the browsers' passwords too
            edge = await start_edge(topology, stack.dialplan, stack.root, home, stack.data.instance("world"),
                                    sync.sip_phones, stack.service(Secrets).world_ami_secret, door_phones=sync.phones,
                                    bans=BanPolicy(core.sip.ban_after, core.sip.ban_window_s, core.sip.ban_s))
            try:
                await registered(edge, len(sync.sip_phones))
                caller = WorldCaller(edge.world_ami, stack.data.inner_of("heard"), stack.data.host, stack.calls)
                yield Cluster(stack, edge, topology, caller)
            finally:
                await edge.close()


async def call_id(c: Cluster, call: WorldCall) -> str:
    """The hotline's call id of a world call once it is answered (it starts with the node's name)."""
    sip = await call.answered(timeout=15)
    assert c.stack.calls is not None
    for _ in range(100):
        rows = await c.stack.calls.list(sip_call_id=sip, limit=1)
        if rows:
            return rows[0].call_id
        await asyncio.sleep(0.1)
    raise AssertionError(f"no call record for {sip}")


async def until(check: Any, timeout: float = 20.0, what: str = "") -> Any:
    """`check()`'s first true result, polled every 0.1 s; AssertionError naming `what` after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.1)
