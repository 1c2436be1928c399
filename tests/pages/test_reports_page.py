"""统计报表 in a real browser on the real stack, after a few real calls from the simulated world (three answered and
rated 1, 2 and 4 by agents of both teams, one caller who gives up in the queue): the cards show exactly what
GET /api/reports/kpis answers for the same range, each card's formula shows on hover, every chart draws, the
Excel and CSV exports hold the same 接通率, the monthly report renders, prints (window.print) and makes a PDF, and
a team supervisor who asks for another team is told so in Chinese."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from hotline.app.stack import Stack
from hotline.calls.records import CallView
from integration.world.call import WorldCaller
from tests.browser import ARTEFACTS, chromium, screenshot
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, wait_for_step
from tests.e2e.test_tickets import complaint, consultation, submitted
from tests.pages.desk_steps import NEW_PASSWORD, person, pick_option, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]
TEST = "reports_page"
LOOK: dict[str, Any] = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "viewport": {"width": 1440, "height": 900}}
RATES = ("connection_rate", "answer_rate_15s", "abandon_rate", "satisfaction_rate", "rating_coverage",
         "revisit_coverage")
TIMES = ("wait_avg_s", "talk_avg_s", "wrap_up_avg_s")
COUNTS = ("offered", "callbacks_done", "tickets")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


@pytest.fixture(scope="module")
def base(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.core.ports.http}"


async def rated_call(stack: Stack, world_caller: WorldCaller, caller: str, key: str) -> CallView:
    """A citizen reaches an agent, talks (the agent's phone hangs up after 2 s) and keys `key` at the rating."""
    call = await world_caller.start("12345", caller, script="wait:60")
    sip = await call.answered()
    await wait_for_step(stack, sip, "rating_prompt", timeout=40)
    await call.press(key)
    outcome = await call.outcome()
    assert outcome.record is not None and outcome.record.rating == int(key), outcome.record
    return outcome.record


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeded(stack: Stack, world_caller: WorldCaller) -> None:
    """Today's real calls: three answered and rated (8001 and 8002 of 一组, 8003 of 二组), one abandoned; the agents
    who took them file a 咨询 and a 投诉 ticket."""
    assert stack.world_ami is not None
    for agent in ("8001", "8002", "8003"):
        await stack.world_ami.action("Setvar", {"Variable": f"WORLD_TALK_{agent}", "Value": "2"})
    await only_ready(stack, "8001", "8002", "8003")
    answered = await asyncio.gather(rated_call(stack, world_caller, "13800138001", "1"),
                                    rated_call(stack, world_caller, "13800138002", "2"),
                                    rated_call(stack, world_caller, "13800138003", "4"))
    await only_ready(stack)  # nobody: the next caller waits in the queue and gives up
    gave_up = await world_caller.call("12345", "13800138004", script="wait:8")
    assert gave_up.record is not None and gave_up.record.agent is None, gave_up.record
    for agent in ("8001", "8002", "8003"):
        await stack.world_ami.action("Setvar", {"Variable": f"WORLD_TALK_{agent}", "Value": ""})
    assert stack.tokens is not None
    for record, ticket in zip(answered, (consultation, complaint), strict=False):
        assert record.agent is not None
        token = await stack.tokens.create(name=f"agent-{record.agent}", role="agent", agent_id=record.agent)
        await submitted(stack, token, ticket(record.call_id))


def shown(key: str, value: Any) -> str:
    """A KPI as the page writes it (kpis.js: pct, secs, count)."""
    if value is None:
        return "—"
    if key in RATES:
        return f"{value * 100:.1f}%"
    if key in TIMES:
        if value < 60:
            return f"{value:.1f}秒"
        whole = round(value)
        return f"{whole // 60}分{whole % 60:02d}秒"
    return f"{value:,}"


async def watch_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource"
            not in m.text else None)  # (401 before signing in, the 403 of the last test: the API's answers)
    return errors


async def drawn(page: Page, chart: str) -> int:
    """How many pixels of the chart's canvas are not blank."""
    return int(await page.locator(f"[data-test={chart}] canvas").first.evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
                  for (let i = 0; i < d.length; i += 4) if (d[i + 3] && (d[i] < 240 || d[i + 1] < 240)) n++;
                  return n; }"""))


def excel_rate(path: Path) -> object:
    """The 接通率 of the whole range in the kpis workbook: its 接通率 column on the 合计 row."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    column = rows[0].index("接通率")
    return next(r[column] for r in rows[1:] if r[0] == "合计")


@pytest.mark.timeout(300)
async def test_the_cards_charts_and_exports_hold_the_apis_figures(stack: Stack, base: str, seeded: None) -> None:
    assert stack.tokens is not None
    password = await person(stack, "zhuguan", "陈主管", role="supervisor")
    token = await stack.tokens.create(name="reports-check", role="supervisor")
    async with chromium() as browser:
        context = await browser.new_context(**LOOK, accept_downloads=True)
        page = await context.new_page()
        errors = await watch_errors(page)
        async with page.expect_response(lambda r: "/api/reports/kpis?" in r.url) as asked:
            await sign_in(page, base, "zhuguan", password, change_to=NEW_PASSWORD, at="/reports/")
        request = urlsplit((await asked.value).url)
        cards = page.locator("[data-test=kpi-cards]")
        await expect(cards).to_be_visible()

        status, body = await api(stack, "GET", f"/api/reports/kpis?{request.query}", token)
        assert status == 200, body
        assert isinstance(body, dict)
        totals = body["totals"]
        assert (totals["offered"], totals["answered"], totals["abandoned"], totals["rated"], totals["tickets"]) \
            == (4, 3, 1, 3, 2), totals
        for key in (*RATES, *TIMES, *COUNTS):
            card = page.locator(f"[data-test=kpi-{key}]")
            raw = await card.get_attribute("data-value")
            if totals[key] is None:
                assert raw == "", key
            else:
                assert float(raw or "nan") == pytest.approx(totals[key]), key
            await expect(card.locator("[data-test=value]")).to_have_text(shown(key, totals[key]))
            await expect(card.locator("[data-test=mom]")).to_contain_text("环比")
            await expect(card.locator("[data-test=yoy]")).to_contain_text("同比")
        await screenshot(page, TEST, "01-cards")

        await page.locator("[data-test=kpi-connection_rate]").hover()
        formula = page.locator("[data-test=formula-connection_rate]")
        await expect(formula).to_be_visible()
        await expect(formula).to_contain_text(body["formulas"]["connection_rate"]["formula"])
        await screenshot(page, TEST, "02-formula-on-hover")
        await page.mouse.move(0, 0)

        for chart in ("chart-trend", "chart-lines", "chart-satisfaction", "chart-hours", "chart-demand"):
            await expect(page.locator(f"[data-test={chart}] canvas").first).to_be_visible()
            assert await page.locator(f"[data-test={chart}]").get_attribute("data-blank") is None, chart
            assert await drawn(page, chart) > 500, f"{chart} is blank"
        await expect(page.locator("[data-test=agents-table]")).to_contain_text("8003")
        await expect(page.locator("[data-test=teams-table]")).to_contain_text("二组")
        await expect(page.locator("[data-test=demand-table]")).to_contain_text("投诉")
        await screenshot(page, TEST, "03-whole-page")

        folder = ARTEFACTS / TEST
        async with page.expect_download() as got:
            await page.locator("[data-test=export-kpis-xlsx]").click()
        excel = folder / "kpis.xlsx"
        await (await got.value).save_as(excel)
        in_excel = excel_rate(excel)
        assert in_excel == pytest.approx(totals["connection_rate"]), in_excel
        async with page.expect_download() as got:
            await page.locator("[data-test=export-kpis-csv]").click()
        text = Path(await (await got.value).path()).read_text(encoding="utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        total = next(r for r in table if r[0] == "合计")
        assert float(total[table[0].index("接通率")]) == pytest.approx(totals["connection_rate"])
        assert errors == [], errors
        await context.close()


@pytest.mark.timeout(180)
async def test_the_monthly_report_renders_and_prints_to_pdf(stack: Stack, base: str, seeded: None) -> None:
    password = await person(stack, "zhuguan2", "周主管", role="supervisor")
    async with chromium() as browser:
        page = await browser.new_page(**LOOK)
        errors = await watch_errors(page)
        await page.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; };")
        await sign_in(page, base, "zhuguan2", password, change_to=NEW_PASSWORD, at="/reports/")
        await expect(page.locator("[data-test=kpi-cards]")).to_be_visible()
        month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")  # the page starts on this month
        await page.locator("[data-test=open-monthly]").click()
        await page.wait_for_url(f"**/reports/monthly.html?month={month}")
        report = page.locator("[data-test=monthly-report]")
        await expect(report).to_be_visible()
        year, number = month.split("-")
        await expect(page.locator("[data-test=report-title]")).to_contain_text(
            f"{year}年{int(number)}月运行情况报告")
        assert stack.tokens is not None
        token = await stack.tokens.create(name="monthly-check", role="supervisor")
        status, body = await api(stack, "GET", f"/api/reports/monthly?month={month}", token)
        assert status == 200, body
        assert isinstance(body, dict)
        overview = page.locator("[data-test=overview]")
        await expect(overview).to_contain_text(f"共受理来电{body['totals']['offered']:,}个")
        await expect(overview).to_contain_text(f"接通率为{shown('connection_rate', body['totals']['connection_rate'])}")
        for section in ("一、总体情况", "二、服务质量", "三、诉求分析", "四、坐席与班组"):
            await expect(report).to_contain_text(section)
        for chart in ("chart-daily", "chart-satisfaction", "chart-lines"):
            await expect(page.locator(f"[data-test={chart}] svg").first).to_be_visible()
        await expect(page.locator("[data-test=compare-table] [data-test=row-connection_rate]")).to_contain_text(
            shown("connection_rate", body["totals"]["connection_rate"]))
        await screenshot(page, TEST, "04-monthly")

        await page.locator("[data-test=print]").click()
        assert await page.evaluate("window.__printed") == 1
        await page.emulate_media(media="print")
        await expect(page.locator(".hl-console-bar")).to_be_hidden()
        await expect(page.locator("[data-test=print]")).to_be_hidden()
        await screenshot(page, TEST, "05-monthly-print")
        pdf = ARTEFACTS / TEST / "monthly.pdf"
        await page.pdf(path=str(pdf), format="A4", print_background=True)
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 3, "an A4 report of pages"
        assert errors == [], errors


@pytest.mark.timeout(120)
async def test_a_team_supervisor_asking_for_another_team_is_told_no(stack: Stack, base: str) -> None:
    password = await person(stack, "banzhang", "王班长", role="supervisor", team="一组")
    async with chromium() as browser:
        page = await browser.new_page(**LOOK)
        await sign_in(page, base, "banzhang", password, change_to=NEW_PASSWORD, at="/reports/")
        await expect(page.locator("[data-test=kpi-cards]")).to_be_visible()
        await expect(page.locator("[data-test=team]")).to_contain_text("一组")
        await pick_option(page, "team", "二组")
        async with page.expect_response(lambda r: "/api/reports/kpis?" in r.url) as asked:
            await page.locator("[data-test=run]").click()
        answer = await asked.value
        assert answer.status == 403 and dict(parse_qsl(urlsplit(answer.url).query))["team"] == "二组"
        await expect(page.locator("[data-test=report-error]")).to_contain_text("无权执行此操作")
        await expect(page.locator("[data-test=kpi-cards]")).to_be_hidden()
        await screenshot(page, TEST, "06-other-team-refused")
