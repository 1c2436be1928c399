"""Several service instances of one hotline (issue 18): their names and FastAGI addresses, and Redis Sentinel's.

`HOTLINE_INSTANCES="a=10.0.0.1:4573,b=10.0.0.2:4573"` lists every instance in the order Asterisk tries them
for a call's FastAGI session (the dialplan falls back to the next when one is down); `HOTLINE_INSTANCE` names
this one. `HOTLINE_REDIS_SENTINELS="host:port,…"` with `HOTLINE_REDIS_MASTER` makes the clients find the
Redis primary through Sentinel and follow its failover.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceAddress:
    """A service instance and where its FastAGI server listens."""

    name: str
    host: str
    port: int


def host_port(text: str) -> tuple[str, int]:
    """`host:port` (IPv6 in brackets) → (host, port); ValueError when malformed."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {text!r}")
    return host.strip("[]"), int(port)


def parse_instances(text: str) -> tuple[InstanceAddress, ...]:
    """`name=host:port,…` → the instances in order; names must be unique."""
    out: list[InstanceAddress] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, address = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"HOTLINE_INSTANCES: expected name=host:port, got {item!r}")
        out.append(InstanceAddress(name.strip(), *host_port(address)))
    if len({i.name for i in out}) != len(out):
        raise ValueError("HOTLINE_INSTANCES: instance names must be unique")
    return tuple(out)


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """`host:port,…` → the Sentinels' addresses."""
    return tuple(host_port(item) for item in text.split(",") if item.strip())
