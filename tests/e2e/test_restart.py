"""Restart without loss (R-ACD, issue 5): the service is killed with SIGKILL while callers wait and an
agent talks; Asterisk and Redis go on, and the restarted service picks up where it stopped."""

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
import pytest

from hotline.asterisk.ami import AmiClient
from hotline.asterisk.root import find_root
from hotline.db.calls import CallRecords
from hotline.db.engine import create_engine, session_factory
from hotline.netutil import free_port
from hotline.stack import DataDirs
from hotline.worldcall import WorldCall, WorldCaller

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio]

REPO = Path(__file__).resolve().parents[2]
TALK_S = 25  # how long agent 8001 talks with each caller
PATIENT = "noise/wait:1/dtmf:1/wait:150"  # a citizen who presses 1 for a person and waits as long as it takes


class Service:
    """`hotline run` in its own process, as an operator runs it; killed and started again by the test."""

    def __init__(self, home: Path) -> None:
        self.home = home
        ports = {name: str(free_port()) for name in ("HTTP_PORT", "AGI_PORT", "SIP_PORT", "AMI_PORT", "WORLD_SIP_PORT",
                                                       "WORLD_AMI_PORT", "REDIS_PORT", "CASE_PORT")}
        self.env = {**os.environ, **{f"HOTLINE_{k}": v for k, v in ports.items()},
                    "HOTLINE_HOME_DIR": str(home), "HOTLINE_WRAP_UP_S": "1", "HOTLINE_RING_TIMEOUT_S": "4",
                    "HOTLINE_REVISIT_DIALER": "0", "HOTLINE_REFCASE_ADVANCE_S": "0", "HOTLINE_BIND": "127.0.0.1"}
        self.url = f"http://127.0.0.1:{ports['HTTP_PORT']}"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 120.0) -> dict[str, Any]:
        state_file = self.home / "run" / "stack.json"
        state_file.unlink(missing_ok=True)
        log = open(self.home.parent / "service.log", "ab")  # noqa: SIM115 - the child owns it
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hotline.cli", "run", cwd=REPO, env=self.env, stdout=log, stderr=log)
        finally:
            log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        while not state_file.exists() or json.loads(state_file.read_text()).get("pid") != self.proc.pid:
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


async def world_channels(ami: AmiClient) -> set[str]:
    return {str(e.get("Uniqueid")) for e in await ami.action_list("CoreShowChannels")}


@pytest.mark.timeout(300)
async def test_a_killed_service_loses_no_waiting_caller_and_no_conversation(tmp_path: Path) -> None:
    service = Service(tmp_path / "home")
    state = await service.start()
    try:
        async with world_of(state) as (world, ami):
            for agent in ("8001", "8002", "8003", "8004"):
                await service.api("POST", f"/api/agents/{agent}/state", {"state": "paused", "reason": "test"})
            await ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": str(TALK_S)})
            await ami.action("Setvar", {"Variable": "WORLD_TALK_8002", "Value": "60"})  # busy till the end
            await service.api("POST", "/api/agents/8001/state", {"state": "ready"})

            talking = await world.start("12345", "13600000001", script=PATIENT, timeout_s=180)
            await service.wait_for_agent("8001", "on_call")
            first: WorldCall = await world.start("12345", "13600000002", script=PATIENT, timeout_s=180)
            await asyncio.sleep(1.5)
            second = await world.start("12345", "13600000003", script=PATIENT, timeout_s=180)
            for _ in range(150):
                if len(await service.waiting_callers()) == 2:
                    break
                await asyncio.sleep(0.2)
            assert await service.waiting_callers() == ["13600000002", "13600000003"]

            service.kill()
            await asyncio.wait_for(service.proc.wait(), 10)  # type: ignore[union-attr]
            await asyncio.sleep(3)
            # nobody noticed: the conversation and both waiting callers are still on the line
            assert {talking.channel_id, first.channel_id, second.channel_id} <= await world_channels(ami)

            await service.start()
            assert await service.waiting_callers() == ["13600000002", "13600000003"]
            assert (await service.agents())["8001"]["state"] == "on_call"
            await service.api("POST", "/api/agents/8002/state", {"state": "ready"})

            # in order: the first waiting caller goes to 8002 now; the second to 8001 once its call is over
            first_outcome, second_outcome, talking_outcome = await asyncio.gather(
                first.outcome(), second.outcome(), talking.outcome())
            assert first_outcome.record is not None and first_outcome.record.agent == "8002", first_outcome.record
            assert second_outcome.record is not None and second_outcome.record.agent == "8001", second_outcome.record
            record = talking_outcome.record
            assert record is not None and record.agent == "8001" and record.ended_at and record.answered_at
            assert "down" not in (record.hangup_cause or ""), record
            assert (record.ended_at - record.answered_at).total_seconds() >= TALK_S
            assert await service.waiting_callers() == []
            await service.wait_for_agent("8001", "ready")  # followed through its calls to wrap-up and ready
    finally:
        await service.stop()
