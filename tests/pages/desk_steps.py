"""What an agent does on the desk pages, as Playwright steps (Element Plus controls found by their data-test
names and their Chinese labels)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from hotline.app.stack import Stack
from hotline.core.accounts.users import NewUser
from hotline.core.web.tokens import CLI

NEW_PASSWORD = "坐席-desk-password-16"


async def person(stack: Stack, username: str, name: str, role: str = "agent", agent_id: str | None = None,
                 team: str | None = None) -> str:
    """A user account as an admin makes it (or, made before, its password reset); its one-time password,
    changed at the next sign-in."""
    assert stack.users is not None
    known = await stack.users.named(username)
    if known is not None:
        return (await stack.users.reset_password(known.id, by=CLI))[1]
    _, password = await stack.users.create(NewUser(username, role, name, agent_id, team))
    assert password is not None
    return password


async def sign_in(page: Page, base: str, username: str, password: str, *, change_to: str | None = None,
                  shots: tuple[str, str] | None = None, at: str = "/desk/") -> None:
    """Open the page `at` (the desk; a console page: "/wallboard/" …), which sends a stranger to /login/, sign in,
    change the one-time password if asked, and wait to be back there."""
    await page.goto(f"{base}{at}")
    await page.wait_for_url("**/login/**")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    if shots:
        from tests.browser import screenshot
        await screenshot(page, shots[0], f"{shots[1]}-sign-in")
    await page.click("[data-test=sign-in]")
    if change_to is not None:
        await expect(page.get_by_text("修改密码").first).to_be_visible()
        await page.fill("input[name=new]", change_to)
        await page.fill("input[name=again]", change_to)
        if shots:
            from tests.browser import screenshot
            await screenshot(page, shots[0], f"{shots[1]}-change-password")
        await page.click("[data-test=change-password]")
    await page.wait_for_url(f"**{at}")


def field(scope: str, name: str) -> str:
    """The input of an Element Plus field named by data-test (which lands on the input itself or around it)."""
    return f"{scope} :is(input, textarea)[data-test={name}], {scope} [data-test={name}] :is(input, textarea)"


async def pick_radio(page: Page, group: str, label: str) -> None:
    await page.locator(f"[data-test={group}] label").filter(has_text=label).first.click()


async def pick_category(page: Page, scope: str, leaf: str) -> None:
    """Search the category picker for a leaf and take it."""
    box = page.locator(f"{scope} .el-cascader input").first
    await box.click()
    await box.fill(leaf)
    await page.locator(".el-cascader__suggestion-item:visible").filter(has_text=leaf).first.click()


async def pick_option(page: Page, select: str, text: str) -> None:
    await page.locator(f"[data-test={select}]").first.click()
    await page.locator(".el-select-dropdown__item:visible").filter(has_text=text).first.click()


async def fill_ticket(page: Page, kind: str, category: str, title: str, content: dict[str, str],
                      name: str = "", region: str = "") -> None:
    """Fill the open ticket: request type, category (a leaf), title, content fields, the petitioner's name, the
    district (区县)."""
    form = ".ticket-form:visible"
    await pick_radio(page, "request-type", kind)
    await pick_category(page, form, category)
    await page.locator(field(form, "title")).fill(title)
    for key, text in content.items():
        await page.locator(field(form, f"content-{key}")).fill(text)
    if name:
        await page.locator(field(form, "petitioner-name")).fill(name)
    if region:
        await page.locator(f"{form} [data-test=region]").first.click()
        await page.locator(".el-select-dropdown__item:visible").filter(has_text=region).first.click()


async def submitted(page: Page) -> str:
    """Submit the open ticket; its number once the page shows it submitted with its time limits."""
    await page.locator(".ticket-form:visible [data-test=submit-ticket]").click()
    done = page.locator("[data-test=ticket-submitted]:visible")
    await expect(done).to_contain_text("派单时限", timeout=10_000)
    title = await done.locator(".el-result__title").inner_text()
    return title.split()[1]
