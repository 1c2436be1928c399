"""Network namespaces for a test topology on this machine (issue 18): one namespace per member (media node,
front door, world, and where a test asks, each service instance, Redis and Sentinel…), each with a veth to a
bridge in the run's hub namespace, and one veth from the root namespace (the test's, and the service's when it
has no namespace of its own) to the same bridge; addresses in a private /24 of 10.77.0.0/16. Only the members and
the root namespace talk on it.

Names carry the run id (`hl-c<pid in hex>-<member>`), so a run that crashed is recognised by the next one
(`remove_stale`): its process is gone, or its pid now belongs to a process younger than its namespaces.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

NETWORK = ipaddress.ip_network("10.77.0.0/16")
_NETNS_DIR = Path("/run/netns")
_OURS = re.compile(r"^hl-c([0-9a-f]+)-[a-z0-9-]+$")
HUB = "hub"
SERVICE_HOST = 1  # the service's address in the run's /24: .1


def ip(*args: str, check: bool = True) -> str:
    """Run `ip …`; its output."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def run_id(pid: int | None = None) -> str:
    return f"c{(pid or os.getpid()):x}"


@dataclass
class Namespaces:
    """The run's namespaces and addresses; `up()` builds them, `down()` removes them (safe to call twice)."""

    members: dict[str, int]  # member name → host number in the run's /24 (e.g. {"kamailio": 3, "a": 11})
    run: str = field(default_factory=run_id)
    subnet: ipaddress.IPv4Network = field(default_factory=lambda: free_subnet())
    _made: list[str] = field(default_factory=list)

    def name(self, member: str) -> str:
        return f"hl-{self.run}-{member}"

    def address(self, member: str) -> str:
        return str(self.subnet.network_address + self.members[member])

    @property
    def service_address(self) -> str:
        return str(self.subnet.network_address + SERVICE_HOST)

    @property
    def _service_link(self) -> str:
        return f"hl{self.run}s"[:15]

    def up(self) -> None:
        hub = self.name(HUB)
        self._add(hub)
        ip("-n", hub, "link", "add", "br0", "type", "bridge")
        ip("-n", hub, "link", "set", "br0", "up")
        for member in self.members:
            ns = self.name(member)
            self._add(ns)
            ip("-n", hub, "link", "add", f"v-{member}"[:15], "type", "veth", "peer", "name", "eth0", "netns", ns)
            ip("-n", hub, "link", "set", f"v-{member}"[:15], "master", "br0", "up")
            ip("-n", ns, "addr", "add", f"{self.address(member)}/{self.subnet.prefixlen}", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
        ip("link", "add", self._service_link, "type", "veth", "peer", "name", "svc", "netns", hub)
        ip("-n", hub, "link", "set", "svc", "master", "br0", "up")
        ip("addr", "add", f"{self.service_address}/{self.subnet.prefixlen}", "dev", self._service_link)
        ip("link", "set", self._service_link, "up")
        log.info("test network %s up: %s", self.subnet, ", ".join(f"{m} {self.address(m)}" for m in self.members))

    def add_service_address(self, host: int) -> str:
        """One more address of the run's /24 on the service's side of the bridge, in the root namespace (a stranger
        beside the service, for probes); the address. Removed with the link at `down()`."""
        address = str(self.subnet.network_address + host)
        ip("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", self._service_link)
        return address

    def processes(self) -> dict[str, list[str]]:
        """What still runs in the run's namespaces (`pid name`, by namespace): nothing once every member stopped."""
        found = {ns: [f"{pid} {_name(pid)}" for pid in ip("netns", "pids", ns, check=False).split()]
                 for ns in self._made}
        return {ns: procs for ns, procs in found.items() if procs}

    def remaining(self) -> list[str]:
        """The run's namespaces and service link still on this machine: none after `down()`."""
        names = [line.split(" ", 1)[0] for line in ip("netns", "list", check=False).splitlines()]
        link = [self._service_link] if ip("link", "show", self._service_link, check=False).strip() else []
        return [n for n in names if n.startswith(f"hl-{self.run}-")] + link

    def _add(self, ns: str) -> None:
        ip("netns", "add", ns)
        self._made.append(ns)
        ip("-n", ns, "link", "set", "lo", "up")

    def down(self) -> None:
        """Stop whatever still runs in the namespaces, then remove them (their veths go with them)."""
        ip("link", "del", self._service_link, check=False)
        while self._made:
            remove(self._made.pop())


def remove(ns: str) -> None:
    """Kill every process left in `ns` and delete it."""
    for pid in ip("netns", "pids", ns, check=False).split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    ip("netns", "del", ns, check=False)


def _name(pid: str) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/comm").read_text().strip()
    return "?"


def remove_stale() -> list[str]:
    """Delete the namespaces (and service links) of earlier runs whose process is gone; the names removed."""
    removed = []
    for ns in ip("netns", "list", check=False).split("\n"):
        ns = ns.split(" ", 1)[0]
        match = _OURS.match(ns)
        if match is None or not _stale(int(match.group(1), 16), _NETNS_DIR / ns):
            continue
        ip("link", "del", f"hl{run_id(int(match.group(1), 16))}s"[:15], check=False)
        remove(ns)
        removed.append(ns)
    if removed:
        log.warning("removed namespaces left by crashed runs: %s", ", ".join(removed))
    return removed


def _stale(pid: int, made: Path) -> bool:
    try:
        started = Path(f"/proc/{pid}").stat().st_mtime  # (a process's /proc folder dates from its start)
        return made.stat().st_mtime < started - 1
    except FileNotFoundError:
        return True


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.77.0.0/16 no address on this machine's root namespace is in (runs side by side get others)."""
    used = ip("-4", "-o", "addr", "show", check=False)
    start = os.getpid() % 200 + 20
    for k in [*range(start, 250), *range(20, start)]:
        net = ipaddress.ip_network(f"10.77.{k}.0/24")
        if f" 10.77.{k}." not in used:
            return net  # type: ignore[return-value]
    raise RuntimeError("no free /24 in 10.77.0.0/16 for the test network")
