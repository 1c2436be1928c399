"""The desk in a real browser on the real stack: agent 王芳 (8001) signs in with a one-time password and sets her
own, goes ready, a citizen's call from the simulated world is offered to her (her phone is played by the world
and answers), the page shows the caller (number, line, flags, earlier call with its rating), she writes two
tickets for the call (one checked and refused first, one kept across a reload), submits both (time limits shown)
and transfers the caller to the social-security experts, where 张敏 (8003) answers. Agent 李强's desk, open all
along, sees nothing of it and the pop route refuses him. Wrong passwords lock an account; a supervisor's
account is told the desk is for agents. Screenshots of each step go to var/artefacts/.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect
from sqlalchemy import select

from hotline.app.stack import Stack
from integration.world.call import WorldCaller
from tests.browser import chromium, screenshot
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, wait_for_step
from tests.pages.desk_steps import NEW_PASSWORD, field, fill_ticket, person, pick_option, sign_in, submitted
from tickets.models import Ticket, TicketCall

pytestmark = [pytest.mark.asterisk, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
CITIZEN = "13800138066"
TEST = "desk"
TALK_S = 8  # how long 王芳 talks with a first caller while a second one queues


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


def base(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.core.ports.http}"


async def agent_state(stack: Stack, agent: str, state: str, timeout: float = 15) -> None:
    assert stack.acd is not None
    for _ in range(int(timeout * 10)):
        if (await stack.acd.agents())[agent]["state"] == state:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"agent {agent} is not {state}: {(await stack.acd.agents())[agent]}")


async def pop_status(page: Page, call_id: str) -> int:
    """What the pop route answers this page's session for a call."""
    return int(await page.evaluate("(id) => fetch('/api/desk/pop/' + id).then((r) => r.status)", call_id))


async def test_an_agent_takes_a_call_writes_two_tickets_and_transfers_it_to_an_expert(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.sessions is not None
    sup = await stack.tokens.create(name="sup", role="supervisor")
    assert (await api(stack, "POST", "/api/caller-lists", sup, {"number": CITIZEN, "kind": "vip"}))[0] == 201
    await only_ready(stack, "8002")
    earlier = await world_caller.call("12345", CITIZEN, listen_s=15)  # taken by 李强 the day before, say
    assert earlier.record is not None and earlier.record.agent == "8002"
    await only_ready(stack)
    wang = await person(stack, "wangfang", "王芳", agent_id="8001", team="一组")
    li = await person(stack, "liqiang", "李强", agent_id="8002", team="一组")

    async with chromium() as browser:
        page = await (await browser.new_context(viewport={"width": 1440, "height": 960}, locale="zh-CN")).new_page()
        other = await (await browser.new_context(viewport={"width": 1440, "height": 960}, locale="zh-CN")).new_page()
        await sign_in(page, base(stack), "wangfang", wang, change_to=NEW_PASSWORD, shots=(TEST, "01"))
        await sign_in(other, base(stack), "liqiang", li, change_to=NEW_PASSWORD)
        await expect(page.locator("[data-test=who]")).to_contain_text("王芳")
        await expect(page.locator("[data-test=feed-state]")).to_contain_text("实时连接正常")
        await screenshot(page, TEST, "02-desk-signed-in")

        await page.click("[data-test=ready]")
        await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：就绪")
        await agent_state(stack, "8001", "ready")
        call = await world_caller.start("12345", CITIZEN, script="wait:60")
        await expect(page.locator("[data-test=pop-number]")).to_have_text(CITIZEN, timeout=30_000)
        await screenshot(page, TEST, "03-call-offered-pop")
        await expect(page.locator("[data-test=pop-line]")).to_contain_text("12345")
        await expect(page.locator("[data-test=pop-flags]")).to_contain_text("VIP")
        await expect(page.locator("[data-test=pop-flags]")).to_contain_text("重复来电")
        history = page.locator("[data-test=pop-history]")
        await expect(history).to_contain_text("李强")
        await expect(page.locator("[data-test=call-state]")).to_have_text("通话中", timeout=15_000)
        call_id = str(await page.evaluate("() => window.hotlineDesk.call.id"))
        timings = await page.evaluate("() => window.hotlineDesk.timings")
        assert timings and timings[0]["call"] == call_id and timings[0]["pop_ms"] < 1000, timings

        # the first ticket: refused with every missing field named, then written and submitted
        form = ".ticket-form:visible"
        await expect(page.locator(form)).to_be_visible()
        await page.locator(f"{form} [data-test=submit-ticket]").click()
        await expect(page.locator(form)).to_contain_text("请选择诉求类型")
        await expect(page.locator(form)).to_contain_text("请选择事项分类")
        await screenshot(page, TEST, "04-ticket-checked")
        await fill_ticket(page, "咨询", "普通护照", "咨询护照办理", {"description": "市民咨询首次办理普通护照所需材料"})
        first = await submitted(page)
        await screenshot(page, TEST, "05-first-ticket-submitted")

        # the second ticket: a complaint, kept across a reload, then submitted
        await page.click("[data-test=new-ticket]")
        await fill_ticket(page, "投诉", "普通护照", "窗口办理护照排队过长", {
            "description": "出入境窗口排队超过两小时", "occurred_at": "本周一上午", "location": "市民服务中心三楼",
            "subject": "出入境管理窗口"}, name="张先生", region="朝阳区")
        await page.wait_for_timeout(300)
        await page.reload()
        await expect(page.locator("[data-test=pop-number]")).to_have_text(CITIZEN, timeout=15_000)
        await page.locator(".el-tabs__item").filter(has_text="草稿 2").click()
        await expect(page.locator(field(form, "title"))).to_have_value("窗口办理护照排队过长")
        await screenshot(page, TEST, "06-draft-kept-after-reload")
        second = await submitted(page)
        await screenshot(page, TEST, "07-second-ticket-submitted")

        # the other agent's desk saw nothing, and the pop is refused to it
        await expect(other.locator("[data-test=idle]")).to_be_visible()
        assert await pop_status(other, call_id) == 403
        assert await pop_status(page, call_id) == 200
        await screenshot(other, TEST, "08-other-agent-sees-nothing")

        # transfer to the social-security experts: 张敏 (8003) takes the caller
        assert stack.acd is not None
        await stack.acd.set_agent_state("8003", "ready")
        await page.click("[data-test=transfer]")
        await pick_option(page, "transfer-skill", "人社")
        await screenshot(page, TEST, "09-transfer-dialog")
        await page.click("[data-test=dialog-confirm]")
        await expect(page.get_by_text("已转接")).to_be_visible()
        record = await wait_for_step(stack, await call.answered(), "transferred")
        await screenshot(page, TEST, "10-transferred")
        for _ in range(100):
            record = await wait_for_step(stack, await call.answered(), "transferred")
            if record.agent == "8003":
                break
            await asyncio.sleep(0.2)
        assert record.agent == "8003", record.steps
        await call.hangup()

    async with stack.sessions() as s:
        rows = (await s.execute(select(Ticket.number, Ticket.status, Ticket.created_by, Ticket.region).join(
            TicketCall, TicketCall.ticket_id == Ticket.id).where(TicketCall.call_id == call_id))).all()
    assert sorted((number, by, region) for number, _, by, region in rows) == sorted(
        [(first, "8001", ""), (second, "8001", "朝阳区")]), rows
    assert all(status in ("submitted", "received") for _, status, _, _ in rows), rows  # the case system may have it


async def steps_of(stack: Stack, call_id: str) -> list[str]:
    assert stack.calls is not None
    record = await stack.calls.get(call_id)
    return [step["step"] for step in record.steps] if record else []


async def until_step(stack: Stack, call_id: str, step: str, timeout: float = 30) -> None:
    for _ in range(int(timeout * 10)):
        if step in await steps_of(stack, call_id):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {step} on call {call_id}: {await steps_of(stack, call_id)}")


async def test_call_control_from_the_desk(stack: Stack, world_caller: WorldCaller) -> None:
    """Flag the caller an emergency, consult the expert 张敏 and come back, bring her in three-way and leave the
    two talking; on the next call, one key to 110."""
    assert stack.acd is not None
    password = await person(stack, "wangfang", "王芳", agent_id="8001", team="一组")
    await only_ready(stack)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
        await sign_in(page, base(stack), "wangfang", password, change_to=NEW_PASSWORD + "-call-control")
        await page.click("[data-test=ready]")
        await agent_state(stack, "8001", "ready")
        call = await world_caller.start("12345", "13800138077", script="wait:90")
        await expect(page.locator("[data-test=call-state]")).to_have_text("通话中", timeout=30_000)
        call_id = str(await page.evaluate("() => window.hotlineDesk.call.id"))

        await page.click("[data-test=flag-emergency]")
        await page.locator(".el-message-box input").fill("燃气泄漏")
        await page.locator(".el-message-box .el-button--primary").click()
        await expect(page.get_by_text("已标记，有效至")).to_be_visible()
        await until_step(stack, call_id, "emergency_flagged")

        await stack.acd.set_agent_state("8003", "ready")
        await page.click("[data-test=consult]")
        await pick_option(page, "party-agent", "张敏")
        await page.click("[data-test=dialog-confirm]")
        await expect(page.locator("[data-test=consult-cancel]")).to_be_visible()
        await until_step(stack, call_id, "consult_answered")
        await screenshot(page, TEST, "11-consulting")
        await page.click("[data-test=consult-cancel]")
        await expect(page.get_by_text("已回到来电人")).to_be_visible()
        await until_step(stack, call_id, "consult_cancelled")

        await agent_state(stack, "8003", "ready")
        await page.click("[data-test=three-way]")
        await pick_option(page, "party-agent", "张敏")
        await page.click("[data-test=dialog-confirm]")
        await until_step(stack, call_id, "three_way")
        await screenshot(page, TEST, "12-three-way")
        await page.click("[data-test=leave]")
        await expect(page.get_by_text("已退出，来电人与第三方继续通话")).to_be_visible()
        await until_step(stack, call_id, "agent_left")
        await call.hangup()
        await call.outcome()

        await only_ready(stack, "8001")
        second = await world_caller.start("12345", "13800138078", script="wait:60")
        await expect(page.locator("[data-test=pop-number]")).to_have_text("13800138078", timeout=30_000)
        await expect(page.locator("[data-test=call-state]")).to_have_text("通话中", timeout=15_000)
        second_id = str(await page.evaluate("() => window.hotlineDesk.call.id"))
        await page.click("[data-test=linkage-110]")
        await page.locator(".el-message-box .el-button--primary").click()
        await expect(page.get_by_text("已转接 公安 110")).to_be_visible()
        await until_step(stack, second_id, "linkage")
        await screenshot(page, TEST, "13-linkage-110")
        await second.hangup()
        await second.outcome()


async def test_the_phones_feature_codes_and_the_page_agree(stack: Stack, world_caller: WorldCaller) -> None:
    """*21 ready and *22 pause dialled on 刘洋's desk phone show on his page; his page's 小休 reaches the ACD, and
    so does 退出."""
    password = await person(stack, "liuyang", "刘洋", agent_id="8004", team="二组")
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
        await sign_in(page, base(stack), "liuyang", password, change_to=NEW_PASSWORD)
        state = page.locator("[data-test=agent-state]")
        for code, shown in (("*21", "状态：就绪"), ("*22", "状态：小休")):
            call = await world_caller.start(code, "8004", script="wait:3", via="phone-8004", timeout_s=30)
            await expect(state).to_contain_text(shown, timeout=15_000)
            await call.outcome()
        await page.click("[data-test=ready]")
        await agent_state(stack, "8004", "ready")
        await page.click("[data-test=pause]")
        await page.locator(".el-dropdown-menu__item:visible").filter(has_text="培训").click()
        await expect(state).to_have_text("状态：小休（培训）")
        await agent_state(stack, "8004", "paused")
        assert stack.acd is not None and (await stack.acd.agents())["8004"]["reason"] == "培训"
        await screenshot(page, TEST, "14-paused-for-training")
        await expect(page.locator(".el-dropdown-menu:visible")).to_have_count(0)  # the reasons' menu has closed
        await page.click("[data-test=sign-out]")  # signing out of the desk signs out of the ACD too
        await page.wait_for_url(f"{base(stack)}/login/")
        await agent_state(stack, "8004", "signed_out")


async def test_wrong_passwords_lock_the_account(stack: Stack) -> None:
    password = await person(stack, "zhangmin", "张敏", agent_id="8003", team="二组")
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        await page.goto(f"{base(stack)}/login/")
        error = page.locator("[data-test=login-error]")
        for attempt in range(5):
            await page.fill("input[name=username]", "zhangmin")
            await page.fill("input[name=password]", f"wrong-password-{attempt}")
            await page.click("[data-test=sign-in]")
            await expect(error).to_have_text("用户名或密码错误")
            await page.wait_for_timeout(100)
        await screenshot(page, TEST, "20-wrong-password")
        await page.fill("input[name=username]", "zhangmin")
        await page.fill("input[name=password]", password)  # even the right one, while locked
        await page.click("[data-test=sign-in]")
        await expect(error).to_contain_text("账户已锁定，请")
        await expect(error).to_contain_text("分钟后再试")
        await screenshot(page, TEST, "21-locked")
        assert "/login/" in page.url


async def test_a_supervisor_is_told_the_desk_is_for_agents(stack: Stack) -> None:
    password = await person(stack, "zhaojing", "赵静", role="supervisor", team="一组")
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        await sign_in(page, base(stack), "zhaojing", password, change_to=NEW_PASSWORD)
        await expect(page.locator("[data-test=not-agent]")).to_contain_text("仅坐席使用")
        await screenshot(page, TEST, "30-not-an-agent")
        await page.click("[data-test=sign-out]")
        await page.wait_for_url("**/login/")


def shown_seconds(text: str) -> int:
    """The card's "N 秒" / "M 分 S 秒" as seconds."""
    minutes, _, rest = text.rpartition("分")
    return int(minutes.strip() or 0) * 60 + int(rest.replace("秒", "").strip())


async def test_a_caller_who_queued_while_the_agent_talked_is_shown_the_wait(stack: Stack,
                                                                           world_caller: WorldCaller) -> None:
    """王芳 talks with one caller (her phone hangs up after TALK_S) while a second caller queues; when the second is
    offered, the caller card shows how long they waited in the queue: the seconds they really waited, not 0."""
    assert stack.world_ami is not None
    password = await person(stack, "wangfang", "王芳", agent_id="8001", team="一组")
    await only_ready(stack)
    await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": str(TALK_S)})
    try:
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
            await sign_in(page, base(stack), "wangfang", password, change_to=NEW_PASSWORD + "-waits")
            await page.click("[data-test=ready]")
            await agent_state(stack, "8001", "ready")
            first = await world_caller.start("12345", "13800138091", script=f"wait:{TALK_S + 20}")
            await expect(page.locator("[data-test=pop-number]")).to_have_text("13800138091", timeout=30_000)
            await expect(page.locator("[data-test=call-state]")).to_have_text("通话中", timeout=15_000)
            second = await world_caller.start("12345", "13800138092", script=f"wait:{TALK_S + 30}")
            await wait_for_step(stack, await second.answered(), "queued")
            since = asyncio.get_running_loop().time()
            await page.wait_for_function("() => { const c = window.hotlineDesk.call; "
                                         "return c && c.pop && c.pop.caller === '13800138092'; }",
                                         timeout=(TALK_S + 20) * 1000)
            waited_s = asyncio.get_running_loop().time() - since
            shown = await page.locator("[data-test=pop-waited]").inner_text()
            await screenshot(page, TEST, "15-waited-behind-another-call")
            await second.hangup()
            await first.outcome()
            await second.outcome()
    finally:
        await stack.world_ami.action("Setvar", {"Variable": "WORLD_TALK_8001", "Value": ""})
    print(f"\nthe second caller waited {waited_s:.1f} s in the queue; the card shows {shown!r}")
    assert waited_s > 3, "the second caller waited behind the first"
    assert shown_seconds(shown) >= waited_s - 1.5, (shown, waited_s)
