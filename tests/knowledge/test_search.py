"""Search as citizens ask, on SQLite FTS5 and PostgreSQL full text: colloquial phrasings (synonyms folded),
pinyin initials, a homophone typo and another typo find the entry among others; drafts are not found; every
search is logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge.models import KnowledgeEntry, KnowledgeSearch
from knowledge.search import Search
from knowledge.service import Entries
from tests.knowledge.conftest import ALL, fields, published

pytestmark = pytest.mark.asyncio(loop_scope="module")

OTHERS = (
    {"title": "社会保险卡补办", "questions": ["社会保险卡丢失了如何补办"], "keywords": ["社保卡"],
     "answer": "携带居民身份证到社保卡服务网点补办。", "department": "市人社局"},
    {"title": "居民身份证换领", "questions": ["居民身份证过期了如何换领"], "keywords": ["身份证"],
     "answer": "到户籍所在地派出所换领。", "department": "市公安局"},
    {"title": "住房公积金贷款额度", "questions": ["住房公积金贷款最多能贷多少"], "keywords": ["公积金贷款"],
     "answer": "最高额度为六十万元。", "department": "市住房公积金管理中心"},
    {"title": "医疗保险异地就医备案", "questions": ["异地就医怎么备案"], "keywords": ["异地就医"],
     "answer": "通过国家医保服务平台APP备案。", "department": "市医保局"},
)
ASKED = ("公积金怎么取出来", "gjj提取", "公基金提取", "住房公积金提现要什么手续", "公积金取钱")


async def _top(search: Search, q: str) -> list[int]:
    return [r["id"] for r in (await search.search(q, by="agent-8001", line="12345", limit=5)).results]


async def test_citizens_phrasings_find_the_entry(entries: Entries, search: Search) -> None:
    withdrawal = await published(entries)
    others = [await published(entries, **other) for other in OTHERS]
    draft = await entries.create(fields(title="公积金提取新规（草稿）"), "editor.a", ALL)
    for q in ASKED:
        top = await _top(search, q)
        assert top and top[0] == withdrawal, (q, top)
        assert draft["id"] not in top
    assert (await _top(search, "身份证过期了咋办"))[0] == others[1]
    assert (await _top(search, "社保卡掉了"))[0] == others[0]
    assert (await _top(search, "yb异地就医"))[0] == others[3]
    assert (await _top(search, "公积金能贷多少钱"))[0] == others[2]
    assert await _top(search, "护照加急") == []
    async with entries.sessions() as s:
        logged = (await s.scalars(select(KnowledgeSearch).order_by(KnowledgeSearch.id))).all()
    assert len(logged) == len(ASKED) + 5 and logged[-1].results == 0 and logged[0].by == "agent-8001"


async def test_more_used_entries_rank_first_among_equals(entries: Entries, search: Search) -> None:
    first = await published(entries, title="户口迁移", questions=["户口怎么迁"], keywords=["户口迁移"])
    second = await published(entries, title="户口迁移", questions=["户口怎么迁"], keywords=["户口迁移"])
    async with entries.sessions.begin() as s:
        row = await s.get(KnowledgeEntry, second)
        assert row is not None
        row.uses = 30
    assert await _top(search, "户籍迁移") == [second, first]
