"""`hotline run` in its own process for the restart tests: started, killed with SIGKILL, started again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from hotline.app.stack import DataDirs
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.root import find_root
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.netutil import free_port, in_netns
from integration.world.call import WorldCaller

REPO = Path(__file__).resolve().parents[2]


class Service:
    """`hotline run` in its own process, as an operator runs it; killed and started again by the test. Given
    `netns`, it runs in that network namespace, serving its API on `host` (its address there)."""

    def __init__(self, home: Path, *, netns: str = "", host: str = "127.0.0.1", **env: str) -> None:
        self.home = home
        self.netns = netns
        ports = {name: str(free_port()) for name in ("HTTP_PORT", "AGI_PORT", "SIP_PORT", "AMI_PORT", "WORLD_SIP_PORT",
                                                       "WORLD_AMI_PORT", "REDIS_PORT", "CASE_PORT")}
        self.env = {**os.environ, **{f"HOTLINE_{k}": v for k, v in ports.items()},
                    "HOTLINE_HOME_DIR": str(home), "HOTLINE_WRAP_UP_S": "1", "HOTLINE_RING_TIMEOUT_S": "4",
                    "HOTLINE_REVISIT_DIALER": "0", "HOTLINE_REFCASE_ADVANCE_S": "0", "HOTLINE_BIND": host,
                    **{f"HOTLINE_{k}": v for k, v in env.items()}}
        self.url = f"http://{host}:{ports['HTTP_PORT']}"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 120.0) -> dict[str, Any]:
        state_file = self.home / "run" / "stack.json"
        state_file.unlink(missing_ok=True)
        log = open(self.home.parent / "service.log", "ab")  # noqa: SIM115 - the child owns it
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *in_netns(self.netns), sys.executable, "-m", "hotline.app.cli", "run", cwd=REPO, env=self.env,
                stdout=log, stderr=log)
        finally:
            log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        # the admin token is written just after the stack is up and has published its state
        while (not state_file.exists() or json.loads(state_file.read_text()).get("pid") != self.proc.pid
               or not (self.home / "admin-token").exists()):
            assert self.proc.returncode is None, self.log_tail()
            assert asyncio.get_running_loop().time() < deadline, self.log_tail()
            await asyncio.sleep(0.2)
        return dict(json.loads(state_file.read_text()))

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs in the service."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 60)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.home.parent / "service.log").read_text(errors="replace").splitlines()[-60:])
        return ""

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        token = (self.home / "admin-token").read_text().strip()
        async with aiohttp.ClientSession() as http, http.request(
                method, self.url + path, json=body, headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status < 300, (resp.status, await resp.text())
            return await resp.json()

    async def agents(self) -> dict[str, dict[str, str]]:
        return {a["agent"]: a for a in (await self.api("GET", "/api/agents"))["agents"]}

    async def wait_for_agent(self, agent: str, state: str, timeout: float = 30.0) -> None:
        for _ in range(int(timeout * 5)):
            if (await self.agents())[agent]["state"] == state:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"agent {agent} not {state}: {(await self.agents())[agent]}")

    async def waiting_callers(self) -> list[str]:
        return [c["caller"] for c in (await self.api("GET", "/api/acd/queue"))["waiting"]]


@contextlib.asynccontextmanager
async def world_of(state: dict[str, Any]) -> AsyncIterator[tuple[WorldCaller, AmiClient]]:
    """The test's own connection to the world Asterisk and the database, outside the service."""
    creds = state["world_ami"]
    ami = AmiClient(creds["host"], creds["port"], creds["username"], creds["secret"], name="test-world")
    await ami.connect()
    engine = create_engine(state["database_url"])
    data = DataDirs(find_root(state["asterisk_root"]), state["data_dir_inner"])
    try:
        yield WorldCaller(ami, data.inner_of("heard"), data.host, CallRecords(session_factory(engine))), ami
    finally:
        await ami.close()
        await engine.dispose()
