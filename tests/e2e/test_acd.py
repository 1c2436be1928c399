"""The ACD's first slice on real parts: queue in Redis, offer to an agent's phone, missed offers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from hotline.stack import Stack
from hotline.worldcall import WorldCaller
from tests.e2e.conftest import running_stack, stack_settings

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def api(stack: Stack, method: str, path: str, token: str, body: object = None) -> tuple[int, object]:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, f"http://127.0.0.1:{stack.settings.ports.http}{path}", json=body,
                                headers={"Authorization": f"Bearer {token}"}) as r:
            return r.status, await r.json()


async def test_a_missed_offer_requeues_the_caller_and_pauses_the_agent(stack: Stack,
                                                                       world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.world_ami is not None and stack.acd is not None
    sup = await stack.tokens.create(name="sup", role="supervisor")
    for agent in ("8001", "8002", "8003", "8004"):
        status, _ = await api(stack, "POST", f"/api/agents/{agent}/state", sup, {"state": "paused", "reason": "test"})
        assert status == 200
    # 8001 signs in first (longest idle) but has walked away from the phone; 8002 is there.
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_AWAY_8001", "Value": "1"})
    assert (await api(stack, "POST", "/api/agents/8001/state", sup, {"state": "ready"}))[0] == 200
    assert (await api(stack, "POST", "/api/agents/8002/state", sup, {"state": "ready"}))[0] == 200

    outcome = await world_caller.call("12345", "13600136000", dtmf="1", listen_s=15)

    record = outcome.record
    assert record is not None and record.agent == "8002", record
    assert outcome.speech is not None and outcome.speech.has_speech
    status, body = await api(stack, "GET", "/api/agents", sup)
    agents = {a["agent"]: a for a in body["agents"]}  # type: ignore[index]
    assert agents["8001"]["state"] == "paused"
    assert agents["8001"]["reason"].startswith("missed offer")
    for _ in range(50):  # wrap-up is 1 s in tests; then 8002 is ready for the next caller
        if (await stack.acd.agents())["8002"]["state"] == "ready":
            break
        await asyncio.sleep(0.1)
    assert (await stack.acd.agents())["8002"]["state"] == "ready"
    agent_token = await stack.tokens.create(name="a1", role="agent", agent_id="8001")
    assert (await api(stack, "POST", "/api/agents/8002/state", agent_token, {"state": "ready"}))[0] == 403
    assert (await api(stack, "GET", "/api/acd/queue", agent_token))[0] == 403
    status, body = await api(stack, "GET", "/api/acd/queue", sup)
    assert status == 200 and body == {"waiting": []}


async def wait_for_agent(stack: Stack, agent: str, state: str, timeout: float = 15.0) -> dict[str, str]:
    assert stack.acd is not None
    for _ in range(int(timeout * 10)):
        info = (await stack.acd.agents())[agent]
        if info["state"] == state:
            return info
        await asyncio.sleep(0.1)
    raise AssertionError(f"agent {agent} not {state}: {(await stack.acd.agents())[agent]}")


async def test_a_phone_that_unregisters_pauses_its_agent_until_it_is_back(stack: Stack) -> None:
    assert stack.acd is not None and stack.world_ami is not None
    await stack.acd.set_agent_state("8003", "ready")
    await stack.world_ami.action("PJSIPUnregister", {"Registration": "phone-8003"})
    paused = await wait_for_agent(stack, "8003", "paused")
    assert paused["reason"] == "phone unregistered"
    await stack.world_ami.action("PJSIPRegister", {"Registration": "phone-8003"})
    await wait_for_agent(stack, "8003", "ready")
