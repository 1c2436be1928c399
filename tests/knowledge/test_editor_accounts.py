"""A department's knowledge editor is a person with an account (migration 0026): on SQLite and PostgreSQL the
users' table takes the role `editor`, with their department as the team, and still refuses roles it does not
know."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from hotline.core.accounts.models import User
from hotline.core.accounts.passwords import Passwords
from hotline.core.accounts.users import NewUser, Users
from hotline.core.db.engine import SessionFactory
from tests.core.accounts.serving import CHEAP
from tests.postgres_server import BOTH_DATABASES, migrated_sessions


@pytest.fixture(params=BOTH_DATABASES)
async def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    async with migrated_sessions(request.param, tmp_path) as sessions:
        yield sessions


async def test_an_editor_account_on_the_database(sessions: SessionFactory) -> None:
    users = Users(sessions, Passwords(CHEAP))
    editor, _ = await users.create(NewUser("gjj.bianji", "editor", "赵编辑", None, "市住房公积金中心",
                                           "知识库-correct-horse-7"))
    assert (editor.role, editor.team) == ("editor", "市住房公积金中心")
    assert await users.sign_in("gjj.bianji", "知识库-correct-horse-7") is not None
    with pytest.raises(IntegrityError):
        async with sessions.begin() as s:
            await s.execute(update(User).where(User.id == editor.id).values(role="visitor"))
