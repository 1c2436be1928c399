"""What the service changes on a running cluster reaches every media node, and the SIP front door bans strangers:
an engineer's dialplan applied to both nodes (or, when one node refuses it, kept on neither; `hotline dialplan
apply` too), an address failing registrations at Kamailio refused there for the ban's period while the phones go on
registering, and an address failing authentication at one node itself (bypassing Kamailio) refused by both nodes.

One cluster (tests/cluster/common.py) for the module, with a short ban policy.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import yaml

from acd.directory.sync import PhoneSync
from hotline.core.asterisk.sipbans import BANS_FILE
from hotline.core.settings import SipEdgeSettings
from integration.cluster.frontdoor import sip_exchange, sip_register
from tests.cluster.common import Cluster, running_cluster, until
from tests.e2e.conftest import api
from tests.e2e.test_cli import hotline

pytestmark = [pytest.mark.asterisk, pytest.mark.cluster, pytest.mark.asyncio(loop_scope="module"),
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]

BAN_AFTER, BAN_S = 3, 5.0
STRANGER_HOST = 41  # the stranger: one more address beside the service's
SCANNER_HOST = 42  # another, scanning the nodes directly
NEW_NUMBER = "12304"  # the shipped file's 12305 renumbered: an extension of hotline-inbound on every node


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    sip = SipEdgeSettings(ban_after=BAN_AFTER, ban_window_s=30, ban_s=BAN_S)
    async with running_cluster(tmp_path_factory.mktemp("home"), sip=sip) as c:
        yield c


async def _shown(c: Cluster, exten: str) -> list[bool]:
    """On each node (in order), whether its running dialplan has `exten` in hotline-inbound."""
    out = [await node.cli(f"dialplan show {exten}@hotline-inbound") for node in c.stack.nodes]
    return ["There is no existence" not in text and "-= 0 extensions" not in text for text in out]


def _renumbered(text: str, old: str, new: str) -> str:
    """The dialplan file with number `old` renamed `new`."""
    tree = yaml.safe_load(text)
    entry = next(n for n in tree["numbers"] if str(n["number"]) == old)
    entry["number"] = new
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


async def _engineer(c: Cluster) -> tuple[str, dict[str, Any]]:
    assert c.stack.tokens is not None
    token = await c.stack.tokens.create(name="engineer.li", role="engineer")
    status, found = await api(c.stack, "GET", "/api/dialplan", token)
    assert status == 200 and isinstance(found, dict)
    return token, found


async def test_an_applied_dialplan_runs_on_every_node(cluster: Cluster) -> None:
    c = cluster
    token, found = await _engineer(c)
    assert await _shown(c, NEW_NUMBER) == [False, False]
    text = _renumbered(found["text"], "12305", NEW_NUMBER)
    status, applied = await api(c.stack, "POST", "/api/dialplan/apply", token, {"text": text,
                                                                                "sha256": found["sha256"]})
    assert status == 200 and isinstance(applied, dict), applied
    assert applied["applied"] is True and applied["nodes"] == ["a", "b"], applied
    assert "extensions.conf" in applied["changed"]
    assert await _shown(c, NEW_NUMBER) == [True, True]  # both nodes reloaded: the new number runs on each
    assert await _shown(c, "12305") == [False, False]
    for node in c.stack.nodes:  # each node's own render: its carrier trunk keeps its node's name
        assert f"[carrier_{node.system_name}]" in (node.etc_dir / "pjsip.conf").read_text()


async def test_a_dialplan_one_node_refuses_runs_on_neither(cluster: Cluster) -> None:
    c = cluster
    token, found = await _engineer(c)
    node_b = c.stack.nodes[1]
    assert await _shown(c, "12306") == [False, False]
    text = _renumbered(found["text"], "12320", "12306")
    # node b's Asterisk cannot take a dialplan now: its pbx_config is unloaded, so its reload leaves no dialplan
    await node_b.cli("module unload pbx_config.so")
    try:
        status, refused = await api(c.stack, "POST", "/api/dialplan/apply", token, {"text": text,
                                                                                    "sha256": found["sha256"]})
    finally:
        await node_b.cli("module load pbx_config.so")  # … it reads the configs it has on disk again
    assert status == 200 and isinstance(refused, dict), refused
    assert (refused["applied"], refused["rolled_back"], refused["node"]) == (False, True, "b"), refused
    assert "node b" in refused["error"]
    assert await _shown(c, "12306") == [False, False]  # node a (changed first) is back on the old dialplan too
    assert await _shown(c, "12320") == [True, True]
    assert "12306" not in (node_b.etc_dir / "extensions.conf").read_text()
    _, now = await _engineer(c)
    assert now["sha256"] == found["sha256"]  # the file as it was


async def test_hotline_dialplan_apply_reloads_every_node(cluster: Cluster) -> None:
    c = cluster
    path = c.stack.settings.core.dialplan_file
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    tree["numbers"].append({"number": "12397", "mode": "dual", "skill": "general", "department": "测试局"})
    path.write_text(yaml.safe_dump(tree, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert await _shown(c, "12397") == [False, False]
    rc, out, err = await hotline(c.stack, "dialplan", "apply")
    assert rc == 0, err
    assert "+exten => 12397,1,Goto(hotline-inbound,${EXTEN},1)" in out and "on nodes a, b" in out
    assert await _shown(c, "12397") == [True, True]


async def test_the_front_door_bans_an_address_failing_registrations_while_phones_register(cluster: Cluster) -> None:
    c = cluster
    door = c.topology.front_door_address
    stranger = c.topology.nets.add_service_address(STRANGER_HOST)  # no carrier, node or service instance
    phone, password = next(iter(c.stack.service(PhoneSync).sip_phones.items()))

    def register(secret: str, source: str = stranger) -> str:
        return sip_register(door, 5060, phone, secret, source=source)

    assert (await asyncio.to_thread(register, password)).startswith("SIP/2.0 200")  # not banned: it may register
    for _ in range(BAN_AFTER):
        assert (await asyncio.to_thread(register, "wrong")).startswith("SIP/2.0 401")
    banned_at = asyncio.get_running_loop().time()
    assert (await asyncio.to_thread(register, password)).startswith("SIP/2.0 403")  # refused before any password
    assert stranger in await c.edge.front_door.control("htable.dump", "bans")
    assert c.edge.front_door.log_lines(f"SIP address {stranger} refused")
    # the phone at another address (the service's, no more exempt than the stranger's) still registers
    assert (await asyncio.to_thread(register, password, c.topology.service_address)).startswith("SIP/2.0 200")
    # the nodes never saw the stranger (the front door answered it): nothing banned there, the front door neither
    assert c.stack.sip_guard is not None and c.stack.sip_guard.stats().banned == 0
    held = asyncio.get_running_loop().time() - banned_at
    assert held < BAN_S - 1 and (await asyncio.to_thread(register, password)).startswith("SIP/2.0 403")

    async def lifted() -> bool:
        return (await asyncio.to_thread(register, password)).startswith("SIP/2.0 200")

    await until(lifted, BAN_S + 5, "the ban lifted after its period")
    waited = asyncio.get_running_loop().time() - banned_at
    print(f"\n{stranger} banned after {BAN_AFTER} failed registrations, still refused {held:.1f}s later, registered "
          f"again {waited:.1f}s later (ban {BAN_S:.0f}s)")
    assert waited >= BAN_S - 0.5


async def test_an_address_failing_at_a_node_itself_is_refused_by_every_node(cluster: Cluster) -> None:
    c = cluster
    guard = c.stack.sip_guard
    assert guard is not None
    scanner = c.topology.nets.add_service_address(SCANNER_HOST)  # bypassing the front door, straight at node a
    node_a, node_b = c.topology.nodes()

    def options_at_b() -> str:
        uri = f"sip:{node_b.address}:{node_b.sip_port}"
        return sip_exchange("OPTIONS", uri, node_b.address, node_b.sip_port, 2.0, source=scanner).split("\r\n")[0]

    assert (await asyncio.to_thread(options_at_b)).startswith("SIP/2.0 401")  # node b challenges it, for now
    bans_before = guard.stats().bans
    for attempt in range(BAN_AFTER):
        answer = await asyncio.to_thread(sip_register, node_a.address, node_a.sip_port, f"{1000 + attempt}", "123456",
                                         source=scanner)
        assert answer.startswith(("SIP/2.0 401", "SIP/2.0 403")), answer

    async def banned_on_every_node() -> bool:  # the worker wrote the ACL into both nodes and reloaded them
        return guard.stats().bans == bans_before + 1 and all(
            f"deny={scanner}/32" in (node.etc_dir / BANS_FILE).read_text() for node in c.stack.nodes)

    await until(banned_on_every_node, 10, "the address that failed at node a banned on both nodes")

    async def refused_by_b() -> bool:
        return (await asyncio.to_thread(options_at_b)).startswith("SIP/2.0 403")

    await until(refused_by_b, 10, "node b refusing it too")
