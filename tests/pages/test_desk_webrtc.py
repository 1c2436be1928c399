"""The desk with its softphone in the page, on the real stack: agent 陈静 (8005, `phone: webrtc`) signs in, the
page phone registers, she goes ready; a citizen's call from the simulated world rings in the page with the caller
on screen; she answers with 接听: the citizen hears her speech (webrtcvad on the citizen's side) and the page gets
the citizen's audio (WebRTC stats); mute and the keypad work from the header; she hangs up, wrap-up counts down
and 延长 adds time. Screenshots of each step go to var/artefacts/."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from hotline.app.stack import Stack
from hotline.core.audio.speech import speech_in_growing_wav
from hotline.core.netutil import free_port
from integration.world.call import WorldCaller
from tests.browser import chromium, screenshot
from tests.e2e.conftest import only_ready, running_stack, stack_settings
from tests.pages.desk_steps import NEW_PASSWORD, person, sign_in

pytestmark = [pytest.mark.asterisk, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
phone = pytest.importorskip("tests.pages.test_phone", reason="the softphone in the page (hotline.app.phone)")
AGENT, CITIZEN_SAYS = phone.AGENT, phone.CITIZEN_SAYS
CITIZEN = "13800138505"
TEST = "desk-webrtc"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    settings = stack_settings(home, dialplan_file=phone.webrtc_dialplan(home))
    settings = replace(settings, acd=replace(settings.acd, wrap_up_s=20.0, ring_timeout_s=20.0))
    async with running_stack(settings) as s:
        yield s


async def inbound(page: Page) -> dict[str, float]:
    return dict(await page.evaluate("() => window.hotlineDesk.phone.inboundAudio()") or {})


async def test_a_call_rings_in_the_page_and_the_agent_answers_it_there(stack: Stack, world_caller: WorldCaller,
                                                                       tmp_path: Path) -> None:
    assert stack.acd is not None and stack.data is not None
    password = await person(stack, "chenjing", "陈静", agent_id=AGENT, team="一组")
    await only_ready(stack)
    async with chromium(microphone_wav=phone.speech_wav(tmp_path)) as browser:
        page = await browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
        await sign_in(page, f"http://127.0.0.1:{stack.settings.core.ports.http}", "chenjing", password,
                      change_to=NEW_PASSWORD)
        await expect(page.locator("[data-test=phone-state]")).to_contain_text("已注册", timeout=20_000)
        await page.click("[data-test=ready]")
        await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：就绪")
        await screenshot(page, TEST, "01-registered-ready")

        citizen = await world_caller.start("12345", CITIZEN, script=CITIZEN_SAYS)
        await expect(page.locator("[data-test=ringing]")).to_contain_text("网页话机振铃中", timeout=30_000)
        await expect(page.locator("[data-test=pop-number]")).to_have_text(CITIZEN)
        await screenshot(page, TEST, "02-ringing-in-the-page")
        heard = stack.data.host(citizen.heard_inner)
        before = await asyncio.to_thread(speech_in_growing_wav, heard)
        clicked = time.monotonic()
        await page.click("[data-test=answer]")
        while not (await inbound(page)).get("packetsReceived"):
            assert time.monotonic() - clicked < 10, "no audio from the citizen within 10 s of the answer"
            await asyncio.sleep(0.02)
        answer_to_audio_ms = (time.monotonic() - clicked) * 1000
        await expect(page.locator("[data-test=call-state]")).to_have_text("通话中")
        await expect(page.locator("[data-test=phone-state]")).to_contain_text("通话中")
        first = await inbound(page)
        await asyncio.sleep(6)
        later = await inbound(page)
        after = await asyncio.to_thread(speech_in_growing_wav, heard)
        await screenshot(page, TEST, "03-talking")
        print(f"answer → first citizen audio: {answer_to_audio_ms:.0f} ms; citizen heard {before}→{after} s")
        assert after - before >= 1.5, "the citizen hears the agent's speech"
        assert later["packetsReceived"] - first["packetsReceived"] >= 200, "50 packets a second from the citizen"
        assert later["totalAudioEnergy"] > first["totalAudioEnergy"], "and they carry sound"

        await page.click("[data-test=mute]")
        await expect(page.locator("[data-test=mute]")).to_have_text("取消静音")
        await page.click("[data-test=mute]")
        await expect(page.locator("[data-test=mute]")).to_have_text("静音")

        await page.click("[data-test=hangup]")
        await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：话后处理", timeout=10_000)
        await expect(page.locator("[data-test=wrap-left]")).not_to_have_text("剩余 0 秒")
        left = int((await page.locator("[data-test=wrap-left]").inner_text()).split()[1])
        await page.click("[data-test=extend]")
        # the countdown ticks on while the request runs: wait for the extended figure, not just a change
        shown = "(n) => Number(document.querySelector('[data-test=wrap-left]').innerText.split(' ')[1]) > n"
        await page.wait_for_function(shown, arg=left + 30, timeout=10_000)
        await screenshot(page, TEST, "04-wrap-up-extended")
        await citizen.outcome()


SIPP_CITIZEN = "13800138777"
SCENARIO = Path(__file__).parent / "data" / "sipp_citizen.xml"


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp comes from scripts/setup-system.sh")
async def test_a_citizen_on_an_outside_sip_client_rings_in_the_page(stack: Stack, tmp_path: Path) -> None:
    """SIPp, a SIP client no one here wrote, calls 12345 without registering and speaks; the call rings in the
    agent's page with the caller on screen, she answers there and the page gets the citizen's audio; when the
    citizen hangs up the page goes to wrap-up."""
    password = await person(stack, "chenjing", "陈静", agent_id=AGENT, team="一组")
    await only_ready(stack)
    callers = tmp_path / "callers.csv"
    callers.write_text(f"SEQUENTIAL\n{SIPP_CITIZEN};\n")
    async with chromium(microphone_wav=phone.speech_wav(tmp_path)) as browser:
        page = await browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
        await sign_in(page, f"http://127.0.0.1:{stack.settings.core.ports.http}", "chenjing", password,
                      change_to=NEW_PASSWORD)
        await expect(page.locator("[data-test=phone-state]")).to_contain_text("已注册", timeout=20_000)
        await page.click("[data-test=ready]")
        await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：就绪")
        sipp = await asyncio.create_subprocess_exec(
            "sipp", "-sf", str(SCENARIO), "-inf", str(callers), "-s", "12345",
            f"127.0.0.1:{stack.settings.core.ports.hotline_sip}", "-i", "127.0.0.1", "-p", str(free_port()),
            "-mp", str(free_port()), "-m", "1", "-l", "1", "-timeout", "90s", "-nostdin",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            await expect(page.locator("[data-test=ringing]")).to_contain_text("网页话机振铃中", timeout=40_000)
            await expect(page.locator("[data-test=pop-number]")).to_have_text(SIPP_CITIZEN)
            await screenshot(page, "desk-sipp", "01-ringing-from-sipp")
            await page.click("[data-test=answer]")
            await expect(page.locator("[data-test=call-state]")).to_have_text("通话中", timeout=10_000)
            first = await inbound(page)
            await asyncio.sleep(5)
            later = await inbound(page)
            await screenshot(page, "desk-sipp", "02-talking")
            assert later["packetsReceived"] - first["packetsReceived"] >= 150, "the citizen's RTP reaches the page"
            assert later["totalAudioEnergy"] > first["totalAudioEnergy"], "and it carries sound"
            out, _ = await asyncio.wait_for(sipp.communicate(), 80)
        finally:
            if sipp.returncode is None:
                sipp.kill()
                await sipp.wait()
        assert sipp.returncode == 0, out.decode(errors="replace")[-2000:]
        await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：话后处理", timeout=15_000)
        await screenshot(page, "desk-sipp", "03-citizen-hung-up")
