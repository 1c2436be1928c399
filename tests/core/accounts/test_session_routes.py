"""Signing in and out over the API: the session body and cookie, who the session is, signing out, changing
one's password, the one-time password gate; bearer tokens keep working beside sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import CLI, ApiTokens
from tests.core.accounts.serving import (
    PASSWORD,
    Accounts,
    Client,
    accounts_of,
    app_with,
    client_of,
    csrf,
    error_id,
    log_in,
)


@pytest.fixture
async def accounts(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[Accounts]:
    async with accounts_of(sqlite_sessions, tmp_path) as made:
        await made.add("wang.fang", "agent", agent="8001", team="一组")
        yield made


@pytest.fixture
async def client(sqlite_sessions: SessionFactory, accounts: Accounts) -> AsyncIterator[Client]:
    async with client_of(app_with(sqlite_sessions, accounts)) as c:
        yield c


async def audit_rows(sessions: SessionFactory) -> list[AuditEntry]:
    async with sessions() as s:
        return list((await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def actions(sessions: SessionFactory) -> list[str]:
    async with sessions() as s:
        return list((await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())


async def test_sign_in_gives_the_user_the_csrf_token_and_a_strict_httponly_cookie(client: Client,
                                                                                   accounts: Accounts) -> None:
    async with client.post("/api/session", json={"username": "Wang.Fang ", "password": PASSWORD}) as r:
        assert r.status == 200
        body = await r.json()
        cookie = r.headers["Set-Cookie"]
    user = accounts.made["wang.fang"]
    assert body["user"] == {"id": user.id, "username": "wang.fang", "name": "wang.fang", "role": "agent",
                            "agent_id": "8001", "team": "一组"}
    assert len(body["csrf_token"]) >= 32 and body["must_change_password"] is False
    assert cookie.startswith("hotline_session=")
    flags = {f.strip().split("=")[0].lower(): f.strip() for f in cookie.split(";")[1:]}
    assert "httponly" in flags and flags["samesite"] == "SameSite=Strict" and flags["path"] == "Path=/"
    assert "secure" not in flags, "plain http on loopback: no Secure flag (the browser would drop the cookie)"
    async with client.get("/api/session") as r:
        assert r.status == 200 and await r.json() == body


async def test_the_cookie_is_secure_over_https_behind_a_trusted_proxy_only(sqlite_sessions: SessionFactory,
                                                                         accounts: Accounts) -> None:
    for trusted in (False, True):
        async with client_of(app_with(sqlite_sessions, accounts, trust_proxy=trusted)) as c, c.post(
                "/api/session", json={"username": "wang.fang", "password": PASSWORD},
                headers={"X-Forwarded-Proto": "https"}) as r:
            assert r.status == 200
            assert ("Secure" in r.headers["Set-Cookie"]) is trusted


async def test_a_session_reaches_guarded_routes_as_its_user_and_signing_out_ends_it(
        client: Client, sqlite_sessions: SessionFactory) -> None:
    body = await log_in(client, "wang.fang")
    async with client.get("/api/calls") as r:
        assert r.status == 200, await r.text()
    async with client.delete("/api/session", headers=csrf(body)) as r:
        assert r.status == 204
        assert "hotline_session=\"\"" in r.headers["Set-Cookie"] or "Max-Age=0" in r.headers["Set-Cookie"]
    async with client.get("/api/calls") as r:
        assert r.status == 401
    rows = await actions(sqlite_sessions)
    assert rows[-3:] == ["accounts.login", "calls.list", "session.end"]
    async with sqlite_sessions() as s:
        listed = await s.scalar(select(AuditEntry).where(AuditEntry.action == "calls.list"))
    assert listed is not None and listed.actor == "wang.fang" and listed.role == "agent"


async def test_a_cookie_once_signed_out_is_refused_even_if_replayed(client: Client) -> None:
    body = await log_in(client, "wang.fang")
    stolen = next(c.value for c in client.session.cookie_jar if c.key == "hotline_session")
    async with client.delete("/api/session", headers=csrf(body)) as r:
        assert r.status == 204
    async with client.get("/api/session", cookies={"hotline_session": stolen}) as r:
        assert r.status == 401 and await error_id(r) == "session_expired"


async def test_a_bearer_token_has_no_session_but_works_as_before(client: Client,
                                                                 sqlite_sessions: SessionFactory) -> None:
    token = await ApiTokens(sqlite_sessions).create(name="robot", role="admin")
    headers = {"Authorization": f"Bearer {token}"}
    async with client.get("/api/session", headers=headers) as r:
        assert r.status == 404 and await error_id(r) == "no_session"
    async with client.get("/api/users", headers=headers) as r:
        assert r.status == 200
    async with client.post("/api/users/1/disable", headers=headers) as r:
        assert r.status == 200, "no CSRF token for a bearer request"
    async with client.get("/api/calls") as r:
        assert r.status == 401 and await error_id(r) == "auth_required"


async def test_changing_the_password_checks_the_old_one_and_the_rules(client: Client, accounts: Accounts,
                                                                     sqlite_sessions: SessionFactory) -> None:
    body = await log_in(client, "wang.fang")
    for old, new, status, why in ((PASSWORD, "short", 422, "weak_password"),
                                  (PASSWORD, "wang.fang-2026", 422, "weak_password"),
                                  (PASSWORD, "qwertyuiop", 422, "weak_password"),
                                  ("not-my-password", "a-fine-new-one-7", 422, "wrong_password")):
        async with client.post("/api/session/password", json={"old": old, "new": new}, headers=csrf(body)) as r:
            assert (r.status, await error_id(r)) == (status, why)
    async with client.post("/api/session/password", json={"old": PASSWORD, "new": "a-fine-new-one-7"},
                           headers=csrf(body)) as r:
        assert r.status == 204
    async with client.get("/api/session") as r:
        assert r.status == 200, "the session that changed the password goes on"
    async with client.post("/api/session", json={"username": "wang.fang", "password": PASSWORD}) as r:
        assert r.status == 401
    body = await log_in(client, "wang.fang", "a-fine-new-one-7")
    async with client.post("/api/session/everywhere", headers=csrf(body)) as r:
        assert r.status == 204
    rows = await audit_rows(sqlite_sessions)
    actions = [r.action for r in rows]
    for action in ("accounts.password", "session.password", "accounts.everywhere", "session.everywhere",
                   "accounts.login_failed"):
        assert action in actions
    text = " ".join(f"{r.actor} {r.resource} {r.detail}" for r in rows)
    assert PASSWORD not in text and "a-fine-new-one-7" not in text, "never a password"


async def test_a_one_time_password_must_be_changed_before_anything_else(client: Client, accounts: Accounts) -> None:
    user = accounts.made["wang.fang"]
    _, one_time = await accounts.users.reset_password(user.id, by=CLI)
    body = await log_in(client, "wang.fang", one_time)
    assert body["must_change_password"] is True
    async with client.get("/api/calls") as r:
        assert r.status == 403 and await error_id(r) == "password_change_required"
    async with client.get("/api/session") as r:
        assert r.status == 200 and (await r.json())["must_change_password"] is True
    async with client.post("/api/session/password", json={"old": one_time, "new": "my-own-secret-42"},
                           headers=csrf(body)) as r:
        assert r.status == 204
    async with client.get("/api/calls") as r:
        assert r.status == 200
    async with client.get("/api/session") as r:
        assert (await r.json())["must_change_password"] is False


async def test_bad_sign_in_bodies_are_4xx(client: Client) -> None:
    for body in ({}, {"username": "x"}, {"username": "", "password": "p"}, {"username": "x" * 65, "password": "p"},
                 {"username": "x", "password": "p", "extra": 1}, [1], "text"):
        async with client.post("/api/session", json=body) as r:
            assert 400 <= r.status < 500, body
    async with client.post("/api/session", data=b"\xff\xfe", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400
