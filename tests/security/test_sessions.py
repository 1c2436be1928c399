"""Threats to people's sessions: a planted session id (fixation), cross-site requests (CSRF) and cross-site
websockets, password guessing (lockout per name, throttle per address), telling users apart by the error
(enumeration), and sessions outliving a sign-out everywhere or a disabled account (their live sockets too).
On a real redis-server and SQLite, with the ACD's real live feed on its real store; the clock is moved."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError
from argon2 import PasswordHasher
from sqlalchemy import select

from acd import http as acd_http
from acd.store import AcdStore
from hotline.core.accounts.passwords import Passwords
from hotline.core.accounts.settings import AccountSettings
from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from hotline.core.web.sockets import REVOKED, SocketLimits
from hotline.core.web.throttle import ThrottleLimits
from hotline.core.web.tokens import CLI
from tests.acd.test_http import emergency_flags
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

SWEEP = SocketLimits(check_every_s=0.2)


@pytest.fixture
async def accounts(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[Accounts]:
    async with accounts_of(sqlite_sessions, tmp_path) as made:
        await made.add("li.na", "agent", agent="8001", team="一组")
        yield made


@contextlib.asynccontextmanager
async def serving(sessions: SessionFactory, accounts: Accounts, **kw: Any) -> AsyncIterator[Client]:
    """Sign-in, the calls routes, and the ACD's live feed on the real store in the accounts' Redis."""
    store = AcdStore(accounts.redis)
    feed = acd_http.routes(cast(acd_http.AgentControl, store), frozenset(), emergency_flags(sessions))
    async with client_of(app_with(sessions, accounts, feed, sockets=SWEEP, **kw)) as client:
        yield client


@pytest.fixture
async def client(sqlite_sessions: SessionFactory, accounts: Accounts) -> AsyncIterator[Client]:
    async with serving(sqlite_sessions, accounts) as c:
        yield c


async def audited(sessions: SessionFactory, action: str) -> list[AuditEntry]:
    async with sessions() as s:
        return list((await s.scalars(select(AuditEntry).where(AuditEntry.action == action))).all())


def own_origin(client: Client) -> dict[str, str]:
    return {"Origin": f"http://{client.host}:{client.port}"}


async def issued(client: Client, cookies: dict[str, str] | None = None) -> str:
    """Sign in, sending `cookies`; the session id the answer sets."""
    async with client.post("/api/session", json={"username": "li.na", "password": PASSWORD}, cookies=cookies) as r:
        assert r.status == 200
        return r.cookies["hotline_session"].value


async def test_a_planted_session_id_is_never_adopted_and_each_sign_in_gets_a_new_one(client: Client) -> None:
    planted = {"hotline_session": "attacker-chosen-id"}
    first = await issued(client, planted)
    assert first != "attacker-chosen-id" and len(first) >= 40
    async with client.get("/api/session", cookies=planted) as r:
        assert r.status == 401
    async with client.get("/api/session", cookies={"hotline_session": first}) as r:
        assert r.status == 200
    second = await issued(client, {"hotline_session": first})
    assert second != first, "the id rotates at every sign-in"


async def test_an_unsafe_request_without_the_sessions_csrf_token_is_refused_and_audited(
        client: Client, sqlite_sessions: SessionFactory) -> None:
    body = await log_in(client, "li.na")
    for headers in ({}, {"X-CSRF-Token": "guessed"}, {"X-CSRF-Token": body["csrf_token"][:-1]}):
        for method in ("POST", "DELETE"):
            async with client.request(method, "/api/session" if method == "DELETE" else "/api/session/everywhere",
                                      headers=headers) as r:
                assert r.status == 403 and await error_id(r) == "csrf_failed"
    assert len(await audited(sqlite_sessions, "accounts.csrf_failed")) == 6
    async with client.get("/api/session") as r:
        assert r.status == 200, "the refused requests did not sign out"
    async with client.delete("/api/session", headers=csrf(body)) as r:
        assert r.status == 204


async def test_a_cookie_websocket_opens_only_from_the_services_own_origin(client: Client,
                                                                          sqlite_sessions: SessionFactory) -> None:
    await log_in(client, "li.na")
    for origin in ({"Origin": "http://evil.example"}, {}, {"Origin": "null"},
                   {"Origin": f"http://{client.host}:{client.port}.evil.example"}):
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect("/api/acd/events", headers=origin)
        assert refused.value.status == 403
    assert len(await audited(sqlite_sessions, "accounts.origin_refused")) == 4
    ws = await client.ws_connect("/api/acd/events", headers=own_origin(client))
    assert not ws.closed
    await ws.close()


async def test_behind_a_trusted_proxy_the_public_origin_and_the_forwarded_host_are_the_services_own(
        sqlite_sessions: SessionFactory, tmp_path: Path) -> None:
    settings = replace(AccountSettings(), public_origins=("https://12345.example.gov.cn",))
    async with accounts_of(sqlite_sessions, tmp_path, settings) as made:
        await made.add("li.na", "agent", agent="8001")
        async with serving(sqlite_sessions, made, trust_proxy=True) as client:
            await log_in(client, "li.na")
            for headers in ({"Origin": "https://12345.example.gov.cn"},
                            {"Origin": "https://desk.example", "X-Forwarded-Host": "desk.example",
                             "X-Forwarded-Proto": "https"}):
                ws = await client.ws_connect("/api/acd/events", headers=headers)
                await ws.close()
            with pytest.raises(WSServerHandshakeError) as refused:  # the proxy said http, the page says https
                await client.ws_connect("/api/acd/events", headers={"Origin": "https://desk.example",
                                                                    "X-Forwarded-Host": "desk.example"})
            assert refused.value.status == 403


async def test_behind_a_trusted_proxy_each_browser_is_throttled_by_its_own_address(
        sqlite_sessions: SessionFactory, accounts: Accounts) -> None:
    """The proxy's own address is every request's: only the address it forwards tells guessers apart."""
    for trusted in (True, False):
        async with serving(sqlite_sessions, accounts, throttle=ThrottleLimits(failures=2),
                           trust_proxy=trusted) as client:
            for n in range(2):
                async with client.post("/api/session", json={"username": f"guess{n}", "password": "x"},
                                       headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}) as r:
                    assert r.status == 401
            async with client.post("/api/session", json={"username": "li.na", "password": PASSWORD},
                                   headers={"X-Forwarded-For": "203.0.113.8"}) as r:
                assert r.status == (200 if trusted else 429)


async def test_a_cross_site_sign_in_is_refused(client: Client) -> None:
    async with client.post("/api/session", json={"username": "li.na", "password": PASSWORD},
                           headers={"Origin": "https://evil.example"}) as r:
        assert r.status == 403 and await error_id(r) == "origin_refused"
    async with client.post("/api/session", json={"username": "li.na", "password": PASSWORD},
                           headers=own_origin(client)) as r:
        assert r.status == 200


async def test_five_wrong_passwords_lock_the_name_for_fifteen_minutes(client: Client, accounts: Accounts,
                                                                       sqlite_sessions: SessionFactory) -> None:
    for _ in range(5):
        async with client.post("/api/session", json={"username": "li.na", "password": "wrong-wrong"}) as r:
            assert r.status == 401 and await error_id(r) == "login_failed"
    async with client.post("/api/session", json={"username": "li.na", "password": PASSWORD}) as r:
        assert r.status == 423 and await error_id(r) == "account_locked", "even the right password"
        assert 890 <= int(r.headers["Retry-After"]) <= 900
    accounts.clock.advance(14 * 60)
    async with client.post("/api/session", json={"username": "li.na", "password": PASSWORD}) as r:
        assert r.status == 423 and int(r.headers["Retry-After"]) <= 60
    accounts.clock.advance(61)
    await log_in(client, "li.na")
    assert len(await audited(sqlite_sessions, "accounts.locked")) == 1
    assert len(await audited(sqlite_sessions, "accounts.login_failed")) == 5
    assert len(await audited(sqlite_sessions, "accounts.login_locked")) == 2


async def test_failures_spread_over_more_than_the_window_do_not_lock(client: Client, accounts: Accounts) -> None:
    for _ in range(8):
        async with client.post("/api/session", json={"username": "li.na", "password": "wrong-wrong"}) as r:
            assert r.status == 401
        accounts.clock.advance(4 * 60)  # four in any 15 minutes
    await log_in(client, "li.na")


async def test_an_unknown_name_and_a_wrong_password_look_the_same_and_cost_the_same(
        sqlite_sessions: SessionFactory, tmp_path: Path) -> None:
    class Counting(PasswordHasher):
        checks = 0

        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            Counting.checks += 1
            return super().verify(hash, password)

    async with accounts_of(sqlite_sessions, tmp_path) as made:
        made.users.passwords = Passwords(Counting(time_cost=1, memory_cost=8 * 1024, parallelism=1))
        await made.add("li.na", "agent", agent="8001")
        async with serving(sqlite_sessions, made) as client:
            answers = []
            for name in ("li.na", "nobody.here"):
                before = Counting.checks
                async with client.post("/api/session", json={"username": name, "password": "wrong-wrong"}) as r:
                    answers.append((r.status, await r.json()))
                assert Counting.checks == before + 1, "an argon2 check for the unknown name too"
            assert answers[0] == answers[1]
            for _ in range(4):
                async with client.post("/api/session", json={"username": "nobody.here", "password": "x"}) as r:
                    assert r.status == 401
            async with client.post("/api/session", json={"username": "nobody.here", "password": "x"}) as r:
                assert r.status == 423, "an unknown name locks like a real one"


async def test_login_failures_count_against_the_address(sqlite_sessions: SessionFactory,
                                                         accounts: Accounts) -> None:
    async with serving(sqlite_sessions, accounts, throttle=ThrottleLimits(failures=3)) as client:
        for n in range(3):
            async with client.post("/api/session", json={"username": f"guess{n}", "password": "x"}) as r:
                assert r.status == 401
        async with client.post("/api/session", json={"username": "li.na", "password": PASSWORD}) as r:
            assert r.status == 429 and await error_id(r) == "auth_throttled"
    assert len(await audited(sqlite_sessions, "auth.throttled")) == 1


async def test_a_disabled_account_with_the_right_password_is_told_so_only_then(client: Client,
                                                                                accounts: Accounts) -> None:
    await accounts.users.disable(accounts.made["li.na"].id, by=CLI)
    async with client.post("/api/session", json={"username": "li.na", "password": "wrong-wrong"}) as r:
        assert r.status == 401 and await error_id(r) == "login_failed"
    async with client.post("/api/session", json={"username": "li.na", "password": PASSWORD}) as r:
        assert r.status == 403 and await error_id(r) == "account_disabled"


async def next_close(ws: Any) -> Any:
    while True:
        message = await ws.receive(timeout=5)
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            return message


async def test_signing_out_everywhere_ends_every_session_and_closes_their_sockets(
        sqlite_sessions: SessionFactory, accounts: Accounts) -> None:
    async with serving(sqlite_sessions, accounts) as desk, serving(sqlite_sessions, accounts) as laptop:
        await log_in(desk, "li.na")
        body = await log_in(laptop, "li.na")
        ws = await desk.ws_connect("/api/acd/events", headers=own_origin(desk))
        async with laptop.post("/api/session/everywhere", headers=csrf(body)) as r:
            assert r.status == 204
        closed = await next_close(ws)  # the desk's app is another process' stand-in: its sweep closes it
        assert closed.data == REVOKED
        for client in (desk, laptop):
            async with client.get("/api/session") as r:
                assert r.status == 401
        await log_in(desk, "li.na")  # and a new sign-in works


async def test_signing_out_closes_that_sessions_socket_at_once(client: Client) -> None:
    body = await log_in(client, "li.na")
    ws = await client.ws_connect("/api/acd/events", headers=own_origin(client))
    async with client.delete("/api/session", headers=csrf(body)) as r:
        assert r.status == 204
    message = await asyncio.wait_for(next_close(ws), 0.15)  # before any sweep (0.2 s)
    assert (message.data, message.extra) == (REVOKED, "signed out")


async def test_a_disabled_users_sessions_and_sockets_end_at_once(sqlite_sessions: SessionFactory,
                                                                 accounts: Accounts) -> None:
    admin = await accounts.add("root.admin", "admin")
    assert admin.role == "admin"
    async with serving(sqlite_sessions, accounts) as agent, serving(sqlite_sessions, accounts) as console:
        await log_in(agent, "li.na")
        ws = await agent.ws_connect("/api/acd/events", headers=own_origin(agent))
        body = await log_in(console, "root.admin")
        async with console.post(f"/api/users/{accounts.made['li.na'].id}/disable", headers=csrf(body)) as r:
            assert r.status == 200 and (await r.json())["disabled"] is True
        assert (await next_close(ws)).data == REVOKED
        async with agent.get("/api/session") as r:
            assert r.status == 401


async def test_an_account_disabled_from_the_command_line_loses_its_session_and_socket(
        client: Client, accounts: Accounts) -> None:
    """The command line changes only the database: the next request and the sockets' sweep see it."""
    await log_in(client, "li.na")
    ws = await client.ws_connect("/api/acd/events", headers=own_origin(client))
    await accounts.users.disable(accounts.made["li.na"].id, by=CLI)
    assert (await next_close(ws)).data == REVOKED
    async with client.get("/api/session") as r:
        assert r.status == 401 and await error_id(r) == "session_expired"


async def test_a_session_ends_after_the_idle_time_and_after_twelve_hours_anyway(client: Client,
                                                                               accounts: Accounts) -> None:
    await log_in(client, "li.na")
    accounts.clock.advance(7 * 3600)
    async with client.get("/api/session") as r:
        assert r.status == 200, "used within the idle time (one shift, 480 minutes)"
    accounts.clock.advance(5 * 3600)
    async with client.get("/api/session") as r:
        assert r.status == 401, "twelve hours after sign-in, however busy"
    await log_in(client, "li.na")
    accounts.clock.advance(480 * 60 + 1)
    async with client.get("/api/session") as r:
        assert r.status == 401, "a shift unused"


async def test_a_session_has_the_socket_cap_of_its_role(client: Client) -> None:
    await log_in(client, "li.na")
    opened = [await client.ws_connect("/api/acd/events", headers=own_origin(client)) for _ in range(2)]
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/api/acd/events", headers=own_origin(client))
    assert refused.value.status == 429
    for ws in opened:
        await ws.close()


async def test_signing_in_on_a_browser_ends_the_session_it_had(client: Client, accounts: Accounts) -> None:
    """A shared desk: the next person's sign-in ends the last one's session, not only the cookie."""
    await accounts.add("zhou.min", "agent", agent="8002")
    before = await issued(client)
    async with client.post("/api/session", json={"username": "zhou.min", "password": PASSWORD},
                           cookies={"hotline_session": before}) as r:
        assert r.status == 200
    async with client.get("/api/session", cookies={"hotline_session": before}) as r:
        assert r.status == 401


async def test_an_ended_session_is_told_to_sign_in_again_without_blocking_the_address(
        sqlite_sessions: SessionFactory, accounts: Accounts) -> None:
    """Many agents share one address; pages left open after their sessions ended must not lock it."""
    async with serving(sqlite_sessions, accounts, throttle=ThrottleLimits(failures=3)) as client:
        for _ in range(10):
            async with client.get("/api/calls", cookies={"hotline_session": "ended-long-ago"}) as r:
                assert r.status == 401 and await error_id(r) == "session_expired"
                assert "hotline_session=\"\"" in r.headers["Set-Cookie"], "the page's cookie is cleared"
        await log_in(client, "li.na")


async def test_a_locked_agent_is_let_back_in_by_a_reset(client: Client, accounts: Accounts) -> None:
    """The helpdesk case: the agent locked themself out; their supervisor resets the password."""
    await accounts.add("sup.one", "supervisor", team="一组")
    for _ in range(5):
        async with client.post("/api/session", json={"username": "li.na", "password": "wrong-wrong"}) as r:
            assert r.status == 401
    body = await log_in(client, "sup.one")
    async with client.post(f"/api/users/{accounts.made['li.na'].id}/reset-password", headers=csrf(body)) as r:
        assert r.status == 200
        one_time = (await r.json())["password"]
    assert (await log_in(client, "li.na", one_time))["must_change_password"] is True
