"""The test network of the cluster topology: namespaces up and reachable, gone after, stale ones removed."""

from __future__ import annotations

import os
import subprocess

import pytest

from integration.cluster.netns import ip, remove_stale, run_id
from integration.cluster.topology import ClusterTopology, namespaces

pytestmark = [pytest.mark.cluster,
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]


def _reaches(ns: str | None, address: str, listen_ns: str | None) -> bool:
    """A TCP connection from `ns` to a listener on `address` in `listen_ns` (None: the root namespace)."""
    def netns(name: str | None) -> list[str]:
        return ["ip", "netns", "exec", name] if name else []

    with subprocess.Popen([*netns(listen_ns), "python3", "-c",
                           "import socket,sys;s=socket.socket();s.bind((sys.argv[1],7077));s.listen();"
                           "print(flush=True);s.accept()", address], stdout=subprocess.PIPE) as server:
        try:
            assert server.stdout is not None and server.stdout.readline() == b"\n"  # listening
            return subprocess.run([*netns(ns), "bash", "-c", f"echo > /dev/tcp/{address}/7077"], capture_output=True,
                                  timeout=10).returncode == 0
        finally:
            server.kill()


def test_members_reach_each_other_and_the_service_then_all_is_gone() -> None:
    topology = ClusterTopology.create()
    with namespaces(topology) as t:
        names = ip("netns", "list")
        for member in ("hub", "kamailio", "world", "a", "b"):
            assert t.nets.name(member) in names
        assert [n.address for n in t.nodes()] == [t.nets.address("a"), t.nets.address("b")]
        assert _reaches(t.nets.name("a"), t.service_address, None)  # a node reaches the service (FastAGI) …
        assert _reaches(None, t.nets.address("b"), t.nets.name("b"))  # … and the service the node (AMI)
        assert _reaches(t.nets.name("world"), t.front_door_address, t.nets.name("kamailio"))
    names = ip("netns", "list")
    assert not [n for n in names.split() if n.startswith(f"hl-{topology.nets.run}-")]
    assert t.nets.service_address not in ip("-4", "-o", "addr", "show")


def test_a_crashed_runs_namespaces_are_removed() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid no process has now
    stale = f"hl-{run_id(dead.pid)}-a"
    ip("netns", "add", stale)
    try:
        assert stale in remove_stale()
        assert stale not in ip("netns", "list")
    finally:
        ip("netns", "del", stale, check=False)
    mine = f"hl-{run_id()}-a"  # a live run's namespace stays
    ip("netns", "add", mine)
    try:
        assert mine not in remove_stale()
    finally:
        ip("netns", "del", mine, check=False)
