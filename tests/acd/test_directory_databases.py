"""The directory's queries on SQLite and PostgreSQL alike: JSON skills, the active flag, team counts, and a number
taken by a concurrent request told as a conflict (PostgreSQL's duplicate key as much as SQLite's). The PostgreSQL
server is shared by the session, so the numbers and teams here are this test's own."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.directory.secrets import PhoneSecrets
from acd.directory.service import AgentDirectory, AgentDraft, Refused, Rules
from hotline.app.plugins import upgrade_database as upgrade
from hotline.core.db.engine import create_engine, session_factory
from tests.acd.test_directory import PLAN
from tests.postgres_server import BOTH_DATABASES


@pytest.fixture(params=BOTH_DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    return str(request.getfixturevalue("postgres_url"))  # the session's server, shared


@pytest.fixture
async def directory(database_url: str, tmp_path: Path) -> AsyncIterator[AgentDirectory]:
    url = database_url
    await upgrade(url)
    engine = create_engine(url)
    try:
        yield AgentDirectory(session_factory(engine), Rules.of(PLAN), PhoneSecrets(tmp_path / "secrets.json", {}))
    finally:
        await engine.dispose()


async def test_the_directory_reads_and_writes_alike_on_both_databases(directory: AgentDirectory) -> None:
    base = 10_000_000 + secrets.randbelow(80_000_000)
    ids = [str(base + n) for n in range(3)]
    team = f"组{base}"
    await directory.add_team(team, "admin")
    drafts = [AgentDraft(i, f"坐席{i}", "expert", team, {"social_security": 5, "general": 2}) for i in ids]
    with pytest.raises(Refused) as refused:
        await directory.add([*drafts, AgentDraft(ids[0], "重复", "general", team, {"general": 1})], "admin", bulk=True)
    assert [(p.row, p.field) for p in refused.value.problems] == [(3, "id")]
    await directory.add(drafts, "admin", bulk=True)
    got = {a.id: a for a in await directory.agents(ids)}
    assert got[ids[0]].skills == {"social_security": 5, "general": 2} and got[ids[0]].active
    await directory.change(ids[1], "sup", active=False)
    await directory.change(ids[2], "sup", team=None, skills={"tax": 3})
    assert [a.id for a in await directory.agents(ids, active_only=True)] == [ids[0], ids[2]]
    assert {t["name"]: t["agents"] for t in await directory.teams()}[team] == 1
    assert (await directory.agent(ids[2])).skills == {"tax": 3} and (await directory.agent(ids[2])).team is None

    racing = str(base + 9)
    got_both = await asyncio.gather(*(directory.add([AgentDraft(racing, "同时", "general", None, {"general": 1})], by)
                                      for by in ("a", "b")), return_exceptions=True)
    assert sorted(type(g).__name__ for g in got_both) == ["Refused", "list"], got_both
