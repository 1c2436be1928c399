"""A wallboard snapshot from the ACD's real Redis state and stored call records: a waiting caller counted on the
line their record dialled, an agent's caller's wait, a team supervisor shown their team only (and only the alerts
about it), an agent paused too long."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from acd.scripts import PREFIX
from acd.store import AcdStore, now_ms
from console.settings import WallboardSettings
from console.wallboard.live import RedisLive
from console.wallboard.snapshot import Wallboard
from console.wallboard.stored import StoredFigures
from dialplans.loader import load_dialplan
from hotline.app.settings import Settings
from hotline.calls.models import CallRecord
from hotline.core.db.engine import SessionFactory
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client
from hotline.core.web.health import PartHealth
from hotline.core.web.policy import Teams

PLAN = load_dialplan(Settings().core.dialplan_file)
TEAMS = Teams({"8001": "一组", "8002": "一组", "8003": "二组"})
SETTINGS = WallboardSettings(sl_target=0.8, wait_alert_s=60, pause_alert_s=900, recordings_backlog=50,
                             outbox_backlog=20, callback_overdue_min=30, sl_min_offered=3, figures_every_s=0)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AcdStore]:
    server = RedisServer(tmp_path / "redis", free_port())
    await server.start()
    client = redis_client(server.url)
    try:
        yield AcdStore(client)
    finally:
        await client.aclose()
        await server.stop()


async def caller(sessions: SessionFactory, store: AcdStore, call_id: str, line: str, skill: str) -> None:
    now = datetime.now(UTC)
    async with sessions.begin() as s:
        s.add(CallRecord(call_id=call_id, caller="13800138000", dialled=line, started_at=now, answered_at=now,
                         route_mode="main", route_skill=skill, outcome="queued",
                         steps=[{"at": now.isoformat(), "step": "queued", "detail": {"skill": skill}}]))
    await store.enqueue(call_id, channel=f"PJSIP/carrier-{call_id}", skill=skill, caller="13800138000")


async def test_the_board_shows_the_queue_by_line_and_a_team_its_own_agents(
        store: AcdStore, sqlite_sessions: SessionFactory) -> None:
    for agent in ("8001", "8002", "8003"):
        await store.add_agent(agent, {"general": 3})
    board = Wallboard(RedisLive(store), StoredFigures(sqlite_sessions, SETTINGS, None, None, None), PLAN, SETTINGS)
    await caller(sqlite_sessions, store, "c1", "12345", "general")
    await store.redis.hset(f"{PREFIX}call:c1", "entered", now_ms() - 12_000)  # waited 12 s when answered
    await store.set_agent_state("8001", "ready")
    reservation = await store.reserve()
    assert reservation is not None and reservation.agent == "8001"
    assert await store.connected(reservation)
    await caller(sqlite_sessions, store, "c2", "12345", "general")
    await caller(sqlite_sessions, store, "c3", "12366", "tax")
    await store.set_agent_state("8002", "paused", reason="培训")
    await store.redis.hset(f"{PREFIX}agent:8002", "since", now_ms() - 1000_000)
    await store.set_agent_state("8003", "paused", reason="午餐")
    await store.redis.hset(f"{PREFIX}agent:8003", "since", now_ms() - 2000_000)

    team = await board.snapshot(TEAMS.agents_of("一组"), TEAMS, {"redis": PartHealth(True, "PONG")})
    lines = {row["line"]: row for row in team["lines"]}
    assert team["lines"][0]["line"] == "12345" and team["lines"][0]["name"] == "12345政务服务便民热线"
    assert (lines["12345"]["waiting"], lines["12366"]["waiting"], team["waiting"]) == (1, 1, 2)
    assert lines["12345"]["offered_today"] == 3 - 1  # c3 is 12366's
    skills = {row["skill"]: row for row in team["skills"]}
    assert (skills["general"]["waiting"], skills["tax"]["waiting"]) == (1, 1)
    agents = {a["agent"]: a for a in team["agents"]}
    assert set(agents) == {"8001", "8002"}  # 8003 is 二组's
    assert agents["8001"]["state"] == "on_call" and agents["8001"]["call_id"] == "c1"
    assert 11.5 <= agents["8001"]["caller_wait_s"] <= 13 and agents["8001"]["team"] == "一组"
    assert agents["8002"]["reason"] == "培训" and agents["8002"]["since_s"] >= 999
    assert team["states"]["on_call"] == 1 and team["states"]["paused"] == 1
    assert [a["subject"] for a in team["alerts"] if a["kind"] == "long_pause"] == ["agent:8002"]

    centre = await board.snapshot(None, TEAMS, {"ami": PartHealth(False, "disconnected")})
    assert {a["agent"] for a in centre["agents"]} == {"8001", "8002", "8003"}
    assert {a["subject"] for a in centre["alerts"]} >= {"agent:8002", "agent:8003", "part:ami"}
    assert centre["alerts"][0]["level"] == "critical"
    assert centre["callbacks"] == {"due": 0, "voice_messages_due": 0, "overdue": 0}
