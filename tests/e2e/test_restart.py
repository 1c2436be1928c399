"""Restart without loss (R-ACD, issue 5): the service is killed with SIGKILL while callers wait and an
agent talks; Asterisk and Redis go on, and the restarted service picks up where it stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.datadirs import DataDirs
from hotline.core.asterisk.root import find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from integration.world.call import WorldCall
from tests.e2e.service import Service, world_of

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio]

TALK_S = 25  # how long agent 8001 talks with each caller
PATIENT = "noise/wait:1/dtmf:1/wait:150"  # a citizen who presses 1 for a person and waits as long as it takes


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
    data = DataDirs(find_root(state["asterisk_root"]), state["data_dir_inner"])
    for name in ("hotline", "world"):  # adopted from a dead service, held by none other: stopped with this one
        assert await AsteriskInstance(data.root, name, {}, inner_dir=data.instance(name)).running() is None
