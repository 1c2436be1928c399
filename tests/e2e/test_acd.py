"""The ACD's first slice on real parts: queue in Redis, offer to an agent's phone, missed offers."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from hotline.core.audio.speech import detect_speech
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, only_ready, routing_steps, running_stack, stack_settings, steps, wait_for_step
from tests.e2e.test_first_call import stored_recording
from tests.e2e.test_tickets import consultation

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s



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
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_AWAY_8001", "Value": ""})  # back at the desk
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


async def test_the_live_feed_and_service_level_follow_a_real_call(stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None
    sup = await stack.tokens.create(name="feed", role="supervisor")
    other_agent = await stack.tokens.create(name="a4", role="agent", agent_id="8004")
    await only_ready(stack, "8002")
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    async with aiohttp.ClientSession() as http:
        sup_ws = await http.ws_connect(f"{base}/api/acd/events", headers={"Authorization": f"Bearer {sup}"})
        agent_ws = await http.ws_connect(f"{base}/api/acd/events", headers={"Authorization": f"Bearer {other_agent}"})
        async with http.get(f"{base}/api/acd/stats", headers={"Authorization": f"Bearer {sup}"}) as r:
            before = (await r.json())["connection_24h"]
        outcome = await world_caller.call("12345", "13600136009", listen_s=8)
        assert outcome.record is not None and outcome.record.agent == "8002"
        seen: list[dict[str, object]] = []
        while not any(e["event"] == "ended" and e.get("call") == outcome.call_id for e in seen):
            seen.append(await sup_ws.receive_json(timeout=10))
        mine = [e for e in seen if e.get("call") == outcome.call_id]
        assert [e["event"] for e in mine] == ["queued", "offered", "connected", "ended"], mine
        assert mine[2]["agent"] == "8002" and 0 <= int(mine[2]["waited_ms"]) < 15_000  # type: ignore[call-overload]
        assert any(e["event"] == "agent" and e["agent"] == "8002" and e["state"] == "on_call" for e in seen)
        with pytest.raises(TimeoutError):  # 8004's agent sees nothing of 8002's call
            await agent_ws.receive_json(timeout=1)
        await sup_ws.close()
        await agent_ws.close()
        async with http.get(f"{base}/api/acd/stats", headers={"Authorization": f"Bearer {sup}"}) as r:
            body = await r.json()
            general, after = body["skills"]["general"], body["connection_24h"]
        async with http.get(f"{base}/metrics") as r:
            assert "hotline_connection_rate_24h " in await r.text()
        async with http.get(f"{base}/api/acd/stats", headers={"Authorization": f"Bearer {other_agent}"}) as r:
            assert r.status == 403
    assert general["answered"] >= 1 and general["answered_15s"] >= 1 and 0 < general["sl_15s"] <= 1
    assert general["offered"] >= general["answered"]
    # R-ACC-3: the answered call counts in the 24-hour connection rate, asked and answered
    assert after["answered"] >= before["answered"] + 1 and after["asked"] >= before["asked"] + 1, (before, after)
    assert after["rate"] == round(after["answered"] / after["asked"], 4) and after["target"] == 0.95


async def test_a_supervisor_listens_in_on_their_own_phone(stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.world_ami is not None and stack.data is not None
    sup = await stack.tokens.create(name="zhao", role="supervisor")
    agent = await stack.tokens.create(name="a1", role="agent", agent_id="8001")
    await only_ready(stack, "8001")
    talk = "wait:4/say:demo-thanks/say:vm-intro/say:demo-thanks/wait:2"  # the citizen speaks; the agent echoes
    call = await world_caller.start("12345", "13600136010", script=talk)
    await wait_for_step(stack, await call.answered(), "agent")
    heard = f"{stack.data.inner_of('heard')}/spy-{uuid.uuid4().hex}.wav"
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_SPY_HEARD", "Value": heard})
    body = {"mode": "listen", "phone": "9001"}
    assert (await api(stack, "POST", "/api/agents/8001/spy", agent, body))[0] == 403
    assert (await api(stack, "POST", "/api/agents/8002/spy", sup, body))[0] == 409  # 8002 is not on a call
    assert (await api(stack, "POST", "/api/agents/8001/spy", sup, {"mode": "shout", "phone": "9001"}))[0] == 400
    for phone in ("8002", "13600136011"):  # an agent's phone, any number: only the dialplan's supervisors ring
        assert (await api(stack, "POST", "/api/agents/8001/spy", sup, {"mode": "listen", "phone": phone}))[0] == 422
    assert (await api(stack, "POST", "/api/agents/8001/spy", sup, body))[0] == 202
    outcome = await call.outcome()
    assert outcome.record is not None and outcome.record.agent == "8001"
    path = stack.data.host(heard)
    for _ in range(50):  # the recording closes when the spied call ends
        if path.exists() and path.stat().st_size > 16000:
            break
        await asyncio.sleep(0.1)
    assert detect_speech(path).has_speech  # the supervisor heard the conversation


async def test_an_agent_transfers_the_caller_blind_to_the_tax_sub_centre(stack: Stack,
                                                                          world_caller: WorldCaller) -> None:
    assert stack.tokens is not None
    mine = await stack.tokens.create(name="a1t", role="agent", agent_id="8001")
    other = await stack.tokens.create(name="a2t", role="agent", agent_id="8002")
    await only_ready(stack, "8001", "8004")  # 8004 takes only tax calls
    call = await world_caller.start("12345", "13600136012", script="wait:25")
    sip = await call.answered()
    record = await wait_for_step(stack, sip, "agent")
    assert record.agent == "8001"
    path = f"/api/calls/{record.call_id}/transfer"
    assert (await api(stack, "POST", path, other, {"skill": "tax"}))[0] == 403
    assert (await api(stack, "POST", path, mine, {"skill": "no_such"}))[0] == 400
    assert (await api(stack, "POST", path, mine, {"skill": "tax"}))[0] == 200
    for _ in range(100):
        record = (await stack.calls.list(sip_call_id=sip, limit=1))[0]  # type: ignore[union-attr]
        if record.agent == "8004":
            break
        await asyncio.sleep(0.1)
    assert record.agent == "8004", record
    assert routing_steps(record)[-3:] == ["agent", "transferred", "agent"]
    transferred = next(s for s in record.steps if s["step"] == "transferred")
    assert transferred["detail"] == {"from_agent": "8001", "to_skill": "tax"}
    await wait_for_agent(stack, "8001", "ready")  # the first agent was freed at once
    await call.hangup()
    await call.outcome()


async def test_one_key_linkage_transfer_puts_the_caller_through_to_110(stack: Stack,
                                                                       world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.world_ami is not None
    mine = await stack.tokens.create(name="a1l", role="agent", agent_id="8001")
    await only_ready(stack, "8001")
    answered_110: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    def on_event(event: Any) -> None:
        if event.get("UserEvent") == "WorldLinkageAnswered" and not answered_110.done():
            answered_110.set_result(dict(event))

    sub = stack.world_ami.subscribe("UserEvent", on_event)
    call = await world_caller.start("12345", "13600136013", script="wait:20")
    sip = await call.answered()
    record = await wait_for_step(stack, sip, "agent")
    path = f"/api/calls/{record.call_id}/transfer"
    assert (await api(stack, "POST", path, mine, {"linkage": "999"}))[0] == 400
    assert (await api(stack, "POST", path, mine, {"linkage": "110"}))[0] == 200
    police = await asyncio.wait_for(answered_110, 15)
    sub.cancel()
    assert police["Number"] == "110" and police["Caller"] == "13600136013"  # the police see the citizen's number
    linkage = (await wait_for_step(stack, sip, "linkage")).steps[-1]
    assert linkage["detail"] == {"from_agent": "8001", "number": "110"}
    await wait_for_agent(stack, "8001", "ready")
    await call.hangup()
    await call.outcome()


async def test_a_linkage_number_that_is_busy_sends_the_caller_back_to_the_queue(stack: Stack,
                                                                                world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.world_ami is not None
    mine = await stack.tokens.create(name="a1b", role="agent", agent_id="8001")
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_LINKAGE_DOWN_119", "Value": "1"})
    await only_ready(stack, "8001", "8002")
    call = await world_caller.start("12345", "13600136014", script="wait:25")
    sip = await call.answered()
    record = await wait_for_step(stack, sip, "agent")
    assert (await api(stack, "POST", f"/api/calls/{record.call_id}/transfer", mine, {"linkage": "119"}))[0] == 200
    back = await wait_for_step(stack, sip, "requeued", timeout=20)
    requeued = next(s for s in back.steps if s["step"] == "requeued")["detail"]
    assert requeued["skill"] == "general" and "119" in requeued["reason"] and "BUSY" in requeued["reason"]
    for _ in range(100):  # served again by an agent: never dropped
        back = (await stack.calls.list(sip_call_id=sip, limit=1))[0]  # type: ignore[union-attr]
        if [s["step"] for s in back.steps].count("agent") == 2:
            break
        await asyncio.sleep(0.1)
    assert routing_steps(back)[-4:] == ["agent", "linkage", "requeued", "agent"], back.steps
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_LINKAGE_DOWN_119", "Value": ""})
    await call.hangup()
    await call.outcome()


async def test_a_three_way_call_with_an_expert_goes_on_after_the_agent_drops_out(
        stack: Stack, world_caller: WorldCaller) -> None:
    """IVR → agent → expert joins → agent drops out → the expert hangs up → the caller rates; the one
    recording holds it all, linked to the call and its ticket, heard by a supervisor, not by another team."""
    assert stack.tokens is not None and stack.world_ami is not None and stack.acd is not None
    mine = await stack.tokens.create(name="a1w", role="agent", agent_id="8001")
    await only_ready(stack, "8001")
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8003", "Value": "8"})  # the expert, then gone
    call = await world_caller.start("12345", "13600136016", script="wait:60")
    sip = await call.answered()
    record = await wait_for_step(stack, sip, "agent")
    assert record.agent == "8001"
    path = f"/api/calls/{record.call_id}/three-way"
    assert (await api(stack, "POST", path, mine, {"agent": "8003"}))[0] == 409  # the expert is not ready
    assert (await api(stack, "POST", path, mine, {"agent": "8003", "number": "12366"}))[0] == 400
    assert (await api(stack, "POST", f"/api/calls/{record.call_id}/leave", mine))[0] == 409  # nobody to leave to
    await stack.acd.set_agent_state("8003", "ready")
    status, started = await api(stack, "POST", path, mine, {"agent": "8003"})
    assert status == 202 and started == {"call_id": record.call_id, "third": "8003", "status": "ringing"}
    await wait_for_step(stack, sip, "three_way")
    assert (await stack.acd.agents())["8003"]["state"] == "on_call", "the expert is not offered other callers"
    status, left = await api(stack, "POST", f"/api/calls/{record.call_id}/leave", mine)
    assert status == 200 and left == {"call_id": record.call_id, "agent_left": "8001"}
    await wait_for_agent(stack, "8001", "ready")  # the agent is free again (after wrap-up)
    during = (await stack.calls.list(sip_call_id=sip, limit=1))[0]  # type: ignore[union-attr]
    assert during.ended_at is None, "the citizen is still talking with the expert"
    await wait_for_step(stack, sip, "rating_prompt", timeout=30)  # the expert hung up: the caller rates
    await call.press("1")
    outcome = await call.outcome()
    assert outcome.record is not None
    done = outcome.record
    assert done.agent == "8001" and done.rating == 1, done
    assert [s for s in routing_steps(done) if s in {"agent", "three_way", "agent_left", "three_way_left"}] == [
        "agent", "three_way", "agent_left", "three_way_left"]
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8003", "Value": ""})
    await wait_for_agent(stack, "8003", "ready")

    # The recording: one file for the whole call, linked to its ticket, compact and verified.
    status, ticket = await api(stack, "POST", "/api/tickets", mine, consultation(done.call_id))
    assert status == 201, ticket
    stored = await stored_recording(stack, done.call_id)
    assert stored["format"] == "opus" and stored["channels"] == 2
    assert stored["duration_s"] > 15 and stored["size_bytes"] < stored["duration_s"] * 2000
    sup = await stack.tokens.create(name="sup-1", role="supervisor", group="一组")  # 8001's team
    other = await stack.tokens.create(name="sup-2", role="supervisor", group="二组")
    status, found = await api(stack, "GET", f"/api/recordings?ticket={ticket['number']}", sup)  # type: ignore[index]
    assert status == 200 and [r["id"] for r in found["recordings"]] == [stored["id"]]  # type: ignore[index]
    async with aiohttp.ClientSession() as http:
        audio = f"http://127.0.0.1:{stack.settings.core.ports.http}/api/recordings/{stored['id']}/audio"
        async with http.get(audio, headers={"Authorization": f"Bearer {sup}"}) as r:
            body = await r.read()
            assert r.status == 200 and hashlib.sha256(body).hexdigest() == stored["sha256"]
        async with http.get(audio, headers={"Authorization": f"Bearer {other}"}) as r:
            assert r.status == 403


async def test_an_agent_extends_their_wrap_up_and_is_offered_calls_after_it(stack: Stack,
                                                                            world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.world_ami is not None
    mine = await stack.tokens.create(name="a1u", role="agent", agent_id="8001")
    other = await stack.tokens.create(name="a2u", role="agent", agent_id="8002")
    path = "/api/agents/8001/wrap-up"
    assert (await api(stack, "POST", path, mine, {"extend_s": 30}))[0] == 409  # not in wrap-up yet
    await only_ready(stack, "8001")
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": "2"})
    call = await world_caller.start("12345", "13600136031", script="wait:15")
    await wait_for_step(stack, await call.answered(), "agent")
    await wait_for_agent(stack, "8001", "wrap_up")  # the agent hung up: one second of wrap-up by default
    assert (await api(stack, "POST", path, other, {"extend_s": 30}))[0] == 403
    assert (await api(stack, "POST", path, mine, {"extend_s": 0}))[0] == 400
    status, extended = await api(stack, "POST", path, mine, {"extend_s": 4})
    assert status == 200 and 3 < extended["left_s"] <= 5, extended  # type: ignore[index]
    await asyncio.sleep(2.5)
    assert (await stack.acd.agents())["8001"]["state"] == "wrap_up", "still writing up"  # type: ignore[union-attr]
    await wait_for_agent(stack, "8001", "ready", timeout=8)
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": ""})
    await call.outcome()


async def test_a_department_outside_joins_a_three_way_call_through_the_carrier(stack: Stack,
                                                                             world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.world_ami is not None
    mine = await stack.tokens.create(name="a1d", role="agent", agent_id="8001")
    await only_ready(stack, "8001")
    department = "02512366001"  # a department's desk outside: answers, talks 8 s, hangs up
    await stack.world_ami.action("Setvar", {"Variable": f"WORLD_PETITIONER_{department}", "Value": "script:wait:8"})
    call = await world_caller.start("12345", "13600136041", script="wait:40")
    sip = await call.answered()
    record = await wait_for_step(stack, sip, "agent")
    status, _ = await api(stack, "POST", f"/api/calls/{record.call_id}/three-way", mine, {"number": department})
    assert status == 202
    joined = await wait_for_step(stack, sip, "three_way", timeout=20)
    detail = next(s["detail"] for s in joined.steps if s["step"] == "three_way")
    assert detail == {"from_agent": "8001", "with": department, "seat": "outside"}
    assert (await api(stack, "POST", f"/api/calls/{record.call_id}/leave", mine))[0] == 200
    await wait_for_step(stack, sip, "rating_prompt", timeout=30)  # the department hung up: the caller rates
    await call.hangup()
    done = (await call.outcome()).record
    assert done is not None and "three_way_left" in routing_steps(done)


async def test_a_consult_transfer_puts_the_caller_on_hold_then_hands_them_to_the_expert(
        stack: Stack, world_caller: WorldCaller) -> None:
    """Attended transfer: the agent consults an expert with the caller on hold, goes back once (cancel),
    consults again and hands the caller over; the expert hangs up and the caller rates."""
    assert stack.tokens is not None and stack.world_ami is not None and stack.acd is not None
    mine = await stack.tokens.create(name="a1c", role="agent", agent_id="8001")
    await only_ready(stack, "8001", "8003")
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8003", "Value": "10"})
    call = await world_caller.start("12345", "13600136040", script="wait:90", timeout_s=150)
    sip = await call.answered()
    record = await wait_for_step(stack, sip, "agent")
    assert record.agent == "8001"
    path = f"/api/calls/{record.call_id}/consult"
    assert (await api(stack, "POST", f"{path}/complete", mine))[0] == 409  # nothing to complete yet
    assert (await api(stack, "POST", path, mine, {"agent": "8001"}))[0] == 400

    status, started = await api(stack, "POST", path, mine, {"agent": "8003"})
    assert status == 202 and started == {"call_id": record.call_id, "consult": "8003", "status": "ringing"}, started
    await wait_for_step(stack, sip, "consult_answered")
    assert (await stack.acd.agents())["8003"]["state"] == "on_call"
    assert (await api(stack, "POST", f"{path}/cancel", mine))[0] == 200  # back to the caller
    await wait_for_step(stack, sip, "consult_ended")
    await wait_for_agent(stack, "8003", "ready")  # after a short wrap-up: they talked
    assert (await stack.acd.agents())["8001"]["state"] == "on_call", "the agent is back with the caller"

    assert (await api(stack, "POST", path, mine, {"agent": "8003"}))[0] == 202
    for _ in range(100):  # the second consultation is answered too
        if steps(await wait_for_step(stack, sip, "consult_answered")).count("consult_answered") == 2:
            break
        await asyncio.sleep(0.2)
    status, done = await api(stack, "POST", f"{path}/complete", mine)
    assert status == 200 and done == {"call_id": record.call_id, "transferred_to": "8003"}
    await wait_for_agent(stack, "8001", "ready")  # the agent's part is over (after wrap-up)
    during = (await stack.calls.list(sip_call_id=sip, limit=1))[0]  # type: ignore[union-attr]
    assert during.ended_at is None, "the citizen is talking with the expert"
    assert (await stack.acd.call_agent(record.call_id)) == "8003"
    await wait_for_step(stack, sip, "rating_prompt", timeout=40)  # the expert hung up: the caller rates
    await call.press("2")
    outcome = await call.outcome()
    assert outcome.record is not None and outcome.record.rating == 2, outcome.record
    assert [s for s in routing_steps(outcome.record) if s.startswith("consult") or s == "agent"] == [
        "agent", "consult", "consult_answered", "consult_cancelled", "consult_ended",
        "consult", "consult_answered", "consult_completed"]
    # R-REC-1: one recording holds the whole call, the hold, both agents and the rating (MixMonitor on the caller)
    stored = await stored_recording(stack, outcome.record.call_id, timeout=40)
    assert outcome.record.answered_at is not None and outcome.record.ended_at is not None
    whole = (outcome.record.ended_at - outcome.record.answered_at).total_seconds()
    assert len(outcome.record.recordings) == 1 and abs(stored["duration_s"] - whole) < 3, (stored, whole)
    assert stored["analysis"]["heard_speech_s"] > 10, stored["analysis"]  # the agent, the expert, the prompts
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8003", "Value": ""})
    await wait_for_agent(stack, "8003", "ready")


async def test_an_agent_changes_state_with_feature_codes_on_the_softphone(stack: Stack,
                                                                         world_caller: WorldCaller) -> None:
    """*21 ready, *22 pause, *24 more wrap-up (refused outside wrap-up): the phone authenticates as the agent,
    and a short prompt confirms each change."""
    assert stack.acd is not None
    await only_ready(stack)  # everybody paused

    async def dial(code: str) -> None:
        call = await world_caller.start(code, "8003", script="wait:4", via="phone-8003", timeout_s=30)
        outcome = await call.outcome()
        assert outcome.answered and outcome.speech is not None and outcome.speech.has_speech, outcome

    await dial("*21")
    assert (await stack.acd.agents())["8003"]["state"] == "ready"
    await dial("*22")
    paused = (await stack.acd.agents())["8003"]
    assert paused["state"] == "paused" and paused["reason"] == "phone feature code"
    await dial("*24")  # not in wrap-up: told so, nothing changes
    assert (await stack.acd.agents())["8003"]["state"] == "paused"
    assert stack.tokens is not None
    sup = await stack.tokens.create(name="sup-codes", role="supervisor")
    assert (await api(stack, "POST", "/api/agents/7777/state", sup, {"state": "ready"}))[0] == 404  # unknown agent
    assert (await api(stack, "POST", "/api/agents/8003/state", sup, {"state": "dancing"}))[0] == 400
    assert (await api(stack, "POST", "/api/calls/nope/consult", sup, {"agent": "8003"}))[0] == 409  # no such call


async def test_a_supervisor_whispers_to_the_agent_alone_and_barges_in_for_both(stack: Stack,
                                                                              world_caller: WorldCaller) -> None:
    """The supervisor speaks in both calls; the citizen hears it only when the supervisor barges in."""
    assert stack.tokens is not None and stack.world_ami is not None
    sup = await stack.tokens.create(name="qian", role="supervisor")
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": "14"})  # the agent is quiet
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_SPY_SAY", "Value": "vm-intro"})
    heard: dict[str, float] = {}
    for n, mode in enumerate(("whisper", "barge")):
        await only_ready(stack, "8001")
        call = await world_caller.start("12345", f"1360013605{n}", script="wait:30", timeout_s=60)
        await wait_for_step(stack, await call.answered(), "agent")
        await asyncio.sleep(3)  # the agent's greeting is over
        assert (await api(stack, "POST", "/api/agents/8001/spy", sup, {"mode": mode, "phone": "9001"}))[0] == 202
        outcome = await call.outcome()
        assert outcome.speech is not None and outcome.record is not None and outcome.record.agent == "8001"
        heard[mode] = outcome.speech.speech_s
        await wait_for_agent(stack, "8001", "ready")
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_SPY_SAY", "Value": ""})
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": ""})
    assert heard["barge"] >= heard["whisper"] + 2.0, heard  # the supervisor's words reached the citizen only then
