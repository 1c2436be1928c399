"""Tokens and sessions (issue 15): tokens expire (401 `auth_expired`), are rotated for the same principal with
an optional grace period (over `hotline token rotate` too), every create / revoke / rotate is audited without
the token, and an address guessing tokens is throttled (429, audited)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from hotline.app.cli import _ensure_admin_token
from hotline.app.plugins import upgrade_database
from hotline.app.settings import Settings
from hotline.app.stack import Stack
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.web.audit import AuditLog
from hotline.core.web.auth import THROTTLE
from hotline.core.web.models import ApiToken
from hotline.core.web.throttle import FailureThrottle, ThrottleLimits
from hotline.core.web.tokens import Actor, ApiTokens
from tests.security.ticket_app import database_url
from tests.webapp import web_app

__all__ = ["database_url"]  # the fixture: each test of `api` on SQLite and PostgreSQL


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: ApiTokens
    audit: AuditLog
    sessions: SessionFactory

    async def status(self, token: str) -> tuple[int, str | None]:
        response = await self.client.get("/api/calls", headers={"Authorization": f"Bearer {token}"})
        body = await response.json()
        return response.status, body["error"]["id"] if "error" in body else None


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """The web app on SQLite and on PostgreSQL."""
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    tokens, audit = ApiTokens(sessions), AuditLog(sessions)
    try:
        async with TestClient(TestServer(web_app(sessions, tokens, audit=audit))) as client:
            yield Api(client, tokens, audit, sessions)
    finally:
        await engine.dispose()


async def _expire(sessions: SessionFactory, token_id: int) -> None:
    async with sessions.begin() as s:
        await s.execute(update(ApiToken).where(ApiToken.id == token_id)
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))


async def test_a_persons_token_expires_after_its_lifetime_and_is_refused_as_expired(api: Api) -> None:
    issued = await api.tokens.issue(name="sup", role="supervisor")
    (row,) = [t for t in await api.tokens.list() if t["id"] == issued.id]
    expires = datetime.fromisoformat(str(row["expires_at"]))
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)
    assert await api.status(issued.token) == (200, None)
    await _expire(api.sessions, issued.id)
    assert await api.status(issued.token) == (401, "auth_expired")
    assert [t["expired"] for t in await api.tokens.list() if t["id"] == issued.id] == [True]
    assert await api.status("hl_not-a-token") == (401, "auth_invalid")


async def test_lifetime_is_configured_and_machine_tokens_need_not_expire(
        sqlite_sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_TOKEN_DAYS", "7")
    tokens = ApiTokens(sqlite_sessions)
    assert tokens.lifetime == timedelta(days=7)
    await tokens.issue(name="person", role="auditor")
    await tokens.issue(name="exporter", role="engineer", machine=True)
    await tokens.issue(name="short-machine", role="engineer", machine=True, lifetime=timedelta(hours=1))
    person, machine, short = await tokens.list()
    assert datetime.fromisoformat(str(person["expires_at"])) - datetime.now(UTC) <= timedelta(days=7)
    assert machine["expires_at"] is None
    assert datetime.fromisoformat(str(short["expires_at"])) - datetime.now(UTC) <= timedelta(hours=1)


async def test_rotation_gives_the_same_principal_a_new_token_and_retires_the_old(api: Api) -> None:
    old = await api.tokens.issue(name="ops-1", role="agent", agent_id="8001")
    new = await api.tokens.rotate(old.id, by=Actor("admin-a"))
    assert new is not None and new.id != old.id and new.token != old.token
    assert await api.status(old.token) == (401, "auth_invalid")
    assert await api.status(new.token) == (200, None)
    who = await api.tokens.verify(new.token)
    assert who is not None and (who.name, who.role, who.agent_id) == ("ops-1", "agent", "8001")
    assert await api.tokens.rotate(old.id) is None  # a retired token cannot be rotated again


async def test_a_grace_period_keeps_the_old_token_working_briefly(api: Api) -> None:
    old = await api.tokens.issue(name="wallboard", role="supervisor", machine=True)
    new = await api.tokens.rotate(old.id, grace=timedelta(seconds=1))
    assert new is not None
    assert await api.status(old.token) == (200, None)
    assert await api.status(new.token) == (200, None)
    await asyncio.sleep(1.2)
    assert await api.status(old.token) == (401, "auth_expired")
    assert await api.status(new.token) == (200, None)
    listed = {t["id"]: t for t in await api.tokens.list()}
    assert listed[old.id]["expires_at"] is not None and listed[new.id]["expires_at"] is None  # still a machine one


async def test_create_revoke_and_rotate_are_audited_without_the_token(api: Api) -> None:
    first = await api.tokens.issue(name="sup", role="supervisor", by=Actor("cli:root", remote="10.0.0.9"))
    second = await api.tokens.rotate(first.id, by=Actor("cli:root"))
    assert second is not None
    assert await api.tokens.revoke(second.id, by=Actor("admin-b"))
    assert not await api.tokens.revoke(second.id)  # nothing to revoke: no row
    ours = {f"tokens/{first.id}", f"tokens/{second.id}"}
    rows = [e for e in reversed(await api.audit.recent())
            if e["action"].startswith("tokens.") and e["resource"] in ours]
    assert [(e["actor"], e["action"], e["resource"]) for e in rows] == [
        ("cli:root", "tokens.create", f"tokens/{first.id}"),
        ("cli:root", "tokens.rotate", f"tokens/{second.id}"),
        ("admin-b", "tokens.revoke", f"tokens/{second.id}")]
    assert rows[0]["remote"] == "10.0.0.9" and rows[1]["detail"]["old"] == first.id
    text = json.dumps(rows)
    assert first.token not in text and second.token not in text and "hl_" not in text


async def test_hotline_token_rotate_on_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "HOTLINE_HOME_DIR": str(tmp_path)}

    def hotline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hotline.app.cli", "token", *args], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    created = hotline("create", "--name", "sup", "--role", "supervisor")
    assert created.returncode == 0, created.stderr
    rotated = hotline("rotate", "1", "--grace", "30")
    assert rotated.returncode == 0, rotated.stderr
    answer = json.loads(rotated.stdout)
    assert answer["replaces"] == 1 and answer["token"].startswith("hl_")
    assert hotline("rotate", "99").returncode == 1
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        tokens = ApiTokens(session_factory(engine))
        assert await tokens.verify(created.stdout.strip()) is not None  # within its grace
        assert await tokens.verify(answer["token"]) is not None
        rows = [e for e in await AuditLog(session_factory(engine)).recent() if e["action"].startswith("tokens.")]
        assert {e["action"] for e in rows} == {"tokens.create", "tokens.rotate"}
        assert all(e["actor"].startswith("cli:") for e in rows)
    finally:
        await engine.dispose()


async def test_an_address_guessing_tokens_is_throttled_and_audited(api: Api) -> None:
    good = await api.tokens.create(name="sup", role="supervisor")
    limits = api.client.app[THROTTLE].limits
    for i in range(limits.failures):
        assert await api.status(f"hl_guess-{i}") == (401, "auth_invalid")
    response = await api.client.get("/api/calls", headers={"Authorization": f"Bearer {good}"})
    assert response.status == 429 and (await response.json())["error"]["id"] == "auth_throttled"
    assert 0 < int(response.headers["Retry-After"]) <= limits.block_s
    assert (await api.client.get("/api/health")).status in (200, 503)  # public routes still answer
    (row,) = [e for e in await api.audit.recent() if e["action"] == "auth.throttled"]
    assert (row["allowed"], row["remote"], row["resource"]) == (False, "127.0.0.1", "/api/calls")


def test_the_throttle_forgets_after_the_block_and_counts_only_the_window() -> None:
    now = [0.0]
    throttle = FailureThrottle(ThrottleLimits(failures=3, window_s=10, block_s=60, tracked=2), clock=lambda: now[0])
    assert not throttle.failed("a") and not throttle.failed("a")
    now[0] = 11  # the first two fell out of the window
    assert not throttle.failed("a") and not throttle.failed("a")
    assert throttle.failed("a")  # the third within ten seconds starts a block
    assert throttle.blocked_for("a") == 60 and throttle.blocked_for("b") == 0
    now[0] = 72
    assert throttle.blocked_for("a") == 0
    throttle.failed("b")
    throttle.failed("c")
    throttle.failed("d")  # only `tracked` addresses are remembered: memory stays bounded
    assert len(throttle._addresses) == 2



async def test_admins_rotate_over_the_api(api: Api) -> None:
    admin = await api.tokens.create(name="root", role="admin")
    old = await api.tokens.issue(name="sup", role="supervisor")
    as_admin = {"Authorization": f"Bearer {admin}"}
    refused = await api.client.post(f"/api/tokens/{old.id}/rotate", headers={"Authorization": f"Bearer {old.token}"})
    assert refused.status == 403
    rotated = await api.client.post(f"/api/tokens/{old.id}/rotate?grace_s=60", headers=as_admin)
    assert rotated.status == 201
    body = await rotated.json()
    assert body["replaces"] == old.id and await api.status(body["token"]) == (200, None)
    assert await api.status(old.token) == (200, None)  # within its minute of grace
    assert (await api.client.post("/api/tokens/999/rotate", headers=as_admin)).status == 404
    bad = await api.client.post(f"/api/tokens/{old.id}/rotate?grace_s=-1", headers=as_admin)
    assert bad.status == 400
    rows = [e for e in await api.audit.recent() if e["action"] == "tokens.rotate" and e["actor"] == "root"]
    assert any(e["resource"] == f"tokens/{body['id']}" and e["remote"] == "127.0.0.1" for e in rows)
    assert body["token"] not in json.dumps(rows)


async def test_make_runs_admin_token_is_renewed_once_it_has_expired(sqlite_sessions: SessionFactory,
                                                                     tmp_path: Path) -> None:
    stack = Stack(Settings())
    stack.tokens = tokens = ApiTokens(sqlite_sessions)
    kept = tmp_path / "admin-token"
    assert "created" in await _ensure_admin_token(stack, kept)
    first = kept.read_text().strip()
    assert "created" not in await _ensure_admin_token(stack, kept) and kept.read_text().strip() == first
    (row,) = await tokens.list()
    await _expire(sqlite_sessions, int(str(row["id"])))
    assert "created" in await _ensure_admin_token(stack, kept)
    renewed = kept.read_text().strip()
    assert renewed != first and await tokens.verify(renewed) is not None
    assert kept.stat().st_mode & 0o777 == 0o600
