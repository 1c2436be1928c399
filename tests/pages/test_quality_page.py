"""录音质检 in a real browser on the real stack: a citizen's call from the simulated world is answered by agent 8001,
who hangs up after a few words; the citizen keys 5 (非常不满意). Once the recording worker has stored and analysed
the two-channel recording, team 一组's supervisor opens /quality/, finds the call flagged 短通话 and 差评, plays it
(the audio element and the AudioContext advance, the waveform's cursor moves, each channel alone can be chosen;
the playback is in the audit log), scores it on the sheet and comments. Agent 8001 then signs in and sees the
score read-only under 我的质检 and replies; team 二组's supervisor does not see the call at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from hotline.app.stack import Stack
from hotline.core.web.models import AuditEntry
from integration.world.call import WorldCaller
from tests.browser import chromium, screenshot
from tests.e2e.conftest import only_ready, running_stack, stack_settings, wait_for_step
from tests.e2e.test_first_call import stored_recording
from tests.pages.desk_steps import NEW_PASSWORD, field, person, pick_option, sign_in

pytestmark = [pytest.mark.asterisk, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
CITIZEN = "13800138123"
TEST = "quality_page"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def short_badly_rated_call(stack: Stack, world_caller: WorldCaller) -> tuple[str, dict[str, Any]]:
    """A real call: 8001 answers, says a few words and hangs up; the citizen keys the worst rating. Its call id
    and stored, analysed recording."""
    assert stack.world_ami is not None and stack.calls is not None
    await only_ready(stack, "8001")
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": "2"})
    try:
        call = await world_caller.start("12345", CITIZEN, script="wait:60")
        sip = await call.answered()
        await wait_for_step(stack, sip, "rating_prompt", timeout=40)
        await call.press("5")
        outcome = await call.outcome()
    finally:
        await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": ""})
    record = outcome.record
    assert record is not None and record.agent == "8001" and record.rating == 5, record
    stored = await stored_recording(stack, record.call_id, timeout=40)
    assert stored["channels"] == 2 and stored["analysis"] is not None, stored
    return record.call_id, stored


async def opened(browser: Browser, stack: Stack, username: str, name: str, **who: Any) -> Page:
    password = await person(stack, username, name, **who)
    page = await browser.new_page(locale="zh-CN", viewport={"width": 1500, "height": 1000})
    page.on("pageerror", lambda exc: print("page error:", exc))
    await sign_in(page, f"http://127.0.0.1:{stack.settings.core.ports.http}", username, password,
                  change_to=NEW_PASSWORD, at="/quality/")
    return page


async def playbacks(stack: Stack, recording_id: int, actor: str) -> list[AuditEntry]:
    assert stack.sessions is not None
    async with stack.sessions() as s:
        return list((await s.scalars(select(AuditEntry).where(
            AuditEntry.resource == f"recordings/{recording_id}", AuditEntry.actor == actor,
            AuditEntry.action == "recordings.listen"))).all())


async def test_a_supervisor_reviews_plays_and_scores_a_flagged_call_and_the_agent_sees_it(
        stack: Stack, world_caller: WorldCaller) -> None:
    call_id, stored = await short_badly_rated_call(stack, world_caller)
    async with chromium() as browser:
        page = await opened(browser, stack, "zhijian.yizu", "周质检", role="supervisor", team="一组")
        await expect(page.locator("[data-test=title]")).to_have_text("录音质检")
        row = page.locator("[data-test=calls] .el-table__row").filter(has_text=CITIZEN)
        await expect(row).to_contain_text("短通话")
        await expect(row).to_contain_text("差评")
        await expect(row).to_contain_text("非常不满意")
        await expect(row.locator(".el-tag").first).to_be_visible()
        await screenshot(page, TEST, "01-flagged")

        # the player: the stored recording streamed with range requests, through Web Audio's channel splitter
        await row.click()
        review = page.locator("[data-test=review]")
        await expect(review.locator("[data-test=waveform] img")).to_be_visible()
        assert await review.locator("[data-test=waveform] img").evaluate("(img) => img.naturalWidth") > 0
        await review.locator("[data-test=play]").click()
        await page.wait_for_function("document.querySelector('[data-test=audio]').currentTime > 1.0",
                                     timeout=15_000)
        assert await page.evaluate("window.hotlineQualityAudio.currentTime") > 0.5, "the AudioContext runs"
        await review.locator("[data-test=channels] label").filter(has_text="仅市民").click()
        cursor = await review.locator("[data-test=cursor]").evaluate("(c) => parseFloat(c.style.left)")
        assert cursor > 0, "the cursor follows the playback"
        await screenshot(page, TEST, "02-playing")
        await review.locator("[data-test=play]").click()  # pause
        assert (await playbacks(stack, stored["id"], "zhijian.yizu")), "the page's playback is audited"

        # the score sheet: every item at full points, then the closing (no rating invitation) marked down
        await expect(review.locator("[data-test=total]")).to_contain_text("100")
        closing = review.locator("[data-test=points-closing] input")
        await closing.fill("2")
        await closing.blur()
        await expect(review.locator("[data-test=total]")).to_contain_text("92")
        await page.locator(field("[data-test=review]", "score-comment")).fill("坐席未邀请评价即挂机")
        await review.locator("[data-test=save-score]").click()
        await expect(review.locator("[data-test=scored-by]")).to_contain_text("92 / 100")
        await expect(row).to_contain_text("92")
        await page.locator(field("[data-test=review]", "comment-text")).fill("通话过短，请注意结束语")
        await review.locator("[data-test=send-comment]").click()
        await expect(review.locator("[data-test=comments]")).to_contain_text("周质检（班长）")
        await expect(review.locator("[data-test=comments]")).to_contain_text("通话过短，请注意结束语")
        await screenshot(page, TEST, "03-scored")
        await pick_option(page, "scored", "未评")  # the filters: scored calls leave the 未评 list
        await page.locator("[data-test=search]").click()
        await expect(page.locator("[data-test=calls]")).to_contain_text("没有符合条件的通话")
        await pick_option(page, "scored", "已评")
        await pick_option(page, "flag", "差评")
        await page.locator("[data-test=search]").click()
        await expect(row).to_contain_text("92")

        # the agent: their own calls and score, read-only; they may reply
        mine = await opened(browser, stack, "agent.8001", "王芳", role="agent", agent_id="8001", team="一组")
        await expect(mine.locator("[data-test=title]")).to_have_text("我的质检")
        assert await mine.locator("[data-test=agent]").count() == 0, "no choosing other agents"
        await expect(mine.locator("[data-test=summary]")).to_contain_text("平均 92")
        own = mine.locator("[data-test=calls] .el-table__row").filter(has_text=CITIZEN)
        await own.click()
        sheet = mine.locator("[data-test=review] [data-test=sheet]")
        await expect(sheet.locator("[data-test=scored-by]")).to_contain_text("92 / 100，周质检")
        assert await sheet.locator("[data-test=points-closing] input").is_disabled()
        assert await sheet.locator("[data-test=save-score]").count() == 0
        await mine.locator(field("[data-test=review]", "comment-text")).fill("收到，下次注意")
        await mine.locator("[data-test=send-comment]").click()
        await expect(mine.locator("[data-test=comments]")).to_contain_text("收到，下次注意")
        await screenshot(mine, TEST, "04-agent-read-only")

        # another team's supervisor: not in their list, and the API refuses the call
        other = await opened(browser, stack, "zhijian.erzu", "吴班长", role="supervisor", team="二组")
        await expect(other.locator("[data-test=calls]")).to_contain_text("没有符合条件的通话")
        status = await other.evaluate("(id) => fetch('/api/quality/calls/' + id).then((r) => r.status)", call_id)
        assert status == 403
        await screenshot(other, TEST, "05-other-team")
