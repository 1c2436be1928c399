"""坐席管理 in a real browser on the real stack: a team supervisor signs in with the session cookie, sees their
team, adds agent 8123 (whose phone Asterisk then has), changes an agent's phone kind, is told a taken number is
taken, gives a phone a new password (shown once) and deactivates the new agent (the ACD lets them go)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from acd.directory.service import AgentDirectory
from hotline.app.stack import Stack
from hotline.core.accounts.users import NewUser
from tests.browser import chromium, screenshot
from tests.e2e.conftest import running_stack, stack_settings
from tests.pages.desk_steps import sign_in as signed_in

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
PASSWORD = "长城-correct-horse-9"
TEST = "agents_page"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        assert s.users is not None
        await s.users.create(NewUser("banzhang", "supervisor", "王班长", None, "一组", PASSWORD))
        yield s


async def endpoint_in_asterisk(stack: Stack, agent: str, timeout: float = 10.0) -> bool:
    assert stack.hotline is not None
    for _ in range(int(timeout * 5)):
        if f"Endpoint:  {agent}/" in await stack.hotline.cli(f"pjsip show endpoint {agent}"):
            return True
        await asyncio.sleep(0.2)
    return False


async def sign_in(page: Page, base: str) -> None:
    """Through the one sign-in page, back to 坐席管理 in the console."""
    await signed_in(page, base, "banzhang", PASSWORD, at="/agents/", shots=(TEST, "01"))
    await expect(page.locator("[data-test=me]")).to_contain_text("王班长（班长 · 一组）")
    await expect(page.locator("[data-test=nav-agents]")).to_have_class("active")


async def test_a_team_supervisor_manages_agents_in_the_page(stack: Stack) -> None:
    assert stack.acd is not None
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    directory = stack.service(AgentDirectory)
    async with chromium() as browser:
        page = await browser.new_page(locale="zh-CN", viewport={"width": 1360, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
                not in m.text else None)  # (the API's answers, 401 before signing in and the 409, are expected)
        try:
            await sign_in(page, base)
        finally:
            print("\n".join(errors))
        table = page.locator("[data-test=agents]")
        await expect(table).to_contain_text("8001")
        await expect(table).to_contain_text("综合受理 · 4 级")
        await expect(table).not_to_contain_text("8003")  # 二组's agent is not theirs
        await screenshot(page, TEST, "02-team")

        await page.locator("[data-test=add-agent]").click()
        form = page.locator("[data-test=agent-form]")
        await form.locator("input[name=id]").fill("8123")
        await form.locator("input[name=name]").fill("陈晨")
        await form.locator("[data-test=level-0] input").fill("4")
        await screenshot(page, TEST, "03-new-agent")
        await form.locator("[data-test=save]").click()
        await expect(table).to_contain_text("陈晨")
        added = await directory.agent("8123")
        assert (added.team, added.skills, added.phone, added.active) == ("一组", {"general": 4}, "sip", True)
        assert await endpoint_in_asterisk(stack, "8123"), "Asterisk has the new agent's phone"
        await screenshot(page, TEST, "04-added")

        await page.locator("[data-test=add-agent]").click()
        await form.locator("input[name=id]").fill("8001")
        await form.locator("input[name=name]").fill("重复")
        await form.locator("[data-test=save]").click()
        await expect(page.locator("[data-test=form-error]")).to_contain_text("工号 8001 已存在")
        await screenshot(page, TEST, "05-taken")
        await page.keyboard.press("Escape")

        await page.locator("[data-test=edit-8002]").click()
        await form.get_by_text("网页软电话").click()
        await form.locator("[data-test=save]").click()
        await expect(table).to_contain_text("网页软电话")
        assert (await directory.agent("8002")).phone == "webrtc"

        await page.locator("[data-test=secret-8001]").click()
        await page.get_by_role("button", name="生成").click()
        secret = page.locator("[data-test=secret]")
        await expect(secret).to_be_visible()
        shown = (await secret.inner_text()).strip()
        assert len(shown) >= 20 and directory.secrets.get("8001") == shown
        await page.wait_for_timeout(400)  # the dialog's fade-in, for the picture
        await screenshot(page, TEST, "06-new-password")
        await page.keyboard.press("Escape")

        assert "8123" in await stack.acd.agents()
        await page.locator("[data-test=active-8123]").click()
        await page.get_by_role("button", name="停用").click()
        await expect(table).not_to_contain_text("陈晨")  # inactive agents are hidden unless asked for
        assert not (await directory.agent("8123")).active
        assert "8123" not in await stack.acd.agents()
        await screenshot(page, TEST, "07-deactivated")
        assert errors == []
