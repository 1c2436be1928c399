"""People calling citizens back from the desk, in a real browser on the real stack: a citizen asked for a
callback; agent 李强 (8002) sees it on the 回访/回电 list, claims it, dials it (his phone, played by the
simulated world, rings first, then the citizen's, who answers and speaks), marks the citizen reached, and writes
the ticket for the callback's call like an inbound one. Screenshots of each step go to var/artefacts/."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import expect
from sqlalchemy import select

from callback.requests import CallbackRequests
from hotline.app.stack import Stack
from tests.browser import chromium, screenshot
from tests.e2e.conftest import only_ready, running_stack, stack_settings
from tests.pages.desk_steps import NEW_PASSWORD, field, person, pick_category, pick_radio, sign_in
from tickets.models import TicketCall

pytestmark = [pytest.mark.asterisk, pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
CITIZEN = "13800138402"
TEST = "desk-callbacks"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def test_an_agent_claims_a_callback_dials_it_reaches_the_citizen_and_writes_the_ticket(stack: Stack) -> None:
    assert stack.world_ami is not None and stack.sessions is not None
    await stack.services.get(CallbackRequests).request_callback("asked-on-a-call", CITIZEN)
    await stack.world_ami.action("Setvar", {"Variable": f"WORLD_PETITIONER_{CITIZEN}",
                                            "Value": "script:say:demo-thanks/wait:5"})  # answers and speaks
    await only_ready(stack)
    password = await person(stack, "liqiang", "李强", agent_id="8002", team="一组")
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
        await sign_in(page, f"http://127.0.0.1:{stack.settings.core.ports.http}", "liqiang", password,
                      change_to=NEW_PASSWORD)
        await page.locator(".el-tabs__item").filter(has_text="回访/回电").click()
        row = page.locator(".callbacks .el-table__row").filter(has_text=CITIZEN)
        await expect(row).to_contain_text("回电请求")
        await screenshot(page, TEST, "01-work-list")
        await row.get_by_text("领取").click()
        await expect(row).to_contain_text("已领取")
        await row.get_by_text("拨打").click()
        await expect(page.locator("[data-test=agent-state]")).to_have_text("状态：通话中", timeout=20_000)
        await screenshot(page, TEST, "02-dialling")
        await expect(page.locator("[data-test=agent-state]")).not_to_have_text("状态：通话中", timeout=40_000)
        await row.get_by_text("已联系上").click()
        await expect(page.get_by_text("已记录，事项已关闭")).to_be_visible()
        call_id = str(await page.evaluate("() => window.hotlineDesk.ticketCall"))
        await expect(page.locator("[data-test=pop-number]")).to_have_text(CITIZEN)
        await expect(page.locator("[data-test=pop-line]")).to_contain_text("回电")
        await page.click("[data-test=new-ticket]")
        form = ".ticket-form:visible"
        await pick_radio(page, "request-type", "咨询")
        await pick_category(page, form, "普通护照")
        await page.locator(field(form, "title")).fill("回电答复护照办理")
        await page.locator(field(form, "content-description")).fill("回电告知市民所需材料")
        await page.locator(f"{form} [data-test=submit-ticket]").click()
        await expect(page.locator("[data-test=ticket-submitted]:visible")).to_contain_text("派单时限")
        await screenshot(page, TEST, "03-ticket-for-the-callback")
    async with stack.sessions() as s:
        linked = (await s.scalars(select(TicketCall.ticket_id).where(TicketCall.call_id == call_id))).all()
    assert call_id.startswith("callback-") and len(linked) == 1, f"one ticket links the callback's call {call_id}"
