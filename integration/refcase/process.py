"""The reference case system as a child process (what `make run` and the tests start and stop)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from hotline.core.children import die_with_parent, stop_child
from hotline.core.netutil import in_netns


@dataclass(frozen=True)
class RefCaseSecrets:
    intake: str
    webhook: str
    admin: str


class RefCaseProcess:
    def __init__(self, dir: Path, port: int, webhook_url: str, secrets: RefCaseSecrets, *,
                 host: str = "127.0.0.1", advance_every_s: float = 0.0, netns: str = "") -> None:
        self.dir, self.port, self.host = dir, port, host
        self.netns = netns  # run in this network namespace (`host`: its address there)
        self.webhook_url, self.secrets, self.advance_every_s = webhook_url, secrets, advance_every_s
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, timeout: float = 15.0) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        log = open(self.dir / "refcase.log", "ab")  # noqa: SIM115 - the child owns it
        env = {**os.environ, "REFCASE_INTAKE_SECRET": self.secrets.intake,
               "REFCASE_WEBHOOK_SECRET": self.secrets.webhook, "REFCASE_ADMIN_TOKEN": self.secrets.admin}
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *in_netns(self.netns), sys.executable, "-m", "integration.refcase", "--host", self.host,
                "--port", str(self.port),
                "--db", str(self.dir / "cases.db"), "--webhook", self.webhook_url,
                "--advance-every", str(self.advance_every_s), env=env, stdout=log, stderr=log,
                preexec_fn=die_with_parent)
        finally:
            log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                if self._proc.returncode is not None:
                    raise RuntimeError(f"reference case system exited ({self._proc.returncode}): {self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(f"{self.url}/admin/cases") as resp:
                        if resp.status in (200, 401):
                            return
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"reference case system not answering on {self.port}: {self.log_tail()}")
                await asyncio.sleep(0.1)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.dir / "refcase.log").read_text().splitlines()[-10:])
        return ""

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        await stop_child(proc)

    async def admin(self, method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        """Call the admin API (tests and demos)."""
        headers = {"Authorization": f"Bearer {self.secrets.admin}"}
        async with aiohttp.ClientSession() as session, session.request(
                method, self.url + path, json=body, headers=headers) as resp:
            resp.raise_for_status()
            data: dict[str, object] = await resp.json()
            return data
