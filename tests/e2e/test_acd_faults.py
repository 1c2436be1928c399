"""The ACD when its parts fail under it (issue 5, bad input): the AMI connection drops during a
conversation, Redis restarts with callers waiting. Nobody is lost, nobody is offered twice."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from integration.world.call import WorldCall, WorldCaller
from tests.e2e.conftest import only_ready, running_stack, stack_settings
from tests.e2e.test_acd import wait_for_agent

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

PATIENT = "noise/wait:1/dtmf:1/wait:90"  # presses 1 for a person, then waits as long as it takes


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def queued(stack: Stack, count: int, timeout: float = 30.0) -> None:
    assert stack.acd is not None
    for _ in range(int(timeout * 5)):
        if len(await stack.acd.waiting()) == count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not {count} waiting: {await stack.acd.waiting()}")


async def test_an_ami_drop_during_a_conversation_keeps_the_agent_busy_and_the_queue_in_order(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.ami is not None and stack.world_ami is not None and stack.acd is not None
    await only_ready(stack, "8001")
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": "12"})
    talking: WorldCall = await world_caller.start("12345", "13600136101", script=PATIENT, timeout_s=120)
    await wait_for_agent(stack, "8001", "on_call")
    waiting = await world_caller.start("12345", "13600136102", script=PATIENT, timeout_s=120)
    await queued(stack, 1)

    reconnects = stack.ami.reconnects
    protocol = stack.ami._protocol  # the test cuts the TCP connection under the client
    assert protocol is not None
    protocol.transport.close()
    for _ in range(100):
        if stack.ami.reconnects > reconnects:
            break
        await asyncio.sleep(0.1)
    assert stack.ami.reconnects > reconnects, "the AMI client reconnects by itself"
    await asyncio.sleep(1)
    assert (await stack.acd.agents())["8001"]["state"] == "on_call", "the drop did not end the conversation"

    talking_outcome, waiting_outcome = await asyncio.gather(talking.outcome(), waiting.outcome())
    assert talking_outcome.record is not None and talking_outcome.record.agent == "8001"
    assert waiting_outcome.record is not None and waiting_outcome.record.agent == "8001", \
        "the waiting caller is served by the agent once the followed conversation ended"
    await wait_for_agent(stack, "8001", "ready", timeout=30)
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": ""})


async def test_a_redis_restart_with_a_caller_waiting_loses_nobody(stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.redis_server is not None and stack.acd is not None and stack.world_ami is not None
    await only_ready(stack)  # nobody ready: the caller waits
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8002", "Value": "3"})
    call = await world_caller.start("12345", "13600136103", script=PATIENT, timeout_s=120)
    await queued(stack, 1)
    await asyncio.sleep(1.5)  # Redis writes its append-only file every second

    proc = stack.redis_server._proc  # the test kills Redis under the stack
    assert proc is not None
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    await stack.redis_server.start()  # same folder: the append-only file brings the queue back

    await stack.acd.set_agent_state("8002", "ready")
    outcome = await call.outcome()
    assert outcome.record is not None and outcome.record.agent == "8002", outcome.record
    assert await stack.acd.waiting() == []
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8002", "Value": ""})
