"""The test topology of issue 18 on one machine: two media nodes, the SIP front door and the simulated world,
each in its own network namespace, and the service in the root namespace on the same bridge. The service
instances and the parts they share (Redis, Sentinels, PostgreSQL, the case system) may have a namespace each too
(`create(instances=…, shared=…)`); the root namespace (the test, .1) then only drives and watches.

`ClusterTopology` names the members and their addresses: the media nodes (`AsteriskNode`s) go into the
service's settings (the service starts their Asterisks, each `ip netns exec` + chroot), the `cluster:` section
into the dialplan file (the front door is rendered from it), and `start_edge` brings up Kamailio and the world.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialplans.model import Dialplan
from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.nodes import AsteriskNode
from hotline.core.asterisk.root import AsteriskRoot
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.asterisk.sipbans import BanPolicy
from integration.cluster.frontdoor import FrontDoor
from integration.cluster.netns import Namespaces, remove_stale
from integration.world.render import WorldContext, render_world

FRONT_DOOR = "kamailio"
WORLD = "world"
SIP_PORT = 5060
WS_PORT = 8080  # the browser phones' SIP websocket on the front door
WORLD_AMI_PORT = 5039
FIRST_INSTANCE_HOST = 21  # the service instances' namespaces: .21, .22 …
FIRST_SHARED_HOST = 31  # the shared parts' namespaces: .31, .32 …


@dataclass(frozen=True)
class Member:
    """Where one member of the topology lives: its network namespace and its address there."""

    netns: str
    address: str


@dataclass
class ClusterTopology:
    """Who is where on the run's test network."""

    nets: Namespaces
    node_names: tuple[str, ...]

    @classmethod
    def create(cls, node_names: tuple[str, ...] = ("a", "b"), *, instances: tuple[str, ...] = (),
               shared: tuple[str, ...] = ()) -> ClusterTopology:
        """The nodes, the front door and the world; with `instances`, a namespace per service instance, with
        `shared` one per shared part (names such as "redis-1", "pg")."""
        members = {FRONT_DOOR: 3, WORLD: 20, **{n: 11 + i for i, n in enumerate(node_names)},
                   **{_instance(n): FIRST_INSTANCE_HOST + i for i, n in enumerate(instances)},
                   **{s: FIRST_SHARED_HOST + i for i, s in enumerate(shared)}}
        return cls(Namespaces(members), node_names)

    def member(self, name: str) -> Member:
        """A shared part's namespace and address (as named in `create(shared=…)`)."""
        return Member(self.nets.name(name), self.nets.address(name))

    def instance(self, name: str) -> Member:
        """Service instance `name`'s namespace and address (as named in `create(instances=…)`)."""
        return self.member(_instance(name))

    @property
    def network(self) -> str:
        """The run's /24, as `10.77.k.0/24`."""
        return str(self.nets.subnet)

    @property
    def service_address(self) -> str:
        return self.nets.service_address

    @property
    def front_door_address(self) -> str:
        return self.nets.address(FRONT_DOOR)

    @property
    def world_address(self) -> str:
        return self.nets.address(WORLD)

    def nodes(self) -> tuple[AsteriskNode, ...]:
        return tuple(AsteriskNode(n, self.nets.address(n), netns=self.nets.name(n)) for n in self.node_names)

    def cluster_section(self, websocket: bool = False) -> dict[str, Any]:
        """The dialplan file's `cluster:` for this topology; with `websocket`, the browser phones' websocket on the
        front door, opened by the service (in the root namespace) only."""
        section = {"address": self.front_door_address, "port": SIP_PORT, "probe_s": 1, "probe_threshold": 1,
                   "answer_s": 2, "nodes": [{"name": n.name, "address": n.address} for n in self.nodes()]}
        if websocket:
            section |= {"ws_port": WS_PORT, "services": [self.service_address]}
        return section


def _instance(name: str) -> str:
    return f"svc-{name}"


@contextlib.contextmanager
def namespaces(topology: ClusterTopology) -> Iterator[ClusterTopology]:
    """The run's namespaces, up for the block (stale ones of crashed runs removed first), then gone."""
    remove_stale()
    try:
        topology.nets.up()
        yield topology
    finally:
        topology.nets.down()


@dataclass
class Edge:
    """What stands in front of the nodes: the front door and the world (carrier, citizens, agents' phones)."""

    front_door: FrontDoor
    world: AsteriskInstance
    world_ami: AmiClient

    async def close(self) -> None:
        await self.world_ami.close()
        await self.world.stop()
        await self.front_door.stop()


async def start_edge(topology: ClusterTopology, plan: Dialplan, root: AsteriskRoot, folder: Path, world_dir: str,
                     phone_secrets: Mapping[str, str], world_ami_secret: str,
                     door_phones: Mapping[str, str] | None = None, bans: BanPolicy | None = None) -> Edge:
    """Kamailio (rendered from `plan`) and the world Asterisk, whose carrier trunk and phones (`phone_secrets`)
    point at Kamailio; Kamailio takes the registrations of `door_phones` (default: the world's phones; with the
    browser phones, which register from the agents' pages); `bans`: the service's policy for failed registrations."""
    door = FrontDoor(plan, folder / "kamailio", topology.nets.name(FRONT_DOOR),
                     phone_secrets if door_phones is None else door_phones, bans)
    await door.start()
    ctx = WorldContext(bind_host=topology.world_address, sip_port=SIP_PORT, ami_port=WORLD_AMI_PORT,
                       ami_user="world", ami_secret=world_ami_secret, hotline_host=topology.front_door_address,
                       hotline_sip_port=SIP_PORT, agent_secrets=phone_secrets, ami_from=topology.service_address)
    world = AsteriskInstance(root, "world", render_world(ctx), inner_dir=world_dir, netns=topology.nets.name(WORLD))
    try:
        await world.start()
        ami = AmiClient(topology.world_address, WORLD_AMI_PORT, ctx.ami_user, ctx.ami_secret, name="world")
        await ami.connect()
    except BaseException:
        await world.stop()
        await door.stop()
        raise
    return Edge(door, world, ami)
