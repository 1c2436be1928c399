"""People calling citizens back, on real Asterisk (issue 16): a waiting caller books a callback from the queue
announcement; an agent claims it (a second agent's claim is 409; every desk's live feed hears of it), dials
it: the world's agent phone answers first, then the citizen, who sees the centre's display number; the call
has its record (mode callback, the agent) and its recording; the agent is busy meanwhile and paused again
after wrap-up; outcome reached; a ticket is written for the callback call's id. No answer and busy put the
item back with a due time; a number the hotline may not dial is refused before anything rings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml

from callback.requests import CallbackRequests
from hotline.app.settings import Settings
from hotline.app.stack import Stack
from hotline.core.asterisk.ami import AmiMessage
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, wait_for_step
from tests.e2e.test_caller_measures import live_feed
from tests.e2e.test_first_call import stored_recording
from tests.e2e.test_tickets import consultation, eventually, submitted

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
CITIZEN = "13800138301"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    plan = yaml.safe_load(Settings().core.dialplan_file.read_text(encoding="utf-8"))
    plan["queue"]["announce_every"] = 3  # the self-service offer every 3 s instead of 30
    (home / "hotline.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    async with running_stack(stack_settings(home, dialplan_file=home / "hotline.yaml")) as s:
        yield s


async def tokens(stack: Stack) -> dict[str, str]:
    assert stack.tokens is not None
    return {"8001": await stack.tokens.create(name="cb-8001", role="agent", agent_id="8001"),
            "8002": await stack.tokens.create(name="cb-8002", role="agent", agent_id="8002"),
            "sup": await stack.tokens.create(name="cb-sup", role="supervisor")}


async def world(stack: Stack, name: str, value: str) -> None:
    assert stack.world_ami is not None
    await stack.world_ami.action("Setvar", {"Variable": name, "Value": value})


@contextlib.contextmanager
def world_events(stack: Stack, name: str) -> Any:
    """The world's user events called `name`, as they come."""
    assert stack.world_ami is not None
    seen: list[AmiMessage] = []
    sub = stack.world_ami.subscribe("UserEvent", lambda e: seen.append(e) if e.get("UserEvent") == name else None)
    try:
        yield seen
    finally:
        sub.cancel()


async def item_of(stack: Stack, token: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        status, body = await api(stack, "GET", "/api/callbacks", token)
        assert status == 200, body
        return next((i for i in body["callbacks"] if check(i)), None)  # type: ignore[index]
    return await eventually(found, what="the callback item")


async def attempt_ended(stack: Stack, token: str, item: int, call_id: str) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        status, body = await api(stack, "GET", f"/api/callbacks/{item}", token)
        assert status == 200, body
        attempt = next(a for a in body["attempt_list"] if a["call_id"] == call_id)  # type: ignore[index]
        return attempt if attempt["ended_at"] else None
    return await eventually(ended, timeout=60, what=f"the end of callback call {call_id}")


async def agent_state(stack: Stack, agent: str) -> str:
    assert stack.acd is not None
    return (await stack.acd.agents())[agent]["state"]


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    await eventually(lambda: _true_or_none(check), timeout=timeout, what=what)


async def _true_or_none(check: Callable[[], Awaitable[bool]]) -> bool | None:
    return True if await check() else None


@pytest.mark.timeout(240)
async def test_an_agent_claims_a_callback_request_dials_it_and_reaches_the_citizen(
        stack: Stack, world_caller: WorldCaller) -> None:
    who = await tokens(stack)
    await only_ready(stack)  # nobody free: the caller waits and is offered self-service
    waiting = await world_caller.start("12345", CITIZEN, script="wait:60")
    sip = await waiting.answered()
    await wait_for_step(stack, sip, "self_service_offer", timeout=20)
    async with live_feed(stack, who["8002"]) as feed:
        await waiting.press("2")  # a callback instead of waiting
        booked = (await waiting.outcome()).record
        assert booked is not None and booked.outcome == "callback_requested", booked
        item = await item_of(stack, who["8001"], lambda i: i["call"] and i["call"]["call_id"] == booked.call_id)
        assert (item["kind"], item["number"], item["status"], item["call"]["dialled"]) == (
            "callback_request", CITIZEN, "open", "12345")
        assert item["call"]["waited_s"] is not None and item["has_message"] is False
        one = f"/api/callbacks/{item['id']}"

        status, claimed = await api(stack, "POST", one + "/claim", who["8001"])
        assert status == 200 and claimed["claimed_by"] == "8001", claimed  # type: ignore[index]
        status, refused = await api(stack, "POST", one + "/claim", who["8002"])
        assert status == 409 and refused["error"]["id"] == "already_claimed", refused  # type: ignore[index]
        status, refused = await api(stack, "POST", one + "/dial", who["8002"])
        assert status == 409 and refused["error"]["id"] == "not_claimed", refused  # type: ignore[index]
        status, _ = await api(stack, "GET", one + "/message", who["8001"])
        assert status == 404, "a callback request has no voice message"

        await world(stack, f"WORLD_PETITIONER_{CITIZEN}", "script:say:demo-thanks/wait:4")  # answers, speaks
        with world_events(stack, "WorldPetitionerCalled") as rung:
            status, dialling = await api(stack, "POST", one + "/dial", who["8001"])
            assert status == 202, dialling
            call_id = str(dialling["call_id"])  # type: ignore[index]
            await until(lambda: _on_call(stack, "8001"), "agent 8001 busy on the callback")
            attempt = await attempt_ended(stack, who["8001"], item["id"], call_id)
        assert attempt["dial_status"] == "ANSWER", attempt
        assert [(e.get("Number"), e.get("CallerId")) for e in rung] == [(CITIZEN, "12345")], \
            "the citizen's phone showed the centre's display number"
        await until(lambda: _is(stack, "8001", "paused"), "agent 8001 back to their pause after wrap-up")

        assert stack.calls is not None
        record = await stack.calls.get(call_id)
        assert record is not None
        assert (record.route["mode"], record.agent, record.caller) == ("callback", "8001", CITIZEN)
        assert record.to_json()["direction"] == "outbound"
        walked = [s["step"] for s in record.steps]
        assert walked[:4] == ["agent", "callback", "agent_answered", "citizen_answered"], walked
        assert record.ended_at is not None
        stored = await stored_recording(stack, call_id, timeout=60)
        assert stored["channels"] == 2 and stored["duration_s"] > 3, stored
        heard = stored["analysis"]
        assert heard["caller_speech_s"] > 0.5 and heard["heard_speech_s"] > 1, "both sides: citizen left, agent right"

        status, said = await api(stack, "POST", one + "/outcome", who["8001"], {"outcome": "reached", "note": "已答复"})
        assert status == 200 and said["status"] == "done" and said["call_id"] == call_id, said  # type: ignore[index]
        ticket = await submitted(stack, who["8001"], consultation(call_id))  # a ticket like an inbound call's
        assert ticket["calls"] == [call_id], ticket
        status, history = await api(stack, "GET", "/api/calls?agent=8001", who["8001"])
        assert status == 200 and call_id in str(history), "the callback is in the agent's call history"

        await asyncio.sleep(0.5)
        events = [(e["event"], e.get("claimed_by")) for e in feed if str(e.get("event", "")).startswith("callback_")]
    assert events[:3] == [("callback_new", None), ("callback_claimed", "8001"), ("callback_calling", "8001")], events
    assert ("callback_outcome", "8001") in events, events
    status, stats = await api(stack, "GET", "/api/acd/stats", who["sup"])
    assert status == 200 and stats["callbacks"]["callback_request"]["reached"] >= 1, stats  # type: ignore[index]
    assert stats["callbacks"]["all"]["success_rate"] == 1.0, stats  # type: ignore[index]


async def _on_call(stack: Stack, agent: str) -> bool:
    return await agent_state(stack, agent) == "on_call"


async def _is(stack: Stack, agent: str, state: str) -> bool:
    return await agent_state(stack, agent) == state


@pytest.mark.timeout(180)
async def test_no_answer_and_busy_put_the_item_back_with_a_due_time_and_odd_numbers_are_refused(
        stack: Stack) -> None:
    who = await tokens(stack)
    requests = stack.services.get(CallbackRequests)
    for number in ("13800138302", "00442071234567"):
        await requests.request_callback(f"seed-{number}", number)
    quiet = await item_of(stack, who["8002"], lambda i: i["number"] == "13800138302")
    one = f"/api/callbacks/{quiet['id']}"
    await only_ready(stack)

    await world(stack, "WORLD_PETITIONER_13800138302", "busy")
    assert (await api(stack, "POST", one + "/claim", who["8002"]))[0] == 200
    status, dialling = await api(stack, "POST", one + "/dial", who["8002"])
    assert status == 202, dialling
    attempt = await attempt_ended(stack, who["8002"], quiet["id"], str(dialling["call_id"]))  # type: ignore[index]
    assert attempt["dial_status"] == "BUSY", attempt
    status, refused = await api(stack, "POST", one + "/outcome", who["8002"], {"outcome": "reached"})
    assert status == 409 and refused["error"]["id"] == "no_call", "nobody answered that call"  # type: ignore[index]
    status, said = await api(stack, "POST", one + "/outcome", who["8002"], {"outcome": "busy"})
    assert status == 200 and said["status"] == "retry", said  # type: ignore[index]
    due = datetime.fromisoformat(said["due_at"])  # type: ignore[index]
    assert timedelta(minutes=9) < due - datetime.now(UTC) <= timedelta(minutes=10)

    await until(lambda: _is(stack, "8002", "paused"), "agent 8002 free again")
    await world(stack, "WORLD_PETITIONER_13800138302", "noanswer")
    await world(stack, "WORLD_TALK_8002", "8")  # the agent gives up after 8 s of ringing
    assert (await api(stack, "POST", one + "/claim", who["8002"]))[0] == 200
    status, dialling = await api(stack, "POST", one + "/dial", who["8002"])
    assert status == 202, dialling
    attempt = await attempt_ended(stack, who["8002"], quiet["id"], str(dialling["call_id"]))  # type: ignore[index]
    assert attempt["dial_status"] in ("CANCEL", "NOANSWER"), attempt
    status, said = await api(stack, "POST", one + "/outcome", who["8002"], {"outcome": "no_answer"})
    assert status == 200 and (said["status"], said["attempts"]) == ("retry", 2), said  # type: ignore[index]
    listed = await item_of(stack, who["8001"], lambda i: i["id"] == quiet["id"])
    assert (listed["status"], listed["claimed_by"], listed["due_at"]) == ("open", None, said["due_at"])  # type: ignore[index]
    await world(stack, "WORLD_TALK_8002", "")

    odd = await item_of(stack, who["8002"], lambda i: i["number"] == "00442071234567")
    await until(lambda: _is(stack, "8002", "paused"), "agent 8002 free again")
    assert (await api(stack, "POST", f"/api/callbacks/{odd['id']}/claim", who["8002"]))[0] == 200
    status, refused = await api(stack, "POST", f"/api/callbacks/{odd['id']}/dial", who["8002"])
    assert status == 403 and refused["error"]["id"] == "number_not_allowed", refused  # type: ignore[index]
    assert await agent_state(stack, "8002") == "paused", "nothing rang; the agent is as they were"


@pytest.mark.timeout(180)
async def test_a_voice_message_is_heard_by_its_claimer_and_an_absent_agent_keeps_the_item(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.acd is not None
    who = await tokens(stack)
    await only_ready(stack, "8001")
    await stack.acd.set_agent_state("8003", "signed_out")  # nobody with social security: over capacity
    left = await world_caller.call("12333", "13500135060", script="wait:6/dtmf:1/wait:5/say:demo-thanks/dtmf:#/wait:6")
    await stack.acd.set_agent_state("8003", "paused", reason="test")
    record = left.record
    assert record is not None and record.outcome == "voice_message", record
    item = await item_of(stack, who["8002"], lambda i: i["call"] and i["call"]["call_id"] == record.call_id)
    assert (item["kind"], item["has_message"]) == ("voice_message", True)
    one = f"/api/callbacks/{item['id']}"
    assert (await api(stack, "POST", one + "/claim", who["8002"]))[0] == 200
    async with aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
        async with http.get(base + one + "/message", headers={"Authorization": f"Bearer {who['8002']}"}) as r:
            audio = await r.read()
            assert r.status == 200 and r.content_type in ("audio/wav", "audio/ogg"), (r.status, audio[:200])
        async with http.get(base + one + "/message", headers={"Authorization": f"Bearer {who['8001']}"}) as r:
            assert r.status == 403, "only the claimer (and supervisors) hear it"
    assert len(audio) > 4000 and audio[:4] in (b"RIFF", b"OggS")

    await world(stack, "WORLD_AWAY_8002", "1")  # the agent's phone rings out
    status, dialling = await api(stack, "POST", one + "/dial", who["8002"])
    assert status == 202, dialling
    attempt = await attempt_ended(stack, who["8002"], item["id"], str(dialling["call_id"]))  # type: ignore[index]
    await world(stack, "WORLD_AWAY_8002", "")
    assert attempt["dial_status"].startswith("AGENT_"), attempt
    status, again = await api(stack, "GET", one, who["8002"])
    assert (again["status"], again["claimed_by"], again["attempts"]) == ("claimed", "8002", 0), again  # type: ignore[index]
    await until(lambda: _is(stack, "8002", "paused"), "agent 8002 as before")
