"""The knowledge base on a migrated database of the test's own (SQLite, and PostgreSQL where marked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from hotline.core.db.engine import SessionFactory
from knowledge.fields import EntryFields
from knowledge.search import Search
from knowledge.service import Entries, Reach
from tests.postgres_server import BOTH_DATABASES, migrated_sessions
from tickets.catalogue import Catalogue

ALL = Reach()


def fields(**over: Any) -> EntryFields:
    content: dict[str, Any] = {
        "title": "住房公积金提取", "questions": ["住房公积金怎么提取", "购房可以提取公积金吗"],
        "answer": "职工购买、建造、翻建、大修自住住房的，可以申请提取住房公积金，携带身份证到公积金中心办理。",
        "department": "市住房公积金管理中心", "category": "", "keywords": ["公积金", "提取"],
        "source": "住房公积金管理条例"}
    return EntryFields.model_validate({**content, **over})


async def published(entries: Entries, **over: Any) -> int:
    """A new entry, checked by a second person and published; its id."""
    entry = await entries.create(fields(**over), "editor.a", ALL)
    await entries.check(entry["id"], "staff.b")
    await entries.publish(entry["id"], "staff.b")
    return int(entry["id"])


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BOTH_DATABASES)
async def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[SessionFactory]:
    """One database (a PostgreSQL server) per module; see `sessions`."""
    async with migrated_sessions(request.param, tmp_path_factory.mktemp("knowledge")) as made:
        yield made


@pytest_asyncio.fixture(loop_scope="module")
async def sessions(database: SessionFactory) -> AsyncIterator[SessionFactory]:
    """The module's database, its knowledge tables emptied after each test."""
    yield database
    async with database.begin() as s:
        index = "knowledge_fts" if s.get_bind().dialect.name == "sqlite" else "knowledge_index"
        for table in ("knowledge_uses", "knowledge_gaps", "knowledge_versions", "knowledge_searches", index,
                      "knowledge_entries"):
            await s.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def entries(sessions: SessionFactory) -> Entries:
    return Entries(sessions, Catalogue.shipped())


@pytest.fixture
def search(entries: Entries) -> Search:
    return Search(entries)
