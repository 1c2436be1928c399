"""A redis-server the project starts itself: loopback, own folder, generated password, append-only."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path

import redis.asyncio as aioredis

from hotline.core.children import stop_child
from hotline.core.netutil import in_netns


class RedisServer:
    """Runs in its own session: it outlives a crashed service, which adopts it on restart (its data,
    the queue and the agents' states, are then still there; append-only keeps them across its own restarts)."""

    def __init__(self, dir: Path, port: int, host: str = "127.0.0.1", extra_conf: str = "", netns: str = "") -> None:
        self.dir = dir
        self.netns = netns  # run in this network namespace (a member of a test topology), `host` being its address
        self.extra_conf = extra_conf  # more redis.conf lines (a replica's `replicaof`, hotline.core.embedded.sentinel)
        self.port = port
        self.host = host
        self._password_file = dir / "password"
        self._proc: asyncio.subprocess.Process | None = None
        self.adopted = False

    @property
    def password(self) -> str:
        if not self._password_file.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            self._password_file.write_text(secrets.token_urlsafe(24))
            self._password_file.chmod(0o600)
        return self._password_file.read_text().strip()

    @property
    def pid(self) -> int | None:
        """The process id of the redis-server this object started (None: not started here, or stopped)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@{self.host}:{self.port}/0"

    async def start_or_adopt(self, timeout: float = 15.0) -> bool:
        """Adopt our redis-server already answering on the port, or start one; True when adopted."""
        if await self._answers():
            self.adopted = True
            return True
        await self.start(timeout)
        return False

    async def _answers(self) -> bool:
        client = aioredis.from_url(self.url, socket_connect_timeout=1)
        try:
            return bool(await client.ping())
        except (aioredis.RedisError, OSError):
            return False
        finally:
            await client.aclose()

    async def start(self, timeout: float = 15.0) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)  # the queue, agents' states and callers' numbers in its append-only files
        conf = self.dir / "redis.conf"
        conf.write_text(
            f"bind {self.host}\nport {self.port}\nprotected-mode yes\nrequirepass {self.password}\n"
            f"dir {self.dir}\nappendonly yes\ndaemonize no\nsave \"\"\nlogfile {self.dir / 'redis.log'}\n"
            + self.extra_conf
        )
        conf.chmod(0o600)
        self._proc = await asyncio.create_subprocess_exec(
            *in_netns(self.netns), "redis-server", str(conf), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True, umask=0o077,  # its dump, append-only and log files: the service's user only
        )
        client = aioredis.from_url(self.url)
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                if self._proc.returncode is not None:
                    raise RuntimeError(f"redis-server exited ({self._proc.returncode}): {self._log_tail()}")
                try:
                    if await client.ping():
                        return
                except (aioredis.ConnectionError, OSError):
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"redis-server not answering on {self.port}: {self._log_tail()}")
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.dir / "redis.log").read_text().splitlines()[-10:])
        return ""

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None and self.adopted:  # not our child: ask it to shut down
            self.adopted = False
            client = aioredis.from_url(self.url, socket_connect_timeout=1)
            with contextlib.suppress(aioredis.RedisError, OSError):
                await client.shutdown()
            await client.aclose()
            return
        await stop_child(proc)
