"""After the agent: the keypad rating (R-RATE-1) and the silent-caller procedure (R-ACC-6), on real calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from hotline.app.stack import Stack
from hotline.calls.models import Rating
from hotline.calls.records import RatingRefused
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, steps, wait_for_step

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def agent_talks_for(stack: Stack, agent: str, seconds: int | None) -> None:
    """The agent's phone hangs up after `seconds` of talk (None: stays until the caller hangs up)."""
    assert stack.world_ami is not None
    await stack.world_ami.action("Setvar", {"Variable": f"WORLD_TALK_{agent}", "Value": str(seconds or "")})


async def test_a_rating_keyed_after_the_agent_hangs_up_is_stored_once(stack: Stack,
                                                                      world_caller: WorldCaller) -> None:
    await only_ready(stack, "8001")
    await agent_talks_for(stack, "8001", 2)
    call = await world_caller.start("12345", "13800138111", script="wait:60")
    sip = await call.answered()
    await wait_for_step(stack, sip, "rating_prompt", timeout=40)
    await call.press("9")  # not a rating key: one re-prompt
    await wait_for_step_count(stack, sip, "rating_prompt", 2)
    await call.press("2")
    outcome = await call.outcome()

    record = outcome.record
    assert record is not None
    assert record.agent == "8001" and record.rating == 2 and record.rating_status == "rated", record
    keys = [s["detail"] for s in record.steps if s["step"] == "rating_key"]
    assert keys == [{"key": "9", "valid": False}, {"key": "2", "valid": True}]
    assert steps(record).count("rated") == 1
    assert stack.calls is not None
    async with stack.calls.sessions() as s:
        rows = (await s.scalars(select(Rating).where(Rating.call_id == record.call_id))).all()
    assert [(r.agent, r.rating, r.label) for r in rows] == [("8001", 2, "满意")]
    with pytest.raises(RatingRefused):  # once per call
        await stack.calls.rate(record.call_id, 5, "非常不满意", record.started_at)
    await agent_talks_for(stack, "8001", None)


async def wait_for_step_count(stack: Stack, sip: str, step: str, count: int) -> None:
    assert stack.calls is not None
    for _ in range(200):
        rows = await stack.calls.list(sip_call_id=sip, limit=1)
        if rows and steps(rows[0]).count(step) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{step} not seen {count} times")


async def test_a_caller_who_hangs_up_before_rating_is_marked_not_rated(stack: Stack,
                                                                       world_caller: WorldCaller) -> None:
    await only_ready(stack, "8001")
    outcome = await world_caller.call("12345", "13800138112", script="wait:9")
    record = outcome.record
    assert record is not None and record.agent == "8001", record
    assert record.rating is None and record.rating_status == "not_rated"
    assert "rating_prompt" not in steps(record)


async def test_garbage_keys_at_the_rating_leave_the_call_not_rated(stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack, "8002")
    await agent_talks_for(stack, "8002", 2)
    call = await world_caller.start("12345", "13800138113", script="wait:60")
    sip = await call.answered()
    await wait_for_step(stack, sip, "rating_prompt", timeout=40)
    await call.press("*#*#")  # a storm of non-rating keys: invalid, re-prompt, invalid again
    outcome = await call.outcome()
    record = outcome.record
    assert record is not None and record.agent == "8002"
    assert record.rating is None and record.rating_status == "not_rated"
    assert steps(record).count("rating_prompt") == 2 and "not_rated" in steps(record)
    await agent_talks_for(stack, "8002", None)



async def test_a_silent_caller_is_hung_up_after_exactly_three_prompts(stack: Stack,
                                                                      world_caller: WorldCaller) -> None:
    assert stack.tokens is not None
    await only_ready(stack, "8001")
    call = await world_caller.start("12345", "13800138114", script="wait:90")
    sip = await call.answered()
    record = await wait_for_step(stack, sip, "agent", timeout=30)
    other = await stack.tokens.create(name="other", role="agent", agent_id="8002")
    assert (await api(stack, "POST", f"/api/calls/{record.call_id}/silent", other))[0] == 403
    mine = await stack.tokens.create(name="mine", role="agent", agent_id="8001")
    assert (await api(stack, "POST", f"/api/calls/{record.call_id}/silent", mine))[0] == 200
    outcome = await call.outcome()

    ended = outcome.record
    assert ended is not None
    assert steps(ended).count("silent_prompt") == 3
    assert steps(ended)[-1] == "silent_goodbye" and ended.outcome == "silent_caller"
    assert outcome.answered and outcome.speech is not None and outcome.speech.has_speech
    assert stack.acd is not None
    for _ in range(50):  # the agent was freed at once (wrap-up, then ready)
        if (await stack.acd.agents())["8001"]["state"] == "ready":
            break
        await asyncio.sleep(0.1)
    assert (await stack.acd.agents())["8001"]["state"] == "ready"
