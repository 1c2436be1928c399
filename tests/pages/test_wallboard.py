"""实时监控 in a real browser on the real stack: a team supervisor signs in and opens /wallboard/; a real caller
from the simulated world dials 12345 with nobody ready and the board shows them waiting within a second of the
ACD's `queued` event (the delay printed); 监听 from the board rings a supervisors' phone into an agent's call and
it hears the conversation; an agent of another team is neither on the board nor in GET
/api/wallboard; 强制示忙 from the board pauses the agent; the 大屏 mode hides the bar. Screenshots of both modes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from acd.scripts import EVENTS
from acd.store import AcdStore
from hotline.app.stack import Stack
from hotline.core.audio.speech import detect_speech
from hotline.core.redis_client import redis_client
from tests.browser import chromium, screenshot
from tests.e2e.conftest import only_ready, running_stack, stack_settings, wait_for_step, world_caller
from tests.pages.desk_steps import NEW_PASSWORD, person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
TEST = "wallboard"
_ = world_caller  # the fixture, used by name


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def board(stack: Stack) -> AsyncIterator[Page]:
    """The 一组 supervisor's wallboard, signed in."""
    password = await person(stack, "banzhang", "王班长", role="supervisor", team="一组")
    async with chromium() as browser:
        page = await browser.new_page(locale="zh-CN", viewport={"width": 1600, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, f"http://127.0.0.1:{stack.settings.core.ports.http}", "banzhang", password,
                      change_to=NEW_PASSWORD, at="/wallboard/")
        await expect(page.locator("[data-test=feed]")).to_have_text("实时")
        yield page
        assert errors == []


async def queued_event(stack: Stack, started: asyncio.Event) -> dict[str, Any]:
    """The ACD's next `queued` event, as Redis publishes it."""
    client = redis_client(stack.redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(EVENTS)
    try:
        started.set()
        async for message in pubsub.listen():
            if message.get("type") == "message" and (event := json.loads(message["data"]))["event"] == "queued":
                return dict(event)
        raise AssertionError("the feed ended")
    finally:
        await pubsub.aclose()
        await client.aclose()


async def test_a_new_waiting_caller_shows_because_the_live_feed_said_so(stack: Stack, board: Page,
                                                                       world_caller: Any) -> None:
    await only_ready(stack)  # nobody ready: the caller waits
    main = board.locator("[data-test=line-12345]")
    await expect(main.locator("[data-test=waiting]")).to_have_text("0")
    await screenshot(board, TEST, "01-quiet")
    listening = asyncio.Event()
    watch = asyncio.create_task(queued_event(stack, listening))
    await listening.wait()
    call = await world_caller.start("12345", "13800138123", script="wait:40")
    try:
        event = await asyncio.wait_for(watch, 30)
        await expect(main.locator("[data-test=waiting]")).to_have_text("1", timeout=5000)
        # The 5-s refresh may happen to draw the caller first; the feed's read (queued behind it) must draw them too.
        pushed = ("(at) => window.hlWallboard.draws.find((d) => d.cause === 'event' && d.asked >= at"
                  " && (d.lines['12345'] || 0) >= 1)")
        await board.wait_for_function(pushed, arg=event["at_ms"], timeout=5000)
        shown = await board.evaluate(pushed, event["at_ms"])
        print(f"\nqueued event in Redis → waiting caller on the wallboard: {shown['at'] - event['at_ms']} ms")
        await expect(board.locator("[data-test=total-waiting] b")).to_have_text("1")
        await screenshot(board, TEST, "02-caller-waiting")
    finally:
        await call.hangup()
    await expect(main.locator("[data-test=waiting]")).to_have_text("0", timeout=5000)


async def test_a_team_supervisor_sees_only_their_team(stack: Stack, board: Page) -> None:
    grid = board.locator("[data-test=agents]")
    await expect(grid.locator("[data-test=agent-8001]")).to_be_visible()
    await expect(grid.locator("[data-test=agent-8002]")).to_be_visible()
    await expect(grid.locator("[data-test=agent-8003]")).to_have_count(0)  # 二组's
    got = await board.evaluate("fetch('/api/wallboard').then((r) => r.json())")
    assert {a["agent"] for a in got["agents"]} == {"8001", "8002"}
    assert all(a["team"] == "一组" for a in got["agents"])
    assert not any(a["subject"] == "agent:8003" for a in got["alerts"])
    assert got["lines"][0]["line"] == "12345" and "12345" in {r["line"] for r in got["lines"]}


async def test_listening_in_from_the_board(stack: Stack, board: Page, world_caller: Any) -> None:
    """The supervisor picks a supervisors' phone (kept in the browser), opens 8001's menu, 监听: that phone rings into
    the call (the world plays it and records what it hears: the conversation)."""
    assert stack.world_ami is not None and stack.data is not None
    await only_ready(stack, "8001")
    talk = "wait:3/say:demo-thanks/say:vm-intro/say:demo-thanks/wait:2"  # the citizen speaks; the agent echoes
    call = await world_caller.start("12345", "13600136077", script=talk)
    await wait_for_step(stack, await call.answered(), "agent")
    card = board.locator("[data-test=agent-8001]")
    await expect(card).to_have_attribute("data-state", "on_call")
    await expect(card).to_contain_text("候 00:")  # the caller's wait before the answer
    heard = f"{stack.data.inner_of('heard')}/spy-{uuid.uuid4().hex}.wav"
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_SPY_HEARD", "Value": heard})
    await board.locator("[data-test=spy-phone]").click()
    await board.locator(".el-select-dropdown__item:visible").filter(has_text="9001").click()
    assert await board.evaluate("localStorage.getItem('hotline.wallboard.phone')") == "9001"
    await card.locator("[data-test=actions-8001]").click()
    await board.locator(".el-dropdown-menu__item:visible").filter(has_text="监听").click()
    await board.get_by_role("button", name="监听").click()
    await expect(board.get_by_text("话机 9001 正在振铃")).to_be_visible()
    await screenshot(board, TEST, "03-listening")
    await call.outcome()
    path = stack.data.host(heard)
    for _ in range(50):  # the recording closes when the spied call ends
        if path.exists() and path.stat().st_size > 16000:
            break
        await asyncio.sleep(0.1)
    assert detect_speech(path).has_speech  # the supervisor heard the conversation


async def test_force_pause_from_the_board(stack: Stack, board: Page) -> None:
    store = stack.service(AcdStore)
    await only_ready(stack, "8002")
    card = board.locator("[data-test=agent-8002]")
    await expect(card).to_have_attribute("data-state", "ready")
    await card.locator("[data-test=actions-8002]").click()
    await board.locator(".el-dropdown-menu__item:visible").filter(has_text="强制示忙").click()
    await board.get_by_role("button", name="强制示忙").click()
    await expect(card).to_have_attribute("data-state", "paused")
    agent = await store.agent("8002")
    assert (agent["state"], agent["reason"]) == ("paused", "班长示忙")
    await expect(card).to_contain_text("班长示忙")
    await screenshot(board, TEST, "04-forced-pause")


async def test_the_wall_mode(board: Page) -> None:
    await board.locator("[data-test=wall]").click()
    await expect(board.locator(".hl-console-bar")).to_be_hidden()
    await expect(board.locator("[data-test=wall]")).to_have_text("退出大屏")
    await board.wait_for_timeout(300)  # the charts' resize
    await screenshot(board, TEST, "05-wall")
    await board.locator("[data-test=wall]").click()
    await expect(board.locator(".hl-console-bar")).to_be_visible()
