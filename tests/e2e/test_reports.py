"""A seeded day of real calls through the world, then the day's report equals a hand count of exactly those calls
(R-KPI-1): every KPI, the volumes by line, and the XLSX export opened with openpyxl."""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from openpyxl import load_workbook

from hotline.app.stack import Stack
from hotline.calls.models import CallRecord
from hotline.calls.records import CallView
from hotline.core.clock import china_day
from integration.world.call import WorldCall, WorldCaller
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, wait_for_step
from tests.e2e.test_after_agent import agent_talks_for
from tests.e2e.test_tickets import consultation, submitted

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


async def rated(stack: Stack, call: WorldCall, key: str) -> None:
    sip = await call.answered()
    await wait_for_step(stack, sip, "rating_prompt", timeout=40)
    await call.press(key)


async def queued(stack: Stack, call: WorldCall) -> str:
    sip = await call.answered()
    await wait_for_step(stack, sip, "queued", timeout=20)
    return sip


async def settled(stack: Stack, call_ids: list[str]) -> list[CallView]:
    """The calls' records once each has ended and, if answered, has its wrap-up written (the state log)."""
    assert stack.calls is not None
    for _ in range(100):
        rows = await raw_rows(stack, call_ids)
        if len(rows) == len(call_ids) and all(r["ended"] and (not r["agent"] or r["wrap_up_s"] is not None)
                                              for r in rows):
            return [v for v in [await stack.calls.get(c) for c in call_ids] if v is not None]
        await asyncio.sleep(0.2)
    raise AssertionError("the calls' report columns were not all written")


@pytest.mark.timeout(240)
async def test_the_days_report_equals_a_hand_count_of_the_calls_made(stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.acd is not None and stack.calls is not None
    admin = await stack.tokens.create(name="boss", role="admin")
    for agent in ("8001", "8002"):
        await agent_talks_for(stack, agent, 2)

    # Nobody free: one caller leaves after a long wait, one at once (a short abandon), one books a callback.
    await only_ready(stack)
    left = await world_caller.start("12345", "13700137001", script="wait:60")
    short = await world_caller.start("12345", "13700137002", script="wait:60")
    booker = await world_caller.start("12345", "13700137003", script="wait:60")
    await queued(stack, short)
    await short.hangup()
    sip = await queued(stack, booker)
    await wait_for_step(stack, sip, "self_service_offer", timeout=30)
    await booker.press("2")
    await queued(stack, left)
    await asyncio.sleep(7)
    await left.hangup()
    # One answered late: an agent signs in after 16 s in the queue; the caller hangs up at the rating.
    late = await world_caller.start("12345", "13700137004", script="wait:28")
    await queued(stack, late)
    await asyncio.sleep(16)
    await only_ready(stack, "8002")
    late_done = await late.outcome()
    # Two answered at once, rated 1 and 4; then a merged number (12315, 市场监管) answered, not rated.
    await only_ready(stack, "8001", "8002")
    first = await world_caller.start("12345", "13700137005", script="wait:60")
    second = await world_caller.start("12345", "13700137006", script="wait:60")
    await asyncio.gather(rated(stack, first, "1"), rated(stack, second, "4"))
    await only_ready(stack, "8001")
    merged = await world_caller.call("12315", "13700137007", script="wait:12")
    outcomes = [await c.outcome() for c in (left, short, booker, first, second)] + [late_done, merged]
    records = [o.record for o in outcomes]
    assert all(r is not None for r in records), outcomes
    views = await settled(stack, [r.call_id for r in records if r is not None])
    by_caller = {v.caller: v for v in views}
    assert by_caller["13700137001"].outcome == "abandoned_in_queue", by_caller["13700137001"]
    assert by_caller["13700137003"].outcome == "callback_requested"
    answered_first = by_caller["13700137005"]
    assert answered_first.agent is not None
    its_agent = await stack.tokens.create(name="its-agent", role="agent", agent_id=answered_first.agent)
    ticket = await submitted(stack, its_agent, consultation(answered_first.call_id))
    assert ticket["status"] != "draft"

    day = china_day(views[0].started_at).isoformat()
    status, body = await api(stack, "GET", f"/api/reports/kpis?from={day}&to={day}&by=day", admin)
    assert status == 200, body
    assert isinstance(body, dict)
    k = body["totals"]
    rows = await raw_rows(stack, [v.call_id for v in views])
    answered = [r for r in rows if r["agent"]]
    waits = [r["wait_s"] for r in answered]
    short_wait = by_row(rows, "13700137002")["wait_s"]
    left_wait = by_row(rows, "13700137001")["wait_s"]
    late_wait = by_row(rows, "13700137004")["wait_s"]
    assert short_wait < 5 <= left_wait and late_wait > 15, (short_wait, left_wait, late_wait)
    expected = {
        "offered": 7, "answered": 4, "self_served": 1, "connection_rate": round(5 / 7, 4),
        "queued": 7, "answered_15s": 3, "answer_rate_15s": round(3 / 7, 4),
        "abandoned": 2, "short_abandoned": 1, "abandon_rate": round(2 / 7, 4),
        "abandon_rate_excl_short": round(1 / 6, 4), "voice_messages": 0,
        "wait_avg_s": round(sum(waits) / 4, 1), "wait_p95_s": max(math.ceil(w) for w in waits),
        "talk_avg_s": round(sum(r["talk_s"] for r in answered) / 4, 1),
        "wrap_up_avg_s": round(sum(r["wrap_up_s"] for r in answered) / 4, 1),
        "rated": 2, "rating_coverage": 0.5, "satisfaction": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0},
        "satisfaction_rate": 0.5, "revisits_due": 0, "revisits_done": 0, "revisit_coverage": None,
        "revisit_results": {}, "callbacks_requested": 1, "callbacks_done": 0, "callbacks_reached": 0, "tickets": 1,
    }
    assert {key: k[key] for key in expected} == expected
    assert body["periods"][0]["period"] == day and body["periods"][0]["offered"] == 7

    status, volumes = await api(stack, "GET", f"/api/reports/volumes?from={day}&to={day}&dimension=line", admin)
    assert status == 200
    assert isinstance(volumes, dict)
    lines = {r["key"]: (r["offered"], r["answered"], r["abandoned"]) for r in volumes["rows"]}
    assert lines == {"12345": (6, 3, 2), "12315": (1, 1, 0)}

    sheet = await exported(stack, admin, f"report=kpis&format=xlsx&from={day}&to={day}&by=day")
    head, first_row = sheet[0], sheet[1]
    cells = dict(zip(head, first_row, strict=True))
    assert (cells["呼入量"], cells["人工接听"], cells["自助办结"], cells["放弃"], cells["短时放弃"]) == (7, 4, 1, 2, 1)
    assert cells["接通率"] == expected["connection_rate"] and cells["15秒接通率"] == expected["answer_rate_15s"]
    assert cells["平均等待(秒)"] == expected["wait_avg_s"] and cells["满意率"] == 0.5
    assert (cells["非常满意"], cells["不满意"], cells["工单量"]) == (1, 1, 1)


def by_row(rows: list[dict[str, Any]], caller: str) -> dict[str, Any]:
    return next(r for r in rows if r["caller"] == caller)


async def raw_rows(stack: Stack, call_ids: list[str]) -> list[dict[str, Any]]:
    """The calls' stored report columns, as a person checking by hand reads them."""
    assert stack.calls is not None
    async with stack.calls.sessions() as s:
        found = [await s.get(CallRecord, c) for c in call_ids]
    return [{"caller": r.caller, "agent": r.agent, "wait_s": r.wait_s, "talk_s": r.talk_s, "wrap_up_s": r.wrap_up_s,
             "ended": r.ended_at is not None} for r in found if r is not None]


async def exported(stack: Stack, token: str, query: str) -> list[tuple[Any, ...]]:
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{stack.settings.core.ports.http}/api/reports/export?{query}",
            headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status == 200 and r.headers["Content-Disposition"].startswith("attachment")
        book = load_workbook(io.BytesIO(await r.read()))
    sheet = book.active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))
