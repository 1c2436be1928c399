"""500 agents: added in one bulk request while the hotline runs, they are all in Asterisk (AMI PJSIPShowEndpoints)
within seconds, after a single render and reload; and the world's phones for them all register."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from acd.directory.sync import PhoneSync
from hotline.app.stack import Stack
from tests.e2e.conftest import api, running_stack, stack_settings

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
AGENTS = [f"{7000 + n}" for n in range(500)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def endpoints(stack: Stack) -> set[str]:
    assert stack.ami is not None
    return {str(e.get("ObjectName")) for e in await stack.ami.action_list("PJSIPShowEndpoints")}


async def test_500_agents_added_at_once_are_in_asterisk_within_seconds_after_one_reload(stack: Stack) -> None:
    assert stack.tokens is not None and stack.acd is not None and stack.hotline is not None
    admin = await stack.tokens.create(name="admin", role="admin")
    await api(stack, "POST", "/api/directory/teams", admin, {"name": "七组"})
    rows = [{"id": agent, "name": f"坐席{agent}", "seat": "general", "team": "七组",
             "skills": {"general": 1 + n % 5, **({"tax": 3} if n % 7 == 0 else {})}} for n, agent in enumerate(AGENTS)]
    status, body = await api(stack, "POST", "/api/directory/agents/bulk", admin,
                             {"agents": [*rows[:3], {**rows[3], "skills": {"nope": 1}}, {**rows[4], "id": "8001"}]})
    assert status == 422, body
    assert [f["field"] for f in body["error"]["fields"]] == ["agents.3.skills", "agents.4.id"]  # type: ignore[index]
    assert not set(AGENTS) & await endpoints(stack), "nothing of a refused bulk request"

    phones = stack.service(PhoneSync)
    before = phones.renders
    started = time.monotonic()
    status, body = await api(stack, "POST", "/api/directory/agents/bulk", admin, {"agents": rows})
    assert status == 201 and body["added"] == 500, body  # type: ignore[index]
    answered = time.monotonic() - started
    for _ in range(75):
        if set(AGENTS) <= (present := await endpoints(stack)):
            break
        await asyncio.sleep(0.2)
    in_asterisk = time.monotonic() - started
    assert set(AGENTS) <= present, f"{len(set(AGENTS) - present)} endpoints missing after {in_asterisk:.1f} s"
    assert in_asterisk < 5.0, f"500 endpoints took {in_asterisk:.1f} s (the request {answered:.1f} s)"
    for _ in range(50):  # (the endpoints are there once PJSIP reloaded; the dialplan's reload comes next)
        if phones.renders > before:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)
    assert phones.renders == before + 1, "one render and reload for the whole bulk"
    assert "Dial(PJSIP/7499,30)" in await stack.hotline.cli("dialplan show 7499@agents")
    agents = await stack.acd.agents()
    assert set(AGENTS) <= set(agents) and agents["7007"]["lvl:tax"] == "3"
    print(f"\n500 agents: request {answered:.2f} s, all endpoints in Asterisk {in_asterisk:.2f} s")

    registered = 0
    for _ in range(90):  # the simulated world's phones for them register too (every one, not a sample)
        contacts = await stack.hotline.cli("pjsip show contacts", timeout=30)
        registered = sum(f" {agent}/sip:" in contacts for agent in AGENTS)
        if registered == len(AGENTS):
            break
        await asyncio.sleep(1.0)
    print(f"world phones registered: {registered}/500 after {time.monotonic() - started:.1f} s")
    assert registered == 500
