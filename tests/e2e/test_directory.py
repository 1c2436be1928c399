"""The agent directory on real parts: an agent added over the API while the hotline runs gets a phone in Asterisk
(and the simulated world's phone for it registers), signs in and takes a citizen's call; a deactivated agent is
offered nothing, while a directory change keeps the call in progress and the waiting caller."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from acd.directory.sync import PhoneSync
from acd.store import AcdStore
from hotline.app.stack import Stack
from integration.world.call import WorldCaller, citizen_script
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
NEW_AGENT = {"id": "8123", "name": "陈晨", "seat": "general", "team": "一组", "skills": {"general": 3}}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def contacts(stack: Stack) -> str:
    assert stack.hotline is not None
    return await stack.hotline.cli("pjsip show contacts")


async def registered(stack: Stack, agent: str, timeout: float = 20.0) -> None:
    """Until the agent's phone (played by the world) is registered to the hotline."""
    for _ in range(int(timeout * 5)):
        if f" {agent}/sip:" in await contacts(stack):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"phone {agent} not registered: {await contacts(stack)}")


async def rendered_since(stack: Stack, before: int, timeout: float = 10.0) -> None:
    phones = stack.service(PhoneSync)
    for _ in range(int(timeout * 10)):
        if phones.renders > before:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the directory's phones were not rendered and reloaded")


async def call_state(stack: Stack, call_id: str) -> str:
    return (await stack.service(AcdStore).call(call_id)).get("state", "gone")


async def wait_call_state(stack: Stack, state: str, timeout: float = 30.0) -> str:
    """The id of the first call the ACD has in `state`."""
    for _ in range(int(timeout * 10)):
        for call_id, call in (await stack.service(AcdStore).calls()).items():
            if call.get("state") == state:
                return call_id
        await asyncio.sleep(0.1)
    raise AssertionError(f"no call {state} within {timeout}s")


async def test_agent_8123_added_over_the_api_signs_in_and_takes_a_citizens_call(stack: Stack,
                                                                               world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.hotline is not None and stack.acd is not None
    team = await stack.tokens.create(name="一组组长", role="supervisor", group="一组")
    other_team = await stack.tokens.create(name="二组组长", role="supervisor", group="二组")
    status, body = await api(stack, "POST", "/api/directory/agents", other_team, NEW_AGENT)
    assert status == 403, body  # not their team
    status, body = await api(stack, "POST", "/api/directory/agents", team, NEW_AGENT)
    assert status == 201 and body["id"] == "8123" and "secret" not in json.dumps(body), body  # type: ignore[index]
    assert (await api(stack, "POST", "/api/directory/agents", team, NEW_AGENT))[0] == 409

    await registered(stack, "8123")  # Asterisk has the endpoint; the world's phone for it registered
    assert "Dial(PJSIP/8123,30)" in await stack.hotline.cli("dialplan show 8123@agents")
    assert "HOTLINE_CONSULT_TARGET=PJSIP/8123" in await stack.hotline.cli("dialplan show 8123@hotline-consult-seat")
    assert (await stack.acd.agents())["8123"]["state"] == "signed_out"
    # the team supervisor reaches the new agent at once (the access checks' teams follow the directory)
    await only_ready(stack)
    assert (await api(stack, "POST", "/api/agents/8123/state", team, {"state": "ready"}))[0] == 200
    assert (await api(stack, "POST", "/api/agents/8123/state", other_team, {"state": "paused"}))[0] == 403

    outcome = await world_caller.call("12345", "13600136123", dtmf="1", listen_s=5)
    assert outcome.record is not None and outcome.record.agent == "8123", outcome.record
    assert outcome.speech is not None and outcome.speech.has_speech


async def test_a_new_phone_password_is_shown_once_kept_private_and_the_phone_follows_it(stack: Stack) -> None:
    assert stack.tokens is not None
    admin = await stack.tokens.create(name="admin", role="admin")
    before = stack.service(PhoneSync).renders
    status, body = await api(stack, "POST", "/api/directory/agents/8123/phone-secret", admin)
    assert status == 200 and len(body["secret"]) >= 20, body  # type: ignore[index]
    secret = body["secret"]  # type: ignore[index]
    path = stack.settings.core.home / "secrets.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["agents"]["8123"] == secret
    listed = await api(stack, "GET", "/api/directory/agents", admin)
    assert secret not in json.dumps(listed[1])
    await rendered_since(stack, before)
    await registered(stack, "8123")  # the world's phone registers again with the new password


async def test_a_deactivated_agent_gets_no_offers_and_a_change_keeps_calls_and_waiting_callers(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.acd is not None and stack.hotline is not None
    sup = await stack.tokens.create(name="值班长", role="supervisor")
    await only_ready(stack, "8002")
    talking = await world_caller.start("12345", "13600136201", script=citizen_script("1", 14))
    first = await wait_call_state(stack, "connected")
    assert (await stack.service(AcdStore).call(first))["agent"] == "8002"

    await stack.acd.set_agent_state("8123", "ready")
    status, body = await api(stack, "POST", "/api/directory/agents/8123/deactivate", sup)
    assert status == 200 and body["active"] is False, body  # type: ignore[index]
    assert "8123" not in await stack.acd.agents()
    assert (await api(stack, "POST", "/api/agents/8123/state", sup, {"state": "ready"}))[0] == 404

    waiting = await world_caller.start("12345", "13600136202", script=citizen_script("1", 30))
    second = await wait_call_state(stack, "waiting")
    before = stack.service(PhoneSync).renders
    status, _ = await api(stack, "PATCH", "/api/directory/agents/8001", sup, {"name": "王芳芳"})
    assert status == 200
    await rendered_since(stack, before)
    assert "8123" not in await stack.hotline.cli("pjsip show endpoints")
    await asyncio.sleep(1.0)  # 8123 would have been offered the caller by now
    assert await call_state(stack, first) == "connected", "the reload kept the conversation"
    assert await call_state(stack, second) == "waiting", "nobody but a deactivated agent was there"

    first_outcome, second_outcome = await talking.outcome(), await waiting.outcome()
    assert first_outcome.record is not None and first_outcome.record.agent == "8002"
    assert second_outcome.record is not None and second_outcome.record.agent == "8002", second_outcome.record


async def test_an_agent_deactivated_while_talking_finishes_the_call_and_the_acd_goes_on(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.acd is not None and stack.hotline is not None
    sup = await stack.tokens.create(name="二组组长", role="supervisor", group="二组")
    await only_ready(stack, "8003")
    talking = await world_caller.start("12345", "13600136301", script=citizen_script("1", 10))
    call_id = await wait_call_state(stack, "connected")
    assert (await stack.service(AcdStore).call(call_id))["agent"] == "8003"
    before = stack.service(PhoneSync).renders
    assert (await api(stack, "POST", "/api/directory/agents/8003/deactivate", sup))[0] == 200
    await rendered_since(stack, before)
    assert "8003" not in await stack.acd.agents()
    assert "PJSIP/8003-" in await stack.hotline.cli("core show channels"), "the agent's leg outlived the reload"
    assert await call_state(stack, call_id) == "connected"
    outcome = await talking.outcome()
    assert outcome.record is not None and outcome.record.agent == "8003" and outcome.record.ended_at is not None

    await only_ready(stack, "8002")  # the ACD goes on with the others
    after = await world_caller.call("12345", "13600136302", dtmf="1", listen_s=4)
    assert after.record is not None and after.record.agent == "8002"
