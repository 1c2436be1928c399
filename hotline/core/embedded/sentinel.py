"""Redis with Sentinel on this machine, for tests and trials: a primary, a replica and three Sentinels (quorum 2)
under one folder, with one generated password for all of them (Sentinels included).

Each member may listen on its own address (`hosts`: primary, replica, then the Sentinels), as in a deployment
where each has its own machine; they then announce that address to one another. Given `netns` (one network
namespace per member, in the same order), each runs in its own namespace, `hosts` being their addresses there.

Failover is quick on purpose (down after 1 s, failover timeout 3 s): `kill_primary()` SIGKILLs the current
primary and the Sentinels promote the replica within a few seconds; clients made with
`redis_client(url, sentinels=…, master=…)` follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel

from hotline.core.children import stop_child
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import in_netns

MASTER = "hotline"
QUORUM = 2


class SentinelSet:
    """Two redis-server (primary + replica) and three redis-sentinel on the given ports."""

    def __init__(self, dir: Path, redis_ports: tuple[int, int], sentinel_ports: tuple[int, int, int],
                 master: str = MASTER, host: str = "127.0.0.1", hosts: tuple[str, ...] = (),
                 netns: tuple[str, ...] = ()) -> None:
        self.dir, self.host, self.master = dir, host, master
        self.sentinel_ports = sentinel_ports
        members = len(redis_ports) + len(sentinel_ports)
        self.hosts = hosts or (host,) * members
        self.netns = netns or ("",) * members
        if len(self.hosts) != members or len(self.netns) != members:
            raise ValueError("one host (and namespace) per member: the primary, the replica, then each Sentinel")
        self.servers = [RedisServer(dir / f"redis-{port}", port, h, netns=ns)
                        for port, h, ns in zip(redis_ports, self.hosts, self.netns, strict=False)]
        self.sentinel_hosts = self.hosts[len(redis_ports):]
        self.sentinel_netns = self.netns[len(redis_ports):]
        self._sentinels: list[asyncio.subprocess.Process] = []

    @property
    def password(self) -> str:
        return self.servers[0].password

    @property
    def sentinels(self) -> tuple[tuple[str, int], ...]:
        return tuple(zip(self.sentinel_hosts, self.sentinel_ports, strict=True))

    @property
    def url(self) -> str:
        """The password and db for `redis_client(url, sentinels=…)`; the host is whichever is primary."""
        return self.servers[0].url

    async def start(self) -> None:
        primary, replica = self.servers
        auth = f"masterauth {self.password}\n"
        for server in self.servers:
            server.dir.mkdir(parents=True, exist_ok=True)
            (server.dir / "password").write_text(self.password)
            (server.dir / "password").chmod(0o600)
            server.extra_conf = auth + f"replica-announce-ip {server.host}\n"
        replica.extra_conf += f"replicaof {primary.host} {primary.port}\n"
        await primary.start()
        await replica.start()
        await self._wait_replica_synced()
        for (host, port), netns in zip(self.sentinels, self.sentinel_netns, strict=True):
            self._sentinels.append(await self._start_sentinel(host, port, netns))
        await self.wait_primary(primary.port)

    async def _start_sentinel(self, host: str, port: int, netns: str) -> asyncio.subprocess.Process:
        folder = self.dir / f"sentinel-{port}"
        folder.mkdir(parents=True, exist_ok=True)
        primary = self.servers[0]
        conf = folder / "sentinel.conf"  # Sentinel rewrites its own file as it learns
        conf.write_text(
            f"bind {host}\nport {port}\nsentinel announce-ip {host}\ndaemonize no\ndir {folder}\n"
            f"logfile {folder / 'sentinel.log'}\n"
            f"requirepass {self.password}\nsentinel sentinel-pass {self.password}\n"
            f"sentinel monitor {self.master} {primary.host} {primary.port} {QUORUM}\n"
            f"sentinel auth-pass {self.master} {self.password}\n"
            f"sentinel down-after-milliseconds {self.master} 1000\n"
            f"sentinel failover-timeout {self.master} 3000\n"
            f"sentinel parallel-syncs {self.master} 1\n")
        conf.chmod(0o600)
        return await asyncio.create_subprocess_exec(
            *in_netns(netns), "redis-sentinel", str(conf), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True, umask=0o077)

    async def _wait_replica_synced(self, timeout: float = 15.0) -> None:
        client = aioredis.from_url(self.servers[1].url, decode_responses=True)
        try:
            for _ in range(int(timeout / 0.1)):
                info = await client.info("replication")
                if info.get("master_link_status") == "up":
                    return
                await asyncio.sleep(0.1)
        finally:
            await client.aclose()
        raise TimeoutError("the Redis replica did not sync with the primary")

    async def primary_port(self) -> int | None:
        """The primary's port as the Sentinels name it now (None while they cannot say)."""
        watch = Sentinel(list(self.sentinels), sentinel_kwargs={"password": self.password, "socket_timeout": 1})
        try:
            _, port = await watch.discover_master(self.master)
            return int(port)
        except Exception:
            return None
        finally:
            for one in watch.sentinels:
                await one.aclose()

    async def wait_primary(self, port: int | None = None, *, not_port: int | None = None,
                           timeout: float = 20.0) -> int:
        """Until the Sentinels name a primary (`port`, or any but `not_port`); its port."""
        for _ in range(int(timeout / 0.1)):
            now = await self.primary_port()
            if now is not None and (port is None or now == port) and now != not_port:
                return now
            await asyncio.sleep(0.1)
        raise TimeoutError(f"Sentinel names no new primary for {self.master}")

    async def kill_primary(self) -> int:
        """SIGKILL the current primary; its port."""
        port = await self.primary_port()
        server = next(s for s in self.servers if s.port == port)
        assert server.pid is not None
        os.kill(server.pid, signal.SIGKILL)
        return server.port

    async def stop(self) -> None:
        for proc in self._sentinels:
            await stop_child(proc)
        self._sentinels.clear()
        for server in self.servers:
            with contextlib.suppress(ProcessLookupError):
                await server.stop()
