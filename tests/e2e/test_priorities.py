"""Who is answered first, on real calls (R-ACD-1 "priorities (emergencies, repeat callers, elderly lines)"),
and the emergency hint per number (R-ACC-5).

The dialplan is the shipped one with numbers starting 1350019 listed as emergency lines, 12329's menu given
a key 9 that marks the call an emergency, and 12333 its own emergency hint text. The database matters little
here (a caller list, the call history): the module runs on SQLite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from hotline.calls.records import CallView
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, edited_dialplan, only_ready, running_stack, stack_settings, steps, wait_for_step

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

EMERGENCY_LINES = "1350019"  # the dialplan's emergency_callers prefix in this module


def with_priorities(plan: dict[str, Any]) -> None:
    plan["priorities"]["emergency_callers"] = [EMERGENCY_LINES]
    for number in plan["numbers"]:
        if number["number"] == "12329":
            number["menu"]["options"]["9"] = "general"
            number["menu"]["emergency"] = ["9"]
        if number["number"] == "12333":
            number["emergency_hint"] = "emergency_hint_12333"
    plan["prompts"]["emergency_hint_12333"] = "如遇工伤急救等紧急情况，请直接拨打120。"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    async with running_stack(stack_settings(home, dialplan_file=edited_dialplan(home, with_priorities))) as s:
        yield s


def queued(record: CallView) -> dict[str, object]:
    return dict(next(s["detail"] for s in record.steps if s["step"] == "queued"))


async def test_an_emergency_caller_who_came_after_a_vip_and_an_ordinary_caller_is_answered_first(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.acd is not None
    sup = await stack.tokens.create(name="sup", role="supervisor")
    assert (await api(stack, "POST", "/api/caller-lists", sup, {"number": "13500180002", "kind": "vip"}))[0] == 201
    await only_ready(stack, "8001")
    talking = await world_caller.start("12345", "13500180000", script="wait:60")
    busy = await wait_for_step(stack, await talking.answered(), "agent")
    assert busy.agent == "8001"  # the one agent is busy from here on

    ordinary = await world_caller.start("12345", "13500180001", script="wait:60")
    assert queued(await wait_for_step(stack, await ordinary.answered(), "queued"))["priority"] == 0
    vip = await world_caller.start("12345", "13500180002", script="wait:60")
    vip_record = await wait_for_step(stack, await vip.answered(), "queued")
    assert queued(vip_record)["priority"] == 2
    emergency = await world_caller.start("12345", EMERGENCY_LINES + "0003", script="wait:60")
    record = await wait_for_step(stack, await emergency.answered(), "queued")
    assert queued(record)["priority"] == 4
    assert "emergency" in next(s["detail"]["labels"] for s in record.steps if s["step"] == "caller_lists")

    await talking.hangup()  # 8001 wraps up (1 s here) and is ready again
    record = await wait_for_step(stack, record.sip_call_id or "", "agent")
    assert record.agent == "8001"  # the emergency came last and was answered first
    assert [w["call_id"] for w in await stack.acd.waiting()][:1] == [vip_record.call_id]  # the VIP is next
    await talking.outcome()
    for call in (ordinary, vip, emergency):
        await call.hangup()
        await call.outcome()


async def first_of_two(stack: Stack, world_caller: WorldCaller, ordinary: str, favoured: str,
                       dialled: str = "12345", script: str = "wait:60") -> CallView:
    """An ordinary caller queues, then `favoured` does; the agent who gets ready takes `favoured` first.
    Returns the favoured caller's record once answered."""
    await only_ready(stack)
    first = await world_caller.start("12345", ordinary, script="wait:60")
    await wait_for_step(stack, await first.answered(), "queued")
    second = await world_caller.start(dialled, favoured, script=script)
    sip = await second.answered()
    await wait_for_step(stack, sip, "queued")
    await only_ready(stack, "8001")
    record = await wait_for_step(stack, sip, "agent")
    assert record.agent == "8001", "the second caller was answered first"
    for call in (first, second):
        await call.hangup()
        await call.outcome()
    return record


async def test_an_elderly_caller_is_answered_before_an_earlier_ordinary_caller(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None
    sup = await stack.tokens.create(name="sup2", role="supervisor")
    body = {"number": "13500180012", "kind": "elderly", "note": "独居老人"}
    assert (await api(stack, "POST", "/api/caller-lists", sup, body))[0] == 201
    record = await first_of_two(stack, world_caller, "13500180011", "13500180012")
    assert queued(record)["priority"] == 2
    assert next(s["detail"]["labels"] for s in record.steps if s["step"] == "caller_lists") == ["elderly"]


async def test_a_caller_who_called_today_already_is_answered_before_a_new_one(
        stack: Stack, world_caller: WorldCaller) -> None:
    before = await world_caller.call("12345", "13500180022", script="wait:2")  # hung up in the greeting
    assert before.record is not None and before.record.outcome == "abandoned"
    record = await first_of_two(stack, world_caller, "13500180021", "13500180022")
    assert queued(record)["priority"] == 1
    assert next(s["detail"]["labels"] for s in record.steps if s["step"] == "caller_lists") == ["repeat_caller"]


async def test_a_menu_key_marked_emergency_puts_the_caller_first(stack: Stack, world_caller: WorldCaller) -> None:
    record = await first_of_two(stack, world_caller, "13500180031", "13500180032", dialled="12329",
                                script="wait:1/dtmf:9/wait:60")
    assert queued(record) == {"skill": "general", "priority": 4}
    assert any(s["step"] == "emergency_key" and s["detail"] == {"key": "9"} for s in record.steps), steps(record)


async def test_a_caller_the_agent_flags_is_an_emergency_on_their_next_call(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None
    agent = await stack.tokens.create(name="a1", role="agent", agent_id="8001")
    other = await stack.tokens.create(name="a2", role="agent", agent_id="8002")
    await only_ready(stack, "8001")
    call = await world_caller.start("12345", "13500180042", script="wait:60")
    record = await wait_for_step(stack, await call.answered(), "agent")
    path = f"/api/calls/{record.call_id}/flag-emergency"
    assert (await api(stack, "POST", path, other, {}))[0] == 403  # not their call
    assert (await api(stack, "POST", path, agent, {"note": "x" * 201}))[0] == 400
    assert (await api(stack, "POST", "/api/calls/no-such-call/flag-emergency", agent, {}))[0] == 403
    status, answer = await api(stack, "POST", path, agent, {"note": "燃气泄漏，来电人可能再次来电"})
    assert status == 200 and isinstance(answer, dict) and answer["flagged_until"], answer
    record = await wait_for_step(stack, record.sip_call_id or "", "emergency_flagged")
    flagged = next(s["detail"] for s in record.steps if s["step"] == "emergency_flagged")
    assert flagged["by"] == "a1" and flagged["note"] == "燃气泄漏，来电人可能再次来电"
    await call.hangup()
    await call.outcome()

    again = await first_of_two(stack, world_caller, "13500180041", "13500180042")
    assert queued(again)["priority"] == 4  # above a VIP, not only a repeat caller's 1
    labels = next(s["detail"]["labels"] for s in again.steps if s["step"] == "caller_lists")
    assert "emergency" in labels and "repeat_caller" in labels


async def test_the_emergency_hint_is_played_on_the_numbers_that_ask_for_it(
        stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack)
    main = await world_caller.call("12345", "13500180051", script="wait:12")
    assert main.record is not None
    hint = next(s["detail"] for s in main.record.steps if s["step"] == "emergency_hint")
    assert hint == {"prompt": "emergency_hint"}
    assert steps(main.record).index("queued") < steps(main.record).index("emergency_hint")  # not delaying the queue
    assert main.speech is not None and main.speech.speech_s > 5  # greeting and hint heard

    own = await world_caller.call("12333", "13500180052", script="wait:10")
    assert own.record is not None
    assert next(s["detail"] for s in own.record.steps if s["step"] == "emergency_hint") == {
        "prompt": "emergency_hint_12333"}

    none = await world_caller.call("12348", "13500180053", script="wait:8")
    assert none.record is not None and "queued" in steps(none.record)
    assert "emergency_hint" not in steps(none.record)
