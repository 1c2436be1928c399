"""`python -m bench desk`: 50 citizens' calls offered to 10 agents working at the desk page in a real browser
(Debian's chromium through Playwright), each agent's phone the softphone in the page (`phone: webrtc`).

Every agent signs in on /desk/, goes ready, and for each call that rings in the page clicks 接听, waits for the
citizen's audio to arrive (WebRTC stats), talks a few seconds and hangs up. Citizens (the simulated world) call
12345 about every 1.5 s and speak until the agent hangs up.

Keys: `pop_p95_ms` — the ACD's offer (its `offered` event's time) → the caller's number and flags on the
agent's screen (the page's own record of when it drew them; target ≤ 300 ms); `full_pop_p95_ms` → the whole
screen pop (line, keys, earlier calls and tickets, read from /api/desk/pop);
`answer_to_audio_p95_ms` — the 接听 click → the first packet of the citizen's audio in the page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from playwright.async_api import Browser, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from acd.settings import AcdSettings
from bench.common import median, percentile, progress, publish
from bench.headlines import Headline
from bench.loopback import loopback_stack
from hotline.app.settings import Settings
from hotline.app.stack import Stack
from hotline.core.accounts.users import NewUser
from integration.world.call import WorldCall, WorldCaller

AGENTS = tuple(str(8101 + i) for i in range(10))
CALLS = 50
EVERY_S = 1.5
TALK_S = 3.0

HEADLINES = (
    Headline("pop_p95_ms", target="<= 300"),
    Headline("full_pop_p95_ms"),
    Headline("answer_to_audio_p95_ms"),
)
BUDGET_S = 420
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
         "--autoplay-policy=no-user-gesture-required", "--disable-background-timer-throttling",
         "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"]
PASSWORD = "bench-desk-password-2026"
CITIZEN = "/".join(["say:demo-thanks"] * 12)


def _dialplan(home: Path) -> Path:
    """The shipped dialplan with ten general agents whose phones are the browser."""
    plan = yaml.safe_load(Settings().core.dialplan_file.read_text(encoding="utf-8"))
    plan["agents"] = [{"id": a, "name": f"坐席{a}", "seat": "general", "group": "一组", "skills": {"general": 4},
                       "phone": "webrtc"} for a in AGENTS]
    path = home / "bench-desk.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@asynccontextmanager
async def _browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def _desk(browser: Browser, stack: Stack, agent: str) -> Page:
    """Agent `agent` signed in at the desk (the one-time password changed), phone registered, ready."""
    assert stack.users is not None
    _, one_time = await stack.users.create(NewUser(f"a{agent}", "agent", f"坐席{agent}", agent, "一组"))
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await page.goto(f"http://127.0.0.1:{stack.settings.core.ports.http}/login/")
    await page.fill("input[name=username]", f"a{agent}")
    await page.fill("input[name=password]", str(one_time))
    await page.click("[data-test=sign-in]")
    await page.fill("input[name=new]", PASSWORD)
    await page.fill("input[name=again]", PASSWORD)
    await page.click("[data-test=change-password]")
    await page.wait_for_url("**/desk/")
    await page.locator("[data-test=phone-state]:has-text('已注册')").wait_for(timeout=30_000)
    await page.click("[data-test=ready]")
    return page


async def _answer_calls(page: Page, answered: list[float], stop: asyncio.Event) -> None:
    """Answer every call that rings in this page; the answer → first citizen audio times into `answered`."""
    while not stop.is_set():
        try:
            await page.wait_for_function("() => window.hotlineDesk.incoming && window.hotlineDesk.call", timeout=2000)
        except PlaywrightTimeout:  # nothing rang: look again
            continue
        before = await page.evaluate("() => window.hotlineDesk.phone.inboundAudio()")
        clicked = time.monotonic()
        await page.click("[data-test=answer]")
        while time.monotonic() - clicked < 10:
            now = await page.evaluate("() => window.hotlineDesk.phone.inboundAudio()")
            if now and now.get("packetsReceived", 0) > ((before or {}).get("packetsReceived", 0)):
                answered.append((time.monotonic() - clicked) * 1000)
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(TALK_S)
        await page.evaluate("() => window.hotlineDesk.phone.hangup()")
        await page.wait_for_function("() => !window.hotlineDesk.incoming", timeout=10_000)


async def _calls(world: WorldCaller) -> list[WorldCall]:
    calls = []
    for i in range(CALLS):
        calls.append(await world.start("12345", f"1390003{i:04d}", script=CITIZEN, timeout_s=180))
        if i % 10 == 9:
            progress(f"{i + 1} calls placed")
        await asyncio.sleep(EVERY_S)
    return calls


async def _pop_route_ms(stack: Stack) -> float | None:
    """The pop route's mean time in the service, from its request-latency histogram."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{stack.settings.core.ports.http}/metrics") as r:
            text = await r.text()
    values = {}
    for line in text.splitlines():
        if line.startswith("hotline_http_request_seconds_") and "/api/desk/pop/" in line:
            name, value = line.rsplit(" ", 1)
            values[name.split("{")[0].rsplit("_", 1)[1]] = float(value)
    if not values.get("count"):
        return None
    return round(values["sum"] / values["count"] * 1000, 1)


async def run() -> dict[str, Any]:
    async with loopback_stack("desk", _dialplan, acd=AcdSettings(wrap_up_s=1.0, ring_timeout_s=20.0)) as stack, \
            _browser() as browser:
        assert stack.world_ami is not None and stack.data is not None and stack.calls is not None
        pages = [await _desk(browser, stack, agent) for agent in AGENTS]
        progress(f"{len(pages)} agents signed in, phones registered, ready")
        answered: list[float] = []
        stop = asyncio.Event()
        answering = [asyncio.create_task(_answer_calls(p, answered, stop)) for p in pages]
        world = WorldCaller(stack.world_ami, stack.data.inner_of("heard"), stack.data.host, stack.calls)
        calls = await _calls(world)
        await asyncio.gather(*(c.outcome() for c in calls), return_exceptions=True)
        stop.set()
        await asyncio.gather(*answering, return_exceptions=True)
        timings = [t for p in pages for t in await p.evaluate("() => window.hotlineDesk.timings")]
        served = await _pop_route_ms(stack)
    pops = [float(t["pop_ms"]) for t in timings]
    feed = [float(t["feed_ms"]) for t in timings if t["feed_ms"] >= 0]
    opened = [float(t["opened_ms"]) for t in timings]
    full = [float(t["full_ms"]) for t in timings]
    return publish("desk", {
        "pop_p95_ms": round(percentile(pops, 95)), "pop_p50_ms": round(median(pops)),
        "answer_to_audio_p95_ms": round(percentile(answered, 95)),
        "answer_to_audio_p50_ms": round(median(answered)),
        "feed_p50_ms": round(median(feed)), "feed_p95_ms": round(percentile(feed, 95)),
        "full_pop_p50_ms": round(median(full)), "full_pop_p95_ms": round(percentile(full, 95)),
        "opened_p50_ms": round(median(opened)), "pop_route_mean_ms": served,
        "calls": CALLS, "offers_seen": len(pops), "answered_with_audio": len(answered), "agents": len(AGENTS),
        "scenario": {"arrivals": f"one call every {EVERY_S} s", "talk_s": TALK_S, "wrap_up_s": 1.0,
                     "pop": "the ACD's offered event time (Redis) → the caller's number drawn (the page's clock; "
                            "one host); full_pop: → the whole pop drawn",
                     "answer_to_audio": "接听 click → the first inbound RTP packet in the page's WebRTC stats",
                     "browser": "one headless Debian chromium, a context per agent, fake microphone"},
        "target": {"pop_p95_ms": 300},
    })
