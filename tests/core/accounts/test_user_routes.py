"""Managing accounts over the API: admins manage everyone, a supervisor the agents of their own team only,
others nobody; a created or reset account gets a one-time password shown once; every change audited."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from tests.core.accounts.serving import Accounts, Client, accounts_of, app_with, client_of, csrf, error_id, log_in

TEAMS = {"8001": "一组", "8003": "二组"}


@pytest.fixture
async def accounts(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[Accounts]:
    async with accounts_of(sqlite_sessions, tmp_path) as made:
        await made.add("admin", "admin")
        await made.add("sup.one", "supervisor", team="一组")
        await made.add("sup.all", "supervisor")
        await made.add("agent.one", "agent", agent="8001", team="一组")
        await made.add("agent.two", "agent", agent="8003", team="二组")
        await made.add("auditor", "auditor")
        await made.add("engineer", "engineer")
        yield made


class Desk:
    """One signed-in person's client: requests carry the CSRF token."""

    def __init__(self, client: Client, body: dict[str, Any]) -> None:
        self.client, self.headers = client, csrf(body)

    async def call(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        async with self.client.request(method, path, json=json, headers=self.headers) as r:
            return r.status, await r.json() if r.status != 204 else None


@pytest.fixture
async def desk(sqlite_sessions: SessionFactory, accounts: Accounts) -> AsyncIterator[Any]:
    """Sign someone in on a client of their own: `await desk("admin")`."""
    async with contextlib.AsyncExitStack() as stack:

        async def as_(username: str) -> Desk:
            client = await stack.enter_async_context(client_of(app_with(sqlite_sessions, accounts, teams=TEAMS)))
            return Desk(client, await log_in(client, username))

        yield as_


def ids(accounts: Accounts, *names: str) -> list[int]:
    return [accounts.made[n].id for n in names]


async def test_an_admin_creates_disables_enables_and_resets_anyone(desk: Any, accounts: Accounts,
                                                                    sqlite_sessions: SessionFactory) -> None:
    admin = await desk("admin")
    status, made = await admin.call("POST", "/api/users", {"username": "Zhao.Lei", "role": "supervisor",
                                                           "name": "赵磊", "team": "二组"})
    assert status == 201 and made["user"]["username"] == "zhao.lei" and made["user"]["must_change_password"]
    assert len(made["password"]) == 14
    new_id = made["user"]["id"]
    status, _ = await admin.call("POST", "/api/users", {"username": "zhao.lei", "role": "agent", "agent_id": "1"})
    assert status == 409
    status, taken = await admin.call("POST", "/api/users", {"username": "copy.8001", "role": "agent",
                                                            "agent_id": "8001"})
    assert status == 409 and taken["error"]["id"] == "agent_taken", "one account per agent"
    assert (await admin.call("POST", f"/api/users/{new_id}/disable"))[1]["disabled"] is True
    assert (await admin.call("POST", f"/api/users/{new_id}/enable"))[1]["disabled"] is False
    status, reset = await admin.call("POST", f"/api/users/{new_id}/reset-password")
    assert status == 200 and reset["password"] != made["password"] and reset["user"]["must_change_password"]
    status, listed = await admin.call("GET", "/api/users")
    assert status == 200 and len(listed["users"]) == 8
    assert "$argon2" not in str(listed) and reset["password"] not in str(listed), "no hash, no password listed"
    async with sqlite_sessions() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.resource == f"users/{new_id}"))).all()
    actions = [r.action for r in rows]
    for action in ("accounts.create", "accounts.disable", "accounts.enable", "accounts.reset",
                   "users.disable", "users.enable", "users.reset_password"):
        assert action in actions
    assert all(made["password"] not in str(r.detail) and reset["password"] not in str(r.detail) for r in rows)


async def test_a_new_account_signs_in_with_its_one_time_password_and_must_change_it(desk: Any,
                                                                                    accounts: Accounts) -> None:
    admin = await desk("admin")
    _, made = await admin.call("POST", "/api/users", {"username": "sun.li", "role": "agent", "agent_id": "8009"})
    client = admin.client
    async with client.post("/api/session", json={"username": "sun.li", "password": made["password"]}) as r:
        assert r.status == 200 and (await r.json())["must_change_password"] is True


async def test_a_team_supervisor_manages_their_own_teams_agents_only(desk: Any, accounts: Accounts) -> None:
    sup = await desk("sup.one")
    status, listed = await sup.call("GET", "/api/users")
    assert status == 200 and [u["username"] for u in listed["users"]] == ["agent.one"]
    own, = ids(accounts, "agent.one")
    assert (await sup.call("POST", f"/api/users/{own}/disable"))[0] == 200
    assert (await sup.call("POST", f"/api/users/{own}/enable"))[0] == 200
    assert (await sup.call("POST", f"/api/users/{own}/reset-password"))[0] == 200
    for other in ids(accounts, "agent.two", "admin", "sup.all", "auditor"):
        for action in ("disable", "enable", "reset-password"):
            assert (await sup.call("POST", f"/api/users/{other}/{action}"))[0] == 403, (other, action)
        assert (await sup.call("GET", f"/api/users/{other}"))[0] == 403
    for asked in ({"username": "new.sup", "role": "supervisor"}, {"username": "new.admin", "role": "admin"},
                  {"username": "new.two", "role": "agent", "agent_id": "8004", "team": "二组"}):
        assert (await sup.call("POST", "/api/users", asked))[0] == 403, asked
    status, made = await sup.call("POST", "/api/users", {"username": "new.one", "role": "agent", "agent_id": "8002"})
    assert status == 201 and made["user"]["team"] == "一组", "a team supervisor's agents join their team"
    assert (await accounts.users.get(ids(accounts, "admin")[0])) is not None


async def test_a_whole_centre_supervisor_manages_every_agent_but_no_one_else(desk: Any, accounts: Accounts) -> None:
    sup = await desk("sup.all")
    _, listed = await sup.call("GET", "/api/users")
    assert sorted(u["username"] for u in listed["users"]) == ["agent.one", "agent.two"]
    for agent in ids(accounts, "agent.one", "agent.two"):
        assert (await sup.call("POST", f"/api/users/{agent}/disable"))[0] == 200
    for other in ids(accounts, "admin", "sup.one"):
        assert (await sup.call("POST", f"/api/users/{other}/disable"))[0] == 403


async def test_agents_and_engineers_manage_no_accounts_auditors_only_read(desk: Any, accounts: Accounts) -> None:
    target, = ids(accounts, "agent.two")
    for name in ("agent.one", "engineer"):
        who = await desk(name)
        assert (await who.call("GET", "/api/users"))[0] == 403
        assert (await who.call("POST", f"/api/users/{target}/disable"))[0] == 403
        assert (await who.call("POST", "/api/users", {"username": "x.y", "role": "admin"}))[0] == 403
    auditor = await desk("auditor")
    assert (await auditor.call("GET", f"/api/users/{target}"))[0] == 200
    assert (await auditor.call("POST", f"/api/users/{target}/disable"))[0] == 403


async def test_an_admin_cannot_disable_themself_and_bad_input_is_4xx(desk: Any, accounts: Accounts) -> None:
    admin = await desk("admin")
    me, = ids(accounts, "admin")
    status, body = await admin.call("POST", f"/api/users/{me}/disable")
    assert status == 409 and body["error"]["id"] == "cannot_disable_self"
    for bad in ({"username": "有中文", "role": "agent", "agent_id": "1"}, {"username": "x", "role": "agent"},
                {"username": "abc", "role": "king"}, {"username": "abc", "role": "agent"},
                {"username": "abc", "role": "agent", "agent_id": "1 2"}, {"username": "abc"}):
        status, body = await admin.call("POST", "/api/users", bad)
        assert status == 422, (bad, body)
    for path in ("/api/users/abc", "/api/users/999", "/api/users/99999999999999999999/disable"):
        status, _ = await admin.call("GET" if path.count("/") == 3 else "POST", path)
        assert status in (400, 404), path


async def test_a_reset_ends_the_users_sessions(desk: Any, accounts: Accounts) -> None:
    agent = await desk("agent.one")
    admin = await desk("admin")
    own, = ids(accounts, "agent.one")
    assert (await admin.call("POST", f"/api/users/{own}/reset-password"))[0] == 200
    async with agent.client.get("/api/session") as r:
        assert r.status == 401 and await error_id(r) == "session_expired"
