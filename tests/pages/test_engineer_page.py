"""拨号计划 in a real browser on the real stack: an engineer signs in, places a test call (the greeting heard),
types a mistake and sees it with its line within a second, jumps to it, fixes it, words the greeting longer, sees
the diff, applies it, and the next test call hears the new greeting (its path starts with the greeting, and the
caller heard seconds more speech, by webrtcvad); the player loads the WAV; the history lists both versions; a
reload Asterisk refuses is shown rolled back, with the file and the running configs as they were.
The dialplan is restored at the end (the stack is the module's)."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from dialplans.apply import Reloader
from dialplans.editor import DialplanEditor
from dialplans.history import sha256_of
from hotline.app.settings import Settings
from hotline.app.stack import Stack
from hotline.core.asterisk.reload import ReloadFailed
from tests.browser import chromium, screenshot
from tests.e2e.conftest import running_stack, stack_settings
from tests.pages.desk_steps import NEW_PASSWORD, person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
TEST = "engineer_page"
LONGER = ("您好，这里是12345政务服务便民热线，本次通话将被全程录音。"
          "为了更好地为您服务，请您在接通后简要说明您的诉求，我们将竭诚为您办理。")
ONLY_THE_GREETING = "noise/silence/hangup"  # the citizen hears the first prompt to its end, then hangs up


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    dialplan = home / "hotline.yaml"
    shutil.copyfile(Settings().core.dialplan_file, dialplan)
    async with running_stack(stack_settings(home, dialplan_file=dialplan)) as s:
        editor = s.service(DialplanEditor)
        original = editor.text()
        try:
            yield s
        finally:  # the running Asterisk and the prompts as they were, for the module's other tests
            if editor.text() != original:
                await editor.apply(original, sha256_of(editor.text()), "test teardown")


async def select_in_editor(page: Page, before: str, word: str) -> None:
    """Select `word` where it first follows `before` in the editor (the caret put there, as a click would)."""
    await page.locator("[data-test=editor]").evaluate(
        """(el, [before, word]) => {
            const at = el.value.indexOf(before) + before.length;
            const start = el.value.indexOf(word, at);
            el.focus();
            el.setSelectionRange(start, start + word.length);
        }""", [before, word])


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


async def place_test_call(page: Page) -> tuple[float, float]:
    """Press 测试呼叫 and wait for the answered call's facts; the seconds of speech the caller heard, and when
    the greeting had played (seconds after the answer, from the path)."""
    await page.locator("[data-test=call-script] input, input[name=script]").first.fill(ONLY_THE_GREETING)
    await page.locator("[data-test=test-call]").click()
    await expect(page.locator("[data-test=test-running]")).to_be_visible()
    await expect(page.locator("[data-test=answered]")).to_have_text("已接通", timeout=60_000)
    await expect(page.locator("[data-test=first-prompt]")).to_have_text("greeting")
    timeline = page.locator("[data-test=path]")
    first = timeline.locator(".el-timeline-item").first
    await expect(first).to_contain_text("问候语")
    await expect(first).to_contain_text("播放完毕")
    greeted = float((await first.locator(".el-timeline-item__timestamp").inner_text()).strip("+ 秒"))
    audio = page.locator("[data-test=heard-audio]")
    await expect(audio).to_be_visible()
    duration = await audio.evaluate("""a => new Promise((ok, no) => {
        if (a.readyState >= 1) return ok(a.duration);
        a.addEventListener("loadedmetadata", () => ok(a.duration));
        a.addEventListener("error", () => no(new Error("the WAV did not load")));
        a.load();
    })""")
    assert duration > 1.0, "the player has the WAV the caller heard"
    return float((await page.locator("[data-test=heard-seconds]").inner_text()).strip()), greeted


async def test_an_engineer_changes_the_greeting_and_a_test_call_hears_it(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    editor = stack.service(DialplanEditor)
    shipped = editor.text()
    password = await person(stack, "li.gong", "李工", role="engineer")
    async with chromium() as browser:
        page = await browser.new_page(locale="zh-CN", viewport={"width": 1440, "height": 960})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await sign_in(page, base, "li.gong", password, change_to=NEW_PASSWORD, at="/engineer/")
        await expect(page.locator("[data-test=no-problems]")).to_be_visible()
        await expect(page.locator("[data-test=state]")).to_have_text("与运行版本一致")
        await screenshot(page, TEST, "01-opened")

        before = await place_test_call(page)
        await screenshot(page, TEST, "02-test-call-before")

        mistake = line_of(shipped, '{number: "12345", mode: main')
        await select_in_editor(page, '{number: "12345", ', "main")
        typed = time.monotonic()
        await page.keyboard.type("mian")
        problem = page.locator(f"[data-test=problem-{mistake}]")
        await expect(problem).to_be_visible(timeout=2_000)
        assert time.monotonic() - typed < 1.0, "the problem shows within a second of typing"
        await expect(problem).to_contain_text(f"第 {mistake} 行")
        await expect(problem).to_contain_text("use 'main'")
        await expect(page.locator("[data-test=apply]")).to_be_disabled()
        await problem.click()
        caret = await page.locator("[data-test=editor]").evaluate(
            "el => el.value.slice(0, el.selectionStart).split('\\n').length")
        assert caret == mistake, "a click on the problem puts the caret on its line"
        await expect(page.locator(f".eng-gutter span.bad[data-line='{mistake}']")).to_be_visible()
        await screenshot(page, TEST, "03-mistake")

        await select_in_editor(page, '{number: "12345", ', "mian")
        await page.keyboard.type("main")
        await expect(page.locator("[data-test=no-problems]")).to_be_visible()
        greeting = shipped.splitlines()[line_of(shipped, "  greeting: ") - 1].split(": ", 1)[1]
        await select_in_editor(page, "prompts:", greeting)
        await page.keyboard.insert_text(LONGER)
        await expect(page.locator("[data-test=no-problems]")).to_be_visible()
        await expect(page.locator("[data-test=state]")).to_have_text("已修改，未应用")

        await page.locator("[data-test=diff]").click()
        view = page.locator("[data-test=diff-view]")
        await expect(view).to_contain_text("hotline.yaml")
        await expect(view.locator(".del").filter(has_text=greeting)).to_be_visible()
        await expect(view.locator(".add").filter(has_text=LONGER)).to_be_visible()
        await page.wait_for_timeout(400)  # the dialog's fade-in, for the picture
        await screenshot(page, TEST, "04-diff")
        await page.keyboard.press("Escape")

        await page.locator("[data-test=apply]").click()
        await page.locator(".el-message-box").get_by_role("button", name="应用").click()
        result = page.locator("[data-test=apply-result]")
        await expect(result).to_contain_text("已应用到运行中的 Asterisk", timeout=30_000)
        await expect(result).to_contain_text("greeting")
        await expect(page.locator("[data-test=state]")).to_have_text("与运行版本一致")
        assert LONGER in editor.text() and editor.current()["applied_by"] == "li.gong"
        await screenshot(page, TEST, "05-applied")

        after = await place_test_call(page)
        await screenshot(page, TEST, "06-test-call-after")
        assert after[0] > before[0] + 3, f"the longer greeting is heard: {before[0]} s of speech, then {after[0]} s"
        assert after[1] > before[1] + 3, f"and takes longer to play: done at +{before[1]} s, then +{after[1]} s"

        await page.locator("[data-test=history]").click()
        versions = page.locator("[data-test=history-list]")
        await expect(versions).to_contain_text("li.gong")
        await expect(versions).to_contain_text("运行中")
        await page.wait_for_timeout(400)  # the drawer's slide, for the picture
        await screenshot(page, TEST, "07-history")
        await page.keyboard.press("Escape")

        await refused_reload_rolled_back(page, editor)
        assert errors == []


class RefusingOnce:
    """Asterisk's reload refusing the next config (as a module that cannot load it would); the rollback's reload
    goes to the real Asterisk."""

    def __init__(self, real: Reloader) -> None:
        self.real = real
        self.refused = False

    async def reload(self, modules: list[str]) -> None:
        if not self.refused:
            self.refused = True
            raise ReloadFailed("pbx_config.so: Module 'pbx_config.so' could not be reloaded")
        await self.real.reload(modules)


async def refused_reload_rolled_back(page: Page, editor: DialplanEditor) -> None:
    """A refused reload: the page says it was rolled back; the file and the running configs are as they were."""
    assert editor.target is not None
    real, etc = editor.target, editor.target.etc_dir
    configs = {p.name: p.read_bytes() for p in etc.glob("*.conf")}
    running, text = editor.current()["running_sha256"], editor.text()
    editor.target = dataclasses.replace(real, reloader=RefusingOnce(real.reloader))
    try:
        await select_in_editor(page, "numbers:", '"12305"')
        await page.keyboard.insert_text('"12304"')
        await expect(page.locator("[data-test=problems] .warning").first).to_contain_text("numbers")
        await page.locator("[data-test=apply]").click()
        await page.locator(".el-message-box").get_by_role("button", name="应用").click()
        await expect(page.locator("[data-test=rolled-back]")).to_contain_text("已回滚", timeout=30_000)
        await screenshot(page, TEST, "08-rolled-back")
    finally:
        editor.target = real
    assert editor.text() == text and editor.current()["running_sha256"] == running
    assert {p.name: p.read_bytes() for p in etc.glob("*.conf")} == configs
