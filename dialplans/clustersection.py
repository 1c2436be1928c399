"""The dialplan file's `cluster:` section: the media nodes behind the SIP front door (issue 18)."""

from __future__ import annotations

import ipaddress
import re

from dialplans.checker import Checker, Node
from dialplans.model import Cluster, MediaNode

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")


def cluster_section(c: Checker, node: Node) -> Cluster:
    """Nodes (name, address, port), the front door's address and port, and how nodes are probed."""
    m = c.mapping(node, "cluster", ("nodes", "address", "port", "probe_s", "probe_threshold", "answer_s",
                                                   "ws_port", "services"),
                  ("nodes",))
    base = Cluster()
    nodes = tuple(c.each(m.get("nodes"), "cluster.nodes", _node))
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        c.err(node.line, "cluster.nodes has a name twice", "give every node its own name")
    if not nodes:
        c.err(node.line, "cluster.nodes is empty", "list the media nodes, or remove the cluster section")
    return Cluster(nodes, _address(c, m.get("address"), "cluster.address", base.address),
                   _port(c, m.get("port"), "cluster.port", base.port),
                   max(1, c.count(m.get("probe_s"), "cluster.probe_s", base.probe_s)),
                   max(1, c.count(m.get("probe_threshold"), "cluster.probe_threshold", base.probe_threshold)),
                   max(1, c.count(m.get("answer_s"), "cluster.answer_s", base.answer_s)),
                   *_websocket(c, m))


def _websocket(c: Checker, m: dict[str, Node]) -> tuple[int, tuple[str, ...]]:
    """The browser phones' websocket on the front door and the service addresses that may open it."""
    if m.get("ws_port") is None:
        return 0, ()
    port = _port(c, m.get("ws_port"), "cluster.ws_port", 8080)
    services = tuple(c.each(m.get("services"), "cluster.services", lambda c, n, where: _address(c, n, where, "")))
    if not services:
        c.err(m["ws_port"].line, "cluster.ws_port needs cluster.services",
              "list the service instances' addresses: only they may open the phones' websocket")
    return port, services


def _node(c: Checker, node: Node, where: str) -> MediaNode:
    m = c.mapping(node, where, ("name", "address", "port"), ("name", "address"))
    return MediaNode(c.text(m.get("name"), f"{where}.name", "", _NAME, "a short lower-case name like a or node-1"),
                     _address(c, m.get("address"), f"{where}.address", ""),
                     _port(c, m.get("port"), f"{where}.port", 5060))


def _address(c: Checker, node: Node | None, where: str, default: str) -> str:
    text = c.text(node, where, default)
    try:
        ipaddress.ip_address(text)
    except ValueError:
        c.err(node.line if node is not None else 0, f"{where} '{text}' is not an IP address",
              "write the node's own address, e.g. 10.0.1.11 (a host name's addresses can change)")
    return text


def _port(c: Checker, node: Node | None, where: str, default: int) -> int:
    port = c.count(node, where, default)
    if not 1 <= port <= 65535:
        c.err(node.line if node is not None else 0, f"{where} must be a port from 1 to 65535", "write e.g. 5060")
        return default
    return port
