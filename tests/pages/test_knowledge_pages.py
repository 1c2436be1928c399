"""The knowledge base in real browsers on the real stack: the housing-fund centre's editor drafts an entry
in 知识库管理, the hotline's knowledge staff (a supervisor) checks and publishes it; agent 王芳 takes a
citizen's call on 12329 (key 2: the general seats), sees her line's entries suggested, types the citizen's
colloquial question, finds the entry, marks 已按此答复; reports 知识库查无 for a question it has no answer
to, then sends the caller — with their consent — to the housing-fund expert seat, where 张敏 answers. The
staff see the gap in 查无记录 and close it, and the figures show 王芳's direct answer. Screenshots of each
step go to var/artefacts/knowledge_pages/.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import FilePayload, Page, expect
from sqlalchemy import select

from acd.directory.service import AgentDirectory
from hotline.app.stack import Stack
from hotline.core.accounts.users import NewUser
from integration.world.call import WorldCaller, citizen_script
from knowledge.models import KnowledgeGap, KnowledgeUse
from tests.browser import chromium, screenshot
from tests.e2e.conftest import only_ready, running_stack, stack_settings, wait_for_step
from tests.pages.desk_steps import field, fill_ticket, sign_in, submitted
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.asterisk, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
TEST = "knowledge_pages"
PASSWORD = "知识库-correct-horse-7"
CENTRE = "市住房公积金中心"
CITIZEN = "13800138091"
TITLE = "住房公积金提取办理"
ANSWER = ("职工离职、退休、购房或租房时可申请提取住房公积金：携带本人身份证和银行卡到公积金中心任一网点办理，"
          "或通过公积金中心网上服务大厅线上申请，审核通过后3个工作日内到账。")
PRINTED = "住房公积金缴存证明打印"
GAP_QUESTION = "公积金贷款能不能转到外地"
VIEW = {"width": 1440, "height": 960}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        assert s.users is not None
        await s.users.create(NewUser("gjj.bianji", "editor", "赵编辑", None, CENTRE, PASSWORD))
        await s.users.create(NewUser("zhishi", "supervisor", "孙校核", None, None, PASSWORD))
        await s.users.create(NewUser("wangfang", "agent", "王芳", "8001", "一组", PASSWORD))
        yield s


def base(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.core.ports.http}"


async def new_page(browser: object, errors: list[str]) -> Page:
    page: Page = await (await browser.new_context(viewport=VIEW, locale="zh-CN")).new_page()  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    return page


async def taken_by(stack: Stack, sip_call_id: str, agent: str, timeout: float = 30) -> None:
    """Wait until the call record says the transferred call is `agent`'s."""
    for _ in range(int(timeout * 5)):
        record = await wait_for_step(stack, sip_call_id, "transferred")
        if record.agent == agent:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"agent {agent} never took the call: {record.steps}")


async def draft_entry(page: Page) -> str:
    """The editor writes the entry in the form and saves it; its number."""
    await page.click("[data-test=new-entry]")
    form = "[data-test=entry-form]"
    await expect(page.locator(form)).to_be_visible()
    await page.locator(field(form, "entry-title")).fill(TITLE)
    await page.locator(field(form, "entry-question-0")).fill("如何提取住房公积金")
    await page.click("[data-test=entry-add-question]")
    await page.locator(field(form, "entry-question-1")).fill("离职以后公积金可以取出来吗")
    await page.locator(field(form, "entry-answer")).fill(ANSWER)
    await page.locator(field(form, "entry-region")).fill("全市")
    await page.locator(field(form, "entry-keywords")).fill("公积金，提取，离职")
    await page.locator(field(form, "entry-valid-until")).fill("2027-12-31")
    await page.keyboard.press("Enter")
    await page.locator(field(form, "entry-source")).fill("《住房公积金提取管理办法》（2026年修订）")
    await page.locator("[data-test=entry-phone]").click()
    await screenshot(page, TEST, "02-editor-form")
    await page.click("[data-test=entry-save]")
    await expect(page.locator("[data-test=entry-state]")).to_have_text("草稿", timeout=10_000)
    head = await page.locator(".entry-head").inner_text()
    number = re.search(r"编号 (\d+)", head)
    assert number, head
    return number.group(1)


def sheet(*rows: tuple[str, ...]) -> bytes:
    """A CSV file as a spreadsheet program saves it (UTF-8 with BOM), with the import's columns."""
    head = ("标题", "问题", "答复口径", "部门", "分类", "区域", "关键词", "生效日期", "失效日期", "来源")
    return ("\ufeff" + "\r\n".join(",".join(row) for row in (head, *rows)) + "\r\n").encode()


async def import_file(page: Page, name: str, content: bytes) -> None:
    payload: FilePayload = {"name": name, "mimeType": "text/csv", "buffer": content}
    await page.set_input_files("[data-test=import-file]", files=[payload])
    await page.click("[data-test=import-send]")


async def test_an_entry_drafted_checked_published_and_used_to_answer_a_real_call(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.acd is not None and stack.sessions is not None
    errors: list[str] = []
    async with chromium() as browser:
        # the department's editor drafts the entry
        editor = await new_page(browser, errors)
        await sign_in(editor, base(stack), "gjj.bianji", PASSWORD, at="/knowledge/")
        await expect(editor.locator("[data-test=me]")).to_contain_text(f"赵编辑（知识编辑 · {CENTRE}）")
        await expect(editor.locator("[data-test=nav-knowledge]")).to_have_class("active")
        await screenshot(editor, TEST, "01-editor-signed-in")

        # a bulk import is checked as a whole: a bad row refuses the file, then the corrected file is drafts
        good = (PRINTED, "缴存证明在哪里打印", "可在公积金中心网上服务大厅自助打印，或到任一网点柜台打印。", CENTRE,
                "", "全市", "缴存证明", "2026-01-01", "2027-12-31", "公积金中心服务指南")
        await editor.click("[data-test=import]")
        await import_file(editor, "知识条目.csv", sheet(good, ("公积金贷款额度", "公积金能贷多少", "", CENTRE, "",
                                                         "全市", "", "2026-01-01", "2027-12-31", "")))
        refused = editor.locator("[data-test=import-rows]")
        await expect(refused).to_contain_text("答复口径")
        await expect(editor.locator("[data-test=import-refused]")).to_contain_text("未导入任何条目")
        await screenshot(editor, TEST, "01b-import-refused")
        await import_file(editor, "知识条目.csv", sheet(good))
        await expect(editor.get_by_text("已导入 1 条草稿")).to_be_visible()
        await expect(editor.locator("[data-test=entries] tr").filter(has_text=PRINTED)).to_contain_text("草稿")
        entry = await draft_entry(editor)
        await expect(editor.locator("[data-test=entry-check]")).to_have_count(0)  # checking is the staff's
        await screenshot(editor, TEST, "03-draft-saved")

        # the knowledge staff check and publish it
        staff = await new_page(browser, errors)
        await sign_in(staff, base(stack), "zhishi", PASSWORD, at="/knowledge/")
        await staff.locator("[data-test=entries] tr").filter(has_text=TITLE).first.click()
        await expect(staff.locator("[data-test=entry-state]")).to_have_text("草稿")
        await staff.click("[data-test=entry-check]")
        await expect(staff.locator("[data-test=entry-state]")).to_have_text("已校核", timeout=10_000)
        await staff.click("[data-test=entry-publish]")
        await expect(staff.locator("[data-test=entry-state]")).to_have_text("已发布", timeout=10_000)
        await expect(staff.locator("[data-test=entry-versions]")).to_contain_text("发布")
        await expect(staff.locator("[data-test=entry-versions]")).to_contain_text("校核")
        await screenshot(staff, TEST, "04-published-with-versions")

        # 王芳 takes a citizen's call on 12329 (key 2: general seats)
        desk = await new_page(browser, errors)
        await sign_in(desk, base(stack), "wangfang", PASSWORD)
        await only_ready(stack)
        await desk.click("[data-test=ready]")
        await expect(desk.locator("[data-test=agent-state]")).to_have_text("状态：就绪")
        call = await world_caller.start("12329", CITIZEN, script=citizen_script("2", 120))
        await expect(desk.locator("[data-test=pop-number]")).to_have_text(CITIZEN, timeout=30_000)
        await expect(desk.locator("[data-test=call-state]")).to_have_text("通话中", timeout=20_000)
        call_id = str(await desk.evaluate("() => window.hotlineDesk.call.id"))
        await expect(desk.locator("[data-test=kb-status]")).to_contain_text(CENTRE)
        await expect(desk.locator("[data-test=kb-suggestion]").filter(has_text=TITLE)).to_be_visible()
        await screenshot(desk, TEST, "05-call-with-line-suggestions")

        # she writes the call's ticket; then the citizen's own words find the entry, and she answers from it
        await fill_ticket(desk, "咨询", "街道管理与服务", "咨询住房公积金提取",
                          {"description": "市民咨询离职后如何提取住房公积金"})
        ticket = await submitted(desk)
        await desk.locator(field("[data-test=knowledge]", "kb-search")).press_sequentially("公积金怎么取出来", delay=40)
        result = desk.locator("[data-test=kb-result]").filter(has_text=TITLE).first
        await expect(result).to_be_visible(timeout=10_000)
        await expect(result.locator("mark.kb-hit").first).to_be_visible()
        await result.locator("[data-test=kb-toggle]").click()
        await expect(result.locator("[data-test=kb-answer]")).to_contain_text("3个工作日内到账")
        await screenshot(desk, TEST, "06-found-by-colloquial-question")
        await result.locator("[data-test=kb-use]").click()
        await expect(result.locator("[data-test=kb-used-tag]")).to_be_visible()
        await screenshot(desk, TEST, "07-answered-from-entry")
        async with stack.sessions() as s:
            lines = (await s.execute(select(TicketEvent.kind, TicketEvent.detail).join(Ticket).where(
                Ticket.number == ticket, TicketEvent.kind == "knowledge_used"))).all()
        assert [(kind, str(detail["entry_id"])) for kind, detail in lines] == [("knowledge_used", entry)], lines

        # a question it has no answer to: 知识库查无
        search = desk.locator(field("[data-test=knowledge]", "kb-search"))
        await search.fill("")
        await search.press_sequentially(GAP_QUESTION, delay=40)
        await expect(desk.locator("[data-test=kb-status]")).to_contain_text(f"“{GAP_QUESTION}”", timeout=10_000)
        await desk.click("[data-test=kb-gap]")
        await expect(desk.locator("[data-test=kb-gap]")).to_have_text("已报查无")
        await screenshot(desk, TEST, "08-gap-reported")
        async with stack.sessions() as s:
            uses = (await s.scalars(select(KnowledgeUse).where(KnowledgeUse.call_id == call_id))).all()
            gaps = (await s.scalars(select(KnowledgeGap).where(KnowledgeGap.call_id == call_id))).all()
        assert [(str(u.entry_id), u.agent) for u in uses] == [(entry, "8001")], uses
        assert [g.question for g in gaps] == [GAP_QUESTION], gaps

        # the staff: the gap in 查无记录 (closed with a note), and the direct answer in the figures
        await staff.keyboard.press("Escape")
        await staff.locator(".kb-tabs .el-tabs__item").filter(has_text="查无记录").click()
        gap_row = staff.locator("[data-test=gap-table] tr").filter(has_text=GAP_QUESTION)
        await expect(gap_row).to_be_visible()
        await expect(gap_row).to_contain_text("8001")
        await screenshot(staff, TEST, "10-gap-listed")
        await gap_row.locator("[data-test^=gap-close-]").click()
        await staff.locator(field(".el-dialog", "gap-note")).fill("已通知公积金中心补充异地转移接续口径")
        await staff.click("[data-test=gap-confirm]")
        await expect(gap_row).to_have_count(0)
        await staff.locator(".kb-tabs .el-tabs__item").filter(has_text="统计").click()
        agents = staff.locator("[data-test=figures-agents]")
        await expect(agents).to_contain_text("8001")
        await expect(agents.locator("tr").filter(has_text="8001")).to_contain_text("100")
        await expect(staff.locator("[data-test=figures-departments]")).to_contain_text(CENTRE)
        await staff.wait_for_timeout(600)  # the charts' entry animation
        await screenshot(staff, TEST, "11-figures")

        # then, with the citizen's consent, the housing-fund expert seat: 张敏 takes the caller
        directory = stack.service(AgentDirectory)
        await directory.change("8003", "test", skills={"social_security": 5, "housing_fund": 4, "general": 2})
        await stack.acd.set_agent_state("8003", "ready")
        await desk.click("[data-test=kb-expert]")
        consent = desk.locator(".el-message-box")
        await expect(consent).to_contain_text("征得来电人同意")
        await expect(consent).to_contain_text("住房公积金（12329）")
        await desk.wait_for_timeout(300)  # the dialog's fade-in
        await screenshot(desk, TEST, "12-expert-consent")
        await consent.locator(".el-button--primary").click()
        await expect(desk.get_by_text("已转接")).to_be_visible()
        await taken_by(stack, await call.answered(), "8003")
        await screenshot(desk, TEST, "13-transferred")
        await call.hangup()
        # the direct answer stays 王芳's after the expert took the call on
        response = await staff.request.get(f"{base(stack)}/api/knowledge/figures")
        assert response.ok, await response.text()
        by_agent = {row["agent"]: row for row in (await response.json())["direct_answer"]["by_agent"]}
        assert by_agent["8001"]["direct"] == 1 and by_agent.get("8003", {}).get("direct", 0) == 0, by_agent

    assert not errors, errors
