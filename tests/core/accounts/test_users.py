"""The users' store on SQLite and PostgreSQL: one name once, one account per agent, sign-in checks, the
session generation raised by what ends sessions (not by enabling), the database's own checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from hotline.core.accounts.models import User
from hotline.core.accounts.passwords import Passwords
from hotline.core.accounts.users import NewUser, Users
from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Conflict, Invalid
from hotline.core.web.tokens import CLI
from tests.core.accounts.serving import CHEAP
from tests.postgres_server import BOTH_DATABASES, migrated_sessions


@pytest.fixture(params=BOTH_DATABASES)
async def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    async with migrated_sessions(request.param, tmp_path) as sessions:
        yield sessions


async def test_accounts_on_the_database(sessions: SessionFactory) -> None:
    users = Users(sessions, Passwords(CHEAP))
    agent, one_time = await users.create(NewUser("Wang.Fang", "agent", "王芳", "8001", "一组"))
    assert agent.username == "wang.fang" and one_time is not None and agent.must_change_password
    with pytest.raises(Conflict):
        await users.create(NewUser("WANG.FANG", "engineer", password="some-good-pass"))
    with pytest.raises(Conflict):
        await users.create(NewUser("copy", "agent", agent_id="8001", password="some-good-pass"))
    assert (await users.sign_in(" WANG.fang ", one_time)) is not None
    assert await users.sign_in("wang.fang", "wrong") is None and await users.sign_in("nobody", one_time) is None

    generations = [agent.generation]
    for change in (users.sign_out_everywhere, users.disable):
        generations.append((await change(agent.id, by=CLI)).generation)
    assert await users.generations([agent.id]) == {}, "a disabled user's sessions hold nowhere"
    enabled = await users.enable(agent.id, by=CLI)
    assert not enabled.disabled and enabled.generation == generations[-1], "enabling revives no old session"
    _, reset = await users.reset_password(agent.id, by=CLI)
    assert await users.generations([agent.id]) == {agent.id: generations[-1] + 1}
    assert generations == [0, 1, 2] and await users.sign_in("wang.fang", reset) is not None

    await users.disable(agent.id, by=CLI)
    await users.create(NewUser("wang.fang2", "agent", agent_id="8001", password="some-good-pass"))
    with pytest.raises(Conflict):
        await users.enable(agent.id, by=CLI)  # 8001 has another account now

    now = datetime.now(UTC)
    with pytest.raises(IntegrityError):  # the database refuses an agent without an agent id, whoever writes
        async with sessions.begin() as s:
            s.add(User(username="bad", name="bad", role="agent", agent_id=None, password_hash="x",
                       created_at=now, password_changed_at=now))


async def test_an_editor_account_names_its_department(sqlite_sessions: SessionFactory) -> None:
    users = Users(sqlite_sessions, Passwords(CHEAP))
    with pytest.raises(Invalid) as refused:
        await users.create(NewUser("li.bianji", "editor", "李编辑"))
    assert refused.value.id == "team_required"
    editor, _ = await users.create(NewUser("li.bianji", "editor", "李编辑", None, "市人社局"))
    assert (editor.role, editor.team) == ("editor", "市人社局")
