"""The citizen's first seconds on real calls: merged numbers (R-ACC-2), holiday greeting (R-ACC-4),
sub-centre overflow, barge-in and garbage keys, hang-ups at every step.

The dialplan file is the shipped one with today made a Spring Festival day and every whole-merge
window covering today, so the tests do not depend on the calendar.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from acd.store import AcdStore, now_ms, today
from acd.waits import AnsweredWait
from hotline.app.stack import Stack
from hotline.calls.records import CallView
from hotline.core.asterisk.ami import AmiError
from hotline.core.clock import china_today
from hotline.core.redis_client import redis_client
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, edited_dialplan, only_ready, running_stack, stack_settings, steps, wait_for_step
from tests.e2e.test_first_call import stored_recording

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


MERGED_BEFORE = "12349"  # a whole-merge number whose transition window has ended


def for_today(plan: dict[str, Any]) -> None:
    today = china_today()
    plan["holidays"].insert(0, {"name": "春节", "from": today - timedelta(days=1), "until": today + timedelta(days=1),
                                "greeting": "new_year"})
    for skill in plan["skills"]:
        for widening in skill.get("widen", []):
            widening["after"] = 3  # expert calls widen to senior general seats after 3 s instead of 30
    plan["queue"]["announce_every"] = 4  # position announcements every 4 s instead of 30
    for number in plan["numbers"]:
        if number["mode"] == "whole_merge":
            number["transition"] = {"from": today - timedelta(days=10), "until": today + timedelta(days=80)}
        if number["number"] == MERGED_BEFORE:  # its three months are over: it is 12345 now
            number["transition"] = {"from": today - timedelta(days=100), "until": today - timedelta(days=1)}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    async with running_stack(stack_settings(home, dialplan_file=edited_dialplan(home, for_today))) as s:
        yield s


async def test_a_whole_merge_number_plays_the_transition_then_the_holiday_greeting_then_queues(
        stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack, "8001")
    outcome = await world_caller.call("12396", "13500135001", listen_s=20)
    record = outcome.record
    assert record is not None
    assert steps(record)[:4] == ["transition", "greeting", "queued", "agent"], steps(record)
    assert record.route == {"mode": "whole_merge", "skill": "general", "prompt": "transition", "overflow": None}
    greeting = next(s for s in record.steps if s["step"] == "greeting")
    assert greeting["detail"]["prompt"] == "greeting_new_year"
    assert outcome.speech is not None and outcome.speech.speech_s > 5  # transition + greeting were heard


async def test_a_whole_merge_number_after_its_window_is_12345_without_the_transition(
        stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack, "8001")
    outcome = await world_caller.call(MERGED_BEFORE, "13500135011", listen_s=10)
    record = outcome.record
    assert record is not None and record.agent == "8001", record
    assert steps(record)[:2] == ["greeting", "queued"], steps(record)
    assert record.route["prompt"] == "greeting_new_year" and record.route["skill"] == "general", record.route


async def test_the_holiday_greeting_on_12345(stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack, "8001")
    outcome = await world_caller.call("12345", "13500135002", listen_s=8)
    assert outcome.record is not None
    assert outcome.record.route["prompt"] == "greeting_new_year"
    assert steps(outcome.record)[:2] == ["greeting", "queued"]


async def test_a_dual_number_lands_on_its_expert_skill(stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack, "8001", "8003")  # 8001 is longest idle but has no social security skill
    outcome = await world_caller.call("12333", "13500135003", listen_s=10)
    record = outcome.record
    assert record is not None and record.agent == "8003", record
    assert record.route["mode"] == "dual" and record.route["skill"] == "social_security"


async def test_an_expert_call_widens_to_a_senior_general_seat_after_the_configured_wait(
        stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack, "8002", "8001")  # no social security expert is ready; 8002 (level 3) is longest idle
    outcome = await world_caller.call("12333", "13500135010", listen_s=14)
    record = outcome.record
    assert record is not None and record.agent == "8002", record
    assert record.route["skill"] == "social_security"
    at = {s["step"]: datetime.fromisoformat(s["at"]) for s in record.steps}
    assert (at["agent"] - at["queued"]).total_seconds() >= 3  # offered only once the call had waited 3 s


async def test_a_sub_centre_call_reaches_its_seat_and_overflows_when_closed(stack: Stack,
                                                                            world_caller: WorldCaller) -> None:
    assert stack.acd is not None
    await only_ready(stack, "8001", "8004")
    staffed = await world_caller.call("12366", "13500135004", listen_s=10)
    assert staffed.record is not None and staffed.record.agent == "8004"
    assert staffed.record.route["skill"] == "tax" and staffed.record.route["overflow"] is None

    await only_ready(stack, "8001")
    await stack.acd.set_agent_state("8004", "signed_out")  # the tax sub-centre is closed
    closed = await world_caller.call("12366", "13500135005", listen_s=10)
    record = closed.record
    assert record is not None and record.agent == "8001", record
    assert record.route == {"mode": "sub_centre", "skill": "general", "prompt": "greeting_new_year",
                            "overflow": "closed"}
    overflow = next(s for s in record.steps if s["step"] == "overflow")
    assert overflow["detail"] == {"from": "tax", "to": "general", "reason": "closed"}


async def test_garbage_keys_during_the_greeting_are_noted_and_the_caller_still_queues(
        stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack, "8002")
    storm = "*#*#*##**#" + "9" * 30
    outcome = await world_caller.call("12345", "13500135006", script=f"noise/wait:1/dtmf:{storm}/wait:10")
    record = outcome.record
    assert record is not None and record.agent == "8002", record
    assert steps(record)[:5] == ["greeting", "digit", "queued", "emergency_hint", "agent"]
    digit = next(s for s in record.steps if s["step"] == "digit")
    assert digit["detail"]["barge_in"] and digit["detail"]["digit"] == "*"


async def test_hang_ups_during_the_greeting_and_in_the_queue_keep_the_record(stack: Stack,
                                                                             world_caller: WorldCaller) -> None:
    await only_ready(stack)
    early = await world_caller.call("12345", "13500135007", script="wait:1")
    assert early.record is not None and early.record.outcome == "abandoned"
    assert early.record.ended_at is not None and early.record.hangup_cause
    waited = await world_caller.call("12345", "13500135008", script="wait:18")  # greeting, hint, first offer
    assert waited.record is not None and waited.record.sip_call_id is not None
    record: CallView | None = waited.record
    for _ in range(50):  # the record's end and the queue's hang-up (AMI) are written by two writers
        if record is not None and record.outcome != "queued":
            break
        await asyncio.sleep(0.1)
        record = await world_caller.find_record(waited.record.sip_call_id)
    assert record is not None and record.outcome == "abandoned_in_queue", record
    assert steps(waited.record)[:4] == ["greeting", "queued", "emergency_hint", "self_service_offer"], "self-service"
    assert stack.acd is not None and await stack.acd.waiting() == []



async def test_caller_lists_refuse_blocked_numbers_warn_watched_ones_and_put_vips_first(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.acd is not None
    sup = await stack.tokens.create(name="sup", role="supervisor")
    agent = await stack.tokens.create(name="a", role="agent", agent_id="8001")
    blocked = {"number": "13500135020", "kind": "blocked"}
    assert (await api(stack, "POST", "/api/caller-lists", agent, blocked))[0] == 403
    assert (await api(stack, "POST", "/api/caller-lists", sup, {"number": "135-0013", "kind": "blocked"}))[0] == 400
    assert (await api(stack, "POST", "/api/caller-lists", sup, {"number": "13500135020", "kind": "bad"}))[0] == 400
    for number, kind in (("13500135020", "blocked"), ("13500135021", "watch"), ("13500135023", "vip")):
        assert (await api(stack, "POST", "/api/caller-lists", sup, {"number": number, "kind": kind}))[0] == 201
    assert (await api(stack, "POST", "/api/caller-lists", sup, {"number": "13500135020", "kind": "blocked"}))[0] == 409

    await only_ready(stack, "8001")
    refused = await world_caller.call("12345", "13500135020", listen_s=15)
    assert refused.record is not None and refused.record.outcome == "blocked"
    assert steps(refused.record) == ["blocked"] and refused.record.agent is None
    assert refused.speech is not None and refused.speech.has_speech  # the refusal was heard, politely

    watched = await world_caller.call("12345", "13500135021", listen_s=14)
    record = watched.record
    assert record is not None and steps(record)[:3] == ["greeting", "watch_warning", "caller_lists"], steps(record)
    assert record.agent == "8001"

    await only_ready(stack)
    first = await world_caller.start("12345", "13500135022", script="wait:40")
    await wait_for_step(stack, await first.answered(), "queued")
    vip = await world_caller.start("12345", "13500135023", script="wait:40")
    vip_record = await wait_for_step(stack, await vip.answered(), "queued")
    assert next(s["detail"] for s in vip_record.steps if s["step"] == "queued")["priority"] == 2
    await only_ready(stack, "8001")
    vip_record = await wait_for_step(stack, vip_record.sip_call_id or "", "agent")
    assert vip_record.agent == "8001"  # the VIP came second but was answered first
    await stack.acd.set_agent_state("8002", "ready")
    first_record = await wait_for_step(stack, await first.answered(), "agent")
    assert first_record.agent == "8002"
    await first.hangup()
    await vip.hangup()
    await first.outcome()
    await vip.outcome()
    assert (await api(stack, "DELETE", "/api/caller-lists/blocked/13500135020", sup))[0] == 200
    assert (await api(stack, "DELETE", "/api/caller-lists/blocked/13500135020", sup))[0] == 404


async def test_waiting_callers_hear_how_many_are_ahead_and_the_wait_of_the_last_half_hour(
        stack: Stack, world_caller: WorldCaller) -> None:
    await only_ready(stack)
    first = await world_caller.start("12345", "13500135030", script="wait:30")
    first_sip = await first.answered()
    await wait_for_step(stack, first_sip, "queued")
    live = redis_client(stack.redis_url)  # a scripted history of the general queue
    acd = AcdStore(live)
    await acd.talked("general", 6_000_000, day=today())  # the day's talks averaged 100 minutes: not used any more
    await live.delete("acd:answered:general")  # the callers answered by the earlier tests
    at = now_ms()
    for minutes_ago, waited_s in ((5, 200), (12, 280), (50, 20), (90, 20)):  # the last two are out of the window
        await acd.note_answered_wait(f"seed-{minutes_ago}", AnsweredWait(at - minutes_ago * 60_000, waited_s * 1000,
                                                                         places=1, agents=1), "general")
    second = await world_caller.start("12345", "13500135031", script="wait:30")
    record = await wait_for_step(stack, await second.answered(), "expected_wait", timeout=45)
    said = next(s for s in record.steps if s["step"] == "position")["detail"]
    assert said == {"ahead": 1, "prompt": "queue_position_1"}
    told = next(s for s in record.steps if s["step"] == "expected_wait")["detail"]
    # 2 places × 240 s per place (the mean of the last half hour) ÷ 1 (nobody ready now: the window's staffing)
    assert told == {"seconds": 480, "prompt": "queue_wait_8"}, told
    await live.delete("acd:answered:general")
    await first.hangup()
    await only_ready(stack, "8001")  # the music and announcements end when the agent's bridge takes the caller
    answered = await wait_for_step(stack, await second.answered(), "agent")
    assert answered.agent == "8001"
    [sample] = await acd.answered_waits("general")  # the real answer is the next callers' history
    waited = (datetime.fromisoformat(next(s["at"] for s in answered.steps if s["step"] == "agent"))
              - datetime.fromisoformat(next(s["at"] for s in answered.steps if s["step"] == "queued")))
    assert (sample.places, sample.agents) == (2, 1) and abs(sample.waited_ms / 1000 - waited.total_seconds()) < 3
    await live.aclose()
    await second.hangup()
    assert "position" not in steps((await first.outcome()).record)  # nobody was ahead of the first caller
    await second.outcome()


def queued_skill(record: CallView) -> str:
    return str(next(s["detail"] for s in record.steps if s["step"] == "queued")["skill"])


async def test_a_numbers_menu_picks_the_skill_and_never_strands_the_caller(stack: Stack,
                                                                          world_caller: WorldCaller) -> None:
    await only_ready(stack)  # callers stay queued so the route can be read
    picked = await world_caller.start("12329", "13500135040", script="wait:4/dtmf:2/wait:20")
    record = await wait_for_step(stack, await picked.answered(), "queued", timeout=20)
    assert queued_skill(record) == "general" and any(
        s["step"] == "menu_key" and s["detail"]["valid"] for s in record.steps), record.steps
    garbage = await world_caller.start("12329", "13500135041", script="wait:4/dtmf:9/wait:3/dtmf:#*#/wait:25")
    record = await wait_for_step(stack, await garbage.answered(), "queued", timeout=30)
    assert queued_skill(record) == "housing_fund", "wrong keys twice: the number's own skill"
    assert [s["detail"]["valid"] for s in record.steps if s["step"] == "menu_key"][-1] is False
    silent = await world_caller.start("12329", "13500135042", script="wait:25")
    record = await wait_for_step(stack, await silent.answered(), "queued", timeout=30)
    assert queued_skill(record) == "housing_fund"
    assert [s["detail"] for s in record.steps if s["step"] == "menu_key"] == [{"key": None, "valid": False}]
    gone = await world_caller.start("12329", "13500135043", script="wait:5/hangup")
    outcome = await gone.outcome()
    assert outcome.record is not None and outcome.record.ended_at is not None, "a hang-up in the menu is recorded"
    for call in (picked, garbage, silent):
        with contextlib.suppress(AmiError):  # the caller may have hung up already
            await call.hangup()
        await call.outcome()


async def test_over_capacity_a_caller_leaves_a_voice_message_and_a_person_calls_back(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.acd is not None and stack.revisits is not None
    await only_ready(stack, "8001")
    await stack.acd.set_agent_state("8003", "signed_out")  # nobody with social security signs in
    outcome = await world_caller.call("12333", "13500135050",
                                      script="wait:6/dtmf:1/wait:5/say:demo-thanks/dtmf:#/wait:6")
    record = outcome.record
    assert record is not None and record.outcome == "voice_message", record
    walked = steps(record)
    assert walked.index("queued") < walked.index("message_offer") < walked.index("message_left"), walked
    assert next(s["detail"] for s in record.steps if s["step"] == "message_offer") == {"reason": "nobody_signed_in"}
    tasks = await stack.revisits.listing()
    assert [(t["reason"], t["mode"], t["number"]) for t in tasks if t["call_id"] == record.call_id] == [
        ("voice_message", "human", "13500135050")]
    stored = await stored_recording(stack, record.call_id, timeout=30)
    assert stored["status"] == "stored"
    call = await stack.calls.get(record.call_id)  # type: ignore[union-attr]
    assert call is not None and len(call.recordings) == 2, "the call and the message, each stored"
    assert (await stack.acd.waiting()) == [], "the caller left the queue"
    await stack.acd.set_agent_state("8003", "ready")
