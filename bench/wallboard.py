"""`python -m bench wallboard`: the live wallboard (/wallboard/) under load, in a headless Chromium on a real
running stack (loopback).

Synthetic load through the real ACD store and Redis, driven the way the flows and the router do it (no
Asterisk calls): 200 agents (skills no caller waits for, so the router pairs nobody) and 500 callers waiting
for `general`, each with a call record on one of the dialplan's lines. Then 200 changes, one every
`EVERY_S`: 100 new callers queued and 100 agents changing state (ready, paused, on a call, wrap-up, signed out).

Keys: `agents`, `waiting` (at the start), `update_p95_ms` (and p50, max): the change's event on the ACD's Redis
channel (its `at_ms`, Redis's own clock) → the page drew a board showing it (the page's own record, taken in the
animation frame after Vue rendered it); target ≤ 1000. `snapshot_ms` (p50, p95): GET /api/wallboard as the page
reads it. Baseline, in the same run and on the same changes: a plain poll of /api/wallboard every second in a
second tab (`poll_update_p95_ms`, `poll_update_p50_ms`).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from acd.scripts import EVENTS
from acd.store import AcdStore
from bench.common import median, percentile, progress, publish
from bench.desk import CHROMIUM, FLAGS
from bench.headlines import Headline
from bench.loopback import loopback_stack
from hotline.app.stack import Stack
from hotline.calls.models import CallRecord
from hotline.core.accounts.users import NewUser

AGENTS = 200
WAITING = 500
CHANGES = 200
EVERY_S = 0.3

HEADLINES = (
    Headline("update_p95_ms", baseline="poll_update_p95_ms", target="<= 1000"),
    Headline("snapshot_p95_ms"),
)
BUDGET_S = 360
PASSWORD = "bench-wallboard-password-2026"
LINES = ("12345", "12345", "12345", "12329", "12333", "12366")
STATES = ("ready", "paused", "on_call", "wrap_up", "signed_out")
POLL = """() => {
  window.polls = [];
  setInterval(async () => {
    const started = performance.now();
    const board = await (await fetch("/api/wallboard")).json();
    window.polls.push({ at: Date.now(), took: performance.now() - started, waiting: board.waiting,
                        states: Object.fromEntries(board.agents.map((a) => [a.agent, a.state])) });
  }, 1000);
}"""


@asynccontextmanager
async def _browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def _seed(stack: Stack, store: AcdStore) -> tuple[list[str], int]:
    """The synthetic agents (paused) and waiting callers; the demo's own agents paused too."""
    for agent in await store.agents():
        await store.set_agent_state(agent, "paused", reason="bench")
    agents = [f"7{n:03d}" for n in range(AGENTS)]
    for agent in agents:
        await store.add_agent(agent, {"bench_idle": 3})
        await store.set_agent_state(agent, "paused", reason="bench")
    await _callers(stack, store, WAITING)
    return agents, WAITING


async def _callers(stack: Stack, store: AcdStore, n: int) -> None:
    """`n` callers waiting for `general`, each with its call record (the line it dialled)."""
    assert stack.sessions is not None
    ids = [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(n)]
    now = datetime.now(UTC)
    async with stack.sessions.begin() as s:
        s.add_all(CallRecord(call_id=c, caller=f"1390000{i:04d}", dialled=LINES[i % len(LINES)], started_at=now,
                             answered_at=now, route_mode="main", route_skill="general", outcome="queued",
                             steps=[{"at": now.isoformat(), "step": "queued", "detail": {"skill": "general"}}])
                  for i, c in enumerate(ids))
    for c in ids:
        await store.enqueue(c, channel=f"PJSIP/bench-{c}", skill="general", caller="13900000000")


async def _board(browser: Browser, stack: Stack) -> tuple[Page, Page]:
    """The wallboard of a whole-centre supervisor, and a second tab polling the API every second."""
    assert stack.users is not None
    await stack.users.create(NewUser("bench.wall", "supervisor", "大屏", None, None, PASSWORD))
    context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = await context.new_page()
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    await page.goto(f"{base}/wallboard/?wall=1")
    await page.wait_for_url("**/login/**")
    await page.fill("input[name=username]", "bench.wall")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("[data-test=sign-in]")
    await page.wait_for_url("**/wallboard/**")
    await page.locator("[data-test=feed]:has-text('实时')").wait_for(timeout=30_000)
    await page.wait_for_function(f"() => (window.hlWallboard?.draws || []).some((d) => d.waiting >= {WAITING})",
                                 timeout=30_000)
    # the poll in a window of its own (a second tab would hide the board's, whose frames would then be throttled)
    poller = await (await browser.new_context(storage_state=await context.storage_state())).new_page()
    await poller.goto(f"{base}/api/health")
    await poller.evaluate(POLL)
    return page, poller


class Events:
    """The ACD's events as Redis publishes them; `next(match)` waits for the next one matching."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def follow(self, store: AcdStore, ready: asyncio.Event) -> None:
        pubsub = store.redis.pubsub()
        await pubsub.subscribe(EVENTS)
        ready.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self.seen.append(json.loads(message["data"]))
                    self.arrived.set()
        finally:
            await pubsub.aclose()

    async def next(self, after: int, match: dict[str, str]) -> dict[str, Any]:
        while True:
            found = next((e for e in self.seen[after:] if all(e.get(k) == v for k, v in match.items())), None)
            if found is not None:
                return found
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)


def _shown(draws: list[dict[str, Any]], since_ms: int, change: dict[str, Any]) -> dict[str, Any] | None:
    """The first board drawn at or after `since_ms` showing `change`."""
    for d in draws:
        if d["at"] < since_ms:
            continue
        if change["kind"] == "queued" and d["waiting"] >= change["waiting"]:
            return d
        if change["kind"] == "agent" and d["states"].get(change["agent"]) == change["state"]:
            return d
    return None


async def run() -> dict[str, Any]:
    async with loopback_stack("wallboard") as stack, _browser() as browser:
        store = stack.service(AcdStore)
        agents, waiting = await _seed(stack, store)
        progress(f"{len(agents)} agents and {waiting} waiting callers in the ACD")
        page, poller = await _board(browser, stack)
        progress("the wallboard is open; changing the queue and the agents")
        events = Events()
        listening = asyncio.Event()
        watch = asyncio.create_task(events.follow(store, listening))
        await listening.wait()
        changes: list[dict[str, Any]] = []
        started = time.monotonic()
        for i in range(CHANGES):
            before = len(events.seen)
            if i % 2 == 0:
                waiting += 1
                await _callers(stack, store, 1)
                change: dict[str, Any] = {"kind": "queued", "waiting": waiting}
                match = {"event": "queued"}
            else:
                agent, state = agents[i // 2], STATES[(i // 2) % len(STATES)]
                state = "on_call" if state == "paused" else state  # they are paused already: a real change
                await store.set_agent_state(agent, state, reason="bench")
                change = {"kind": "agent", "agent": agent, "state": state}
                match = {"event": "agent", "agent": agent}
            change["at_ms"] = int((await events.next(before, match))["at_ms"])
            changes.append(change)
            await asyncio.sleep(EVERY_S)
        await asyncio.sleep(2.5)  # the last change's slowest poll
        took_s = time.monotonic() - started
        progress(f"the wallboard tab is {await page.evaluate('document.visibilityState')}")
        draws = await page.evaluate("window.hlWallboard.draws")
        polls = await poller.evaluate("window.polls")
        watch.cancel()
        seen = [(c, d) for c in changes if (d := _shown(draws, c["at_ms"], c)) is not None]
        live = [d["at"] - c["at_ms"] for c, d in seen]
        fetch = [d["got"] - d["asked"] for _, d in seen]
        render = [d["dom"] - d["got"] for _, d in seen]
        frame = [d["at"] - d["dom"] for _, d in seen]
        polled = [d["at"] - c["at_ms"] for c in changes if (d := _shown(polls, c["at_ms"], c)) is not None]
        snapshot = [p["took"] for p in polls]
        progress(f"{len(changes)} changes in {took_s:.0f} s; {len(live)} seen on the board, {len(polled)} by the poll")
        return publish("wallboard", {
            "agents": len(agents), "waiting": WAITING, "changes": len(changes), "seen": len(live),
            "update_p95_ms": round(percentile(live, 95)), "update_p50_ms": round(median(live)),
            "update_max_ms": round(max(live, default=0)),
            "page_fetch_p50_ms": round(median(fetch)), "page_render_p50_ms": round(median(render)),
            "page_frame_p50_ms": round(median(frame)),
            "snapshot_ms": round(median(snapshot)), "snapshot_p95_ms": round(percentile(snapshot, 95)),
            "poll_update_p95_ms": round(percentile(polled, 95)), "poll_update_p50_ms": round(median(polled)),
            "poll_seen": len(polled), "target_update_p95_ms": 1000,
        })
