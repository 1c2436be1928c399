"""The screen pop on the real stack: a watched, elderly repeat caller rings 12329, keys 2 in its menu and is
offered to agent 8001; the pop, fetched the moment the offer reaches 8001's live feed, shows the number, the
merged line, the key, the wait, the flags with the recorded-line warning and the earlier call with its agent;
agent 8002's feed shows nothing of it and the pop route refuses them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from hotline.app.stack import Stack
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, wait_for_step

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
CITIZEN = "13700137021"
TALK_S = 8  # how long agent 8001 talks with the first caller while the second waits


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def offered(ws: aiohttp.ClientWebSocketResponse, timeout: float = 40) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        event = await ws.receive_json(timeout=max(0.1, deadline - time.monotonic()))
        if event["event"] == "offered":
            return dict(event)


async def events_within(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> list[dict[str, Any]]:
    """What the socket brings in the next `seconds`."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            seen.append(await ws.receive_json(timeout=left))
        except TimeoutError:
            break
    return seen


async def test_the_pop_reaches_only_the_offered_agent_with_everything_on_it(stack: Stack,
                                                                           world_caller: WorldCaller) -> None:
    assert stack.tokens is not None
    sup = await stack.tokens.create(name="sup", role="supervisor")
    for kind in ("watch", "elderly"):
        assert (await api(stack, "POST", "/api/caller-lists", sup, {"number": CITIZEN, "kind": kind}))[0] == 201
    await only_ready(stack, "8002")
    earlier = await world_caller.call("12345", CITIZEN, listen_s=20)
    assert earlier.record is not None
    assert earlier.record.agent == "8002", (earlier.record.outcome, earlier.record.steps)
    mine = await stack.tokens.create(name="wang", role="agent", agent_id="8001")
    other = await stack.tokens.create(name="li", role="agent", agent_id="8002")
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    async with aiohttp.ClientSession() as http:
        feed = await http.ws_connect(f"{base}/api/acd/events", headers={"Authorization": f"Bearer {mine}"})
        others = await http.ws_connect(f"{base}/api/acd/events", headers={"Authorization": f"Bearer {other}"})
        await only_ready(stack, "8001")
        call = await world_caller.start("12329", CITIZEN, script="wait:4/dtmf:2/wait:25")
        offer = await offered(feed)
        async with http.get(f"{base}/api/desk/pop/{offer['call']}", headers={"Authorization": f"Bearer {mine}"}) as r:
            pop = await r.json()
            assert r.status == 200, pop
        async with http.get(f"{base}/api/desk/pop/{offer['call']}", headers={"Authorization": f"Bearer {other}"}) as r:
            assert r.status == 403
        seen = await events_within(others, 1.0)
        assert all(e.get("call") != offer["call"] and e.get("agent") in (None, "8002") for e in seen), seen
        await feed.close()
        await others.close()
    await call.outcome()
    assert pop["caller"] == CITIZEN and pop["agent"] == "8001" and pop["state"] in ("offered", "connected")
    assert pop["line"]["number"] == "12329" and pop["line"]["mode"] == "dual"
    assert [k["key"] for k in pop["keys"]] == ["2"] and pop["route"]["skill"] == "general"
    assert pop["waited_ms"] is not None and 0 <= pop["waited_ms"] < 15_000
    kinds = {f["kind"] for f in pop["flags"]["labels"]}
    assert {"watch", "elderly", "repeat_caller"} <= kinds, kinds
    assert pop["flags"]["watch"] and "录音" in pop["flags"]["warning"]
    assert [(c["call_id"], c["agent"], c["agent_name"]) for c in pop["history"]] == \
        [(earlier.record.call_id, "8002", "李强")]


async def test_a_caller_queued_while_the_agent_talks_is_shown_the_whole_wait(stack: Stack,
                                                                             world_caller: WorldCaller) -> None:
    """Agent 8001 talks with a first caller (and hangs up after TALK_S); a second caller queues meanwhile. When the
    second is offered, the offer and the pop show the time they really waited, and so does the pop once
    answered (the wait ends at the answer): never 0."""
    assert stack.tokens is not None and stack.world_ami is not None
    mine = await stack.tokens.create(name="wang-waits", role="agent", agent_id="8001")
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    headers = {"Authorization": f"Bearer {mine}"}
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": str(TALK_S)})
    try:
        async with aiohttp.ClientSession() as http:
            feed = await http.ws_connect(f"{base}/api/acd/events", headers=headers)
            await only_ready(stack, "8001")
            first = await world_caller.start("12345", "13700137031", script=f"wait:{TALK_S + 20}")
            talking_first = await offered(feed)
            assert talking_first["call"] == (await wait_for_step(stack, await first.answered(), "queued")).call_id
            second = await world_caller.start("12345", "13700137032", script=f"wait:{TALK_S + 30}")
            queued = await wait_for_step(stack, await second.answered(), "queued")
            since = time.monotonic()
            offer = await offered(feed, timeout=TALK_S + 20)
            waited_ms = (time.monotonic() - since) * 1000
            async with http.get(f"{base}/api/desk/pop/{offer['call']}", headers=headers) as r:
                ringing = await r.json()
                assert r.status == 200, ringing
            answered = await wait_for_step(stack, queued.sip_call_id or "", "agent")
            async with http.get(f"{base}/api/desk/pop/{offer['call']}", headers=headers) as r:
                talking = await r.json()
            await feed.close()
        await second.hangup()
        await first.outcome()
    finally:
        await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": ""})
    print(f"\nwaited {waited_ms:.0f} ms; shown: offer {offer['waited_ms']}, ringing {ringing['waited_ms']} "
          f"({ringing['state']}), talking {talking['waited_ms']} ({talking['state']})")
    assert offer["call"] == queued.call_id and answered.agent == "8001"
    assert waited_ms > 3000, "the second caller waited behind the first"
    for shown in (offer["waited_ms"], ringing["waited_ms"], talking["waited_ms"]):
        assert shown is not None and shown >= waited_ms - 1000, (shown, waited_ms, offer, ringing["state"])
