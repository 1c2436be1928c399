"""Measures on nuisance callers on real calls (R-ACC-7): a warned caller hears the D.4.3 warning, is queued and
reaches the agent flagged (the agent's live feed and call view carry `watch`); a caller under a suspension
hears the polite refusal while it lasts and is served again once its period has run out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import update

from hotline.app.stack import Stack
from hotline.calls.models import CallerMeasure
from integration.world.call import WorldCaller
from tests.e2e.conftest import api, only_ready, running_stack, stack_settings, steps

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running_stack(stack_settings(tmp_path_factory.mktemp("home"))) as s:
        yield s


@contextlib.asynccontextmanager
async def live_feed(stack: Stack, token: str) -> AsyncIterator[list[dict[str, Any]]]:
    """The `/api/acd/events` websocket as the token sees it; the events so far in the list yielded."""
    seen: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(
            f"http://127.0.0.1:{stack.settings.core.ports.http}/api/acd/events",
            headers={"Authorization": f"Bearer {token}"}) as ws:

        async def read() -> None:
            async for message in ws:
                seen.append(message.json())

        reading = asyncio.create_task(read())
        try:
            yield seen
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading


async def decide(stack: Stack, token: str, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = await api(stack, "POST", "/api/caller-measures", token, body)
    assert status == 201, answer
    assert isinstance(answer, dict)
    return answer


async def test_a_warned_caller_hears_the_warning_is_queued_and_the_offer_carries_the_watch_flag(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None
    sup = await stack.tokens.create(name="sup", role="supervisor")
    agent = await stack.tokens.create(name="a1", role="agent", agent_id="8001")
    number = "13500135101"
    await decide(stack, sup, {"number": number, "measure": "warning", "reason": "无实质诉求反复来电"})
    await only_ready(stack, "8001")
    async with live_feed(stack, agent) as events:
        warned = await world_caller.call("12345", number, listen_s=14)
        record = warned.record
        assert record is not None and record.agent == "8001", steps(record)
        assert steps(record)[:5] == ["greeting", "watch_warning", "caller_lists", "measure", "queued"], steps(record)
        for _ in range(50):
            if any(e.get("event") == "offered" and e.get("call") == record.call_id for e in events):
                break
            await asyncio.sleep(0.1)
    offered = next(e for e in events if e.get("event") == "offered" and e.get("call") == record.call_id)
    assert offered["agent"] == "8001" and offered["watch"] is True and "watch" in offered["flags"].split(",")
    status, view = await api(stack, "GET", f"/api/calls/{record.call_id}", agent)
    assert status == 200 and isinstance(view, dict)
    assert view["watch"] is True and view["measure"]["measure"] == "warning" and "watch" in view["flags"]


async def test_a_suspended_caller_is_refused_while_it_lasts_and_served_after_it_expires(
        stack: Stack, world_caller: WorldCaller) -> None:
    assert stack.tokens is not None and stack.sessions is not None
    sup = await stack.tokens.create(name="sup2", role="supervisor")
    number = "13500135102"
    await decide(stack, sup, {"number": number, "measure": "warning", "reason": "辱骂话务员"})
    suspension = await decide(stack, sup, {"number": number, "measure": "suspend", "reason": "警告后仍辱骂",
                                           "hours": 24})
    await only_ready(stack, "8001")
    refused = await world_caller.call("12345", number, listen_s=15)
    assert refused.record is not None and refused.record.outcome == "measure_suspend", refused.record
    assert steps(refused.record) == ["measure"] and refused.record.agent is None
    detail = refused.record.steps[0]["detail"]
    assert detail["prompt"] == "service_suspended" and detail["decision"] == suspension["id"]
    assert refused.speech is not None and refused.speech.has_speech  # the refusal was heard

    async with stack.sessions.begin() as s:  # the period runs out: moved through the data, not the clock
        await s.execute(update(CallerMeasure).where(CallerMeasure.id == suspension["id"]).values(
            ends_at=datetime.now(UTC) - timedelta(seconds=1)))
    served = await world_caller.call("12345", number, listen_s=14)
    record = served.record
    assert record is not None and record.agent == "8001", steps(record)
    assert "watch_warning" in steps(record) and "queued" in steps(record)  # the warning before it applies again
    status, history = await api(stack, "GET", f"/api/caller-measures/{number}", sup)
    assert status == 200 and isinstance(history, dict)
    assert history["in_force"]["measure"] == "warning"
    assert [(d["measure"], d["decided_by"]) for d in history["history"]] == [("warning", "sup2"), ("suspend", "sup2")]
