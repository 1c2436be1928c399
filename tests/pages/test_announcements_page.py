"""热点播报 in a real browser on the real stack: a supervisor publishes an announcement for 12345 in the page and
the next real caller dialling 12345 hears it right after the greeting (the call's path has the `announcement`
step, and webrtcvad on the caller's side hears about its length more speech before the queue than a caller
before it); a caller of 12319 does not; ending it in the page stops it for the next call; a recording made in
the page with Chromium's fake microphone is uploaded and played to the next caller. An agent is refused (403)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect
from pydub import AudioSegment

from hotline.app.stack import Stack
from hotline.core.audio.speech import FRAME_S, speech_frames
from integration.world.call import CallOutcome, WorldCaller
from ivr.announcements.service import Announcements
from tests.browser import chromium, screenshot
from tests.e2e.conftest import only_ready, running_stack, stack_settings
from tests.pages.desk_steps import NEW_PASSWORD, person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
TEST = "announcements_page"
WATER = "因管道抢修，今天九点到十七点，东城区和平里街道部分小区停水，请提前储水。"
SPOKEN = "各位市民，明天上午八点起，人民路封闭施工，请绕行。"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def microphone(stack: Stack, folder: Path) -> Path:
    """What Chromium's fake microphone plays (in a loop): Chinese speech, 48 kHz 16-bit, then a short pause."""
    spoken = await stack.service(Announcements).audio.synthesise(SPOKEN)
    with stack.service(Announcements).audio.file(spoken.name).open("rb") as synthesised:
        voice = AudioSegment.from_wav(synthesised)
    wav = folder / "microphone.wav"
    (voice + AudioSegment.silent(400)).set_frame_rate(48000).set_channels(1).set_sample_width(2) \
        .export(wav, format="wav").close()
    return wav


def before_queue(outcome: CallOutcome) -> tuple[float, float]:
    """(Seconds from answer to the queue, seconds of speech the caller heard in them), from the call's path and
    webrtcvad on the caller's side."""
    assert outcome.record is not None and outcome.record.answered_at is not None, outcome
    queued = next(s for s in outcome.record.steps if s["step"] == "queued")
    offset = (datetime.fromisoformat(queued["at"]) - outcome.record.answered_at).total_seconds()
    frames = speech_frames(outcome.heard_audio)[:int(offset / FRAME_S)]
    return offset, sum(frames) * FRAME_S


def announced(outcome: CallOutcome) -> list[dict[str, object]]:
    assert outcome.record is not None
    return [s["detail"] for s in outcome.record.steps if s["step"] == "announcement"]


async def end_in_page(page: Page, announcement_id: int) -> None:
    await page.locator(f"[data-test=end-{announcement_id}]").click()
    await expect(page.locator(".el-message-box")).to_contain_text("下一通来电起不再播放")
    await screenshot(page, TEST, f"end-{announcement_id}-confirm")
    await page.locator(".el-message-box__btns").get_by_role("button", name="结束播报").click()
    await expect(page.locator(f"[data-test=row-{announcement_id}]")).to_have_count(0)


async def test_an_announcement_published_in_the_page_is_heard_by_the_next_caller(
        stack: Stack, world_caller: WorldCaller, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    service = stack.service(Announcements)
    await only_ready(stack)  # nobody answers: each caller waits in the queue after the greeting
    first = await world_caller.call("12345", "13800010001", script="wait:8")
    assert first.answered and announced(first) == [], first.to_json()["path"]
    plain_s, plain_speech = before_queue(first)

    supervisor = await person(stack, "zhou.banzhang", "周班长", role="supervisor", team="一组")
    agent = await person(stack, "li.zuoxi", "李坐席", agent_id="8001", team="一组")
    async with chromium(microphone_wav=await microphone(stack, tmp_path)) as browser:
        context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                            viewport={"width": 1440, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, base, "zhou.banzhang", supervisor, change_to=NEW_PASSWORD, at="/announcements/")
        await expect(page.locator("[data-test=nav-announcements]")).to_have_class("active")
        await expect(page.locator("[data-test=line-12319]")).to_contain_text("市城市管理局")
        await screenshot(page, TEST, "01-empty")

        await page.locator("[data-test=title] input, input[data-test=title]").first.fill("和平里停水")
        await page.locator("[data-test=text] textarea, textarea[data-test=text]").first.fill(WATER)
        await page.locator("[data-test=line-12345]").click()
        await expect(page.locator("[data-test=publish-form]")).to_contain_text(f"{len(WATER)} / 300")
        await page.locator("[data-test=window] .el-date-editor").click()
        shortcuts = page.locator(".el-picker-panel__shortcut:visible")
        await expect(shortcuts).to_have_text(["今天", "3天", "7天"])
        await screenshot(page, TEST, "02-hours")
        await shortcuts.filter(has_text="今天").click()
        await page.keyboard.press("Escape")
        await page.locator("[data-test=preview]").click()  # the words, synthesised, before publishing
        await expect(page.locator("[data-test=player]")).to_have_attribute("src", re.compile(r"^blob:"))
        await screenshot(page, TEST, "02-form")
        await page.locator("[data-test=publish]").click()
        current = page.locator("[data-test=current]")
        await expect(current).to_contain_text("和平里停水")
        await expect(current).to_contain_text("播报中")
        await expect(current).to_contain_text("zhou.banzhang")
        water = (await service.listing("playing"))[0]
        assert (water["lines"], water["audio"], water["created_by"]) == (["12345"], "synthesised", "zhou.banzhang")
        await screenshot(page, TEST, "03-published")
        await page.locator(f"[data-test=listen-{water['id']}]").click()  # what callers hear, with the cookie
        await page.wait_for_function("document.querySelector('[data-test=player]').readyState >= 1")
        duration = await page.evaluate("document.querySelector('[data-test=player]').duration")
        assert duration == pytest.approx(water["seconds"], abs=0.2)

        heard = await world_caller.call("12345", "13800010002", script=f"wait:{int(plain_s + water['seconds']) + 4}")
        path = heard.to_json()["path"]
        assert [a["id"] for a in announced(heard)] == [water["id"]], path
        steps = [s["step"] for s in heard.record.steps]  # type: ignore[union-attr]
        assert steps.index("greeting") < steps.index("announcement") < steps.index("queued"), path
        told_s, told_speech = before_queue(heard)
        # before the queue: at least the announcement's length (how much longer than the plain call depends on
        # the load on each call's greeting), and its speech heard in that time
        assert told_s > water["seconds"], (path, told_s, plain_s, water)
        assert told_speech - plain_speech >= 0.6 * water["seconds"], (told_speech, plain_speech, water)

        other = await world_caller.call("12319", "13800010003", script="wait:8")
        assert other.answered and announced(other) == [], other.to_json()["path"]

        await end_in_page(page, water["id"])
        await page.get_by_role("tab", name="历史记录").click()
        history = page.locator("[data-test=history]")
        await expect(history).to_contain_text("已结束")
        await screenshot(page, TEST, "04-ended-history")
        after = await world_caller.call("12345", "13800010004", script="wait:8")
        assert after.answered and announced(after) == [], after.to_json()["path"]

        await page.get_by_role("tab", name=" 当前播报").click()
        await page.locator("textarea[data-test=text], [data-test=text] textarea").first.fill(SPOKEN)
        await page.locator("[data-test=line-12345]").click()
        await page.locator("[data-test=record]").click()
        await expect(page.locator("[data-test=rec-seconds]")).to_contain_text("录音中")
        await page.wait_for_timeout(4000)
        await screenshot(page, TEST, "05-recording")
        await page.locator("[data-test=stop]").click()
        await expect(page.locator("[data-test=rec-playback]")).to_be_visible()
        await screenshot(page, TEST, "06-recorded")
        await page.locator("[data-test=publish]").click()
        await expect(current).to_contain_text("录音")
        spoken = (await service.listing("playing"))[0]
        assert spoken["audio"] == "recorded" and spoken["seconds"] == pytest.approx(4.0, abs=1.0), spoken
        await screenshot(page, TEST, "07-recording-published")
        recorded = await world_caller.call("12345", "13800010005",
                                           script=f"wait:{int(plain_s + spoken['seconds']) + 4}")
        path = recorded.to_json()["path"]
        assert [(a["id"], a["audio"]) for a in announced(recorded)] == [(spoken["id"], "recorded")], path
        rec_s, rec_speech = before_queue(recorded)
        assert rec_s > spoken["seconds"], (path, rec_s, plain_s, spoken)
        assert rec_speech - plain_speech >= 0.4 * spoken["seconds"], (rec_speech, plain_speech, spoken)
        assert errors == []

        agents = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 720})
        desk = await agents.new_page()
        await sign_in(desk, base, "li.zuoxi", agent, change_to=NEW_PASSWORD, at="/announcements/")
        await expect(desk.locator("[data-test=refused]")).to_contain_text("无权使用热点播报")
        await expect(desk.locator("[data-test=nav-announcements]")).to_have_count(0)
        for url in ("/api/announcements", f"/api/announcements/{spoken['id']}/audio"):
            assert (await desk.request.get(base + url)).status == 403
        refused = await desk.request.post(f"{base}/api/announcements/{spoken['id']}/end",
                                          headers={"X-CSRF-Token": await desk.evaluate(
                                              "sessionStorage.getItem('hotline.csrf')")})
        assert refused.status == 403 and (await refused.json())["error"]["id"] == "forbidden"
        assert (await service.listing("playing"))[0]["id"] == spoken["id"]  # still playing
        await screenshot(desk, TEST, "08-agent-refused")
