"""`python -m bench kb`: the knowledge base's search at 100,000 entries, on SQLite (FTS5) and PostgreSQL.

Entries are generated from the ticket catalogue: each leaf category (not 其他) × ten aspects (如何办理, 需要什么
材料, 在哪里办理, 收费标准, 办理时限, 申请条件, 办理流程, 网上办理, 遗失补办, 进度查询) × regions, with the
department of its first level. 1,000 queries are citizens' phrasings of a random entry: colloquial templates
per aspect (要带啥材料, 去哪办, 要花多少钱 …), with synonyms (身份证 for 居民身份证 …), one in ten with a homophone
typo in the subject and one in ten with the subject's first word as pinyin initials ("jsz年审"). Keys:
- `entries`; `search_p95_ms_sqlite`, `search_p95_ms_postgres` (the whole `Search.search`, logging included;
  targets ≤ 50) and their p50s; `recall_at_5` (the generated entry among the first five, on SQLite; target ≥ 0.9) and
  `recall_at_5_postgres`;
- `baseline`: a plain SQL search over the same rows on SQLite (every query word, without synonyms or pinyin,
  as LIKE '%…%' on the title or questions), on `BASELINE_QUERIES` of the queries: its p95 and recall@5.
PostgreSQL is a throw-away server (tests/postgres_server.py) unless BENCH_POSTGRES_URL names an empty
database; without PostgreSQL its keys are null. Progress goes to stderr.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pypinyin import lazy_pinyin
from sqlalchemy import and_, insert, or_, select, text

from bench.common import percentile, progress, publish
from bench.headlines import Headline
from hotline.app.plugins import upgrade_database
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from knowledge import words
from knowledge.index import Document, document
from knowledge.models import KnowledgeEntry
from knowledge.search import Search
from knowledge.service import Entries
from tickets.catalogue import Catalogue, Category

ENTRIES = 100_000
QUERIES = 1_000
BASELINE_QUERIES = 200
SEED = 20

HEADLINES = (
    Headline("search_p95_ms_sqlite", baseline="baseline.search_p95_ms_sqlite", target="<= 50"),
    Headline("recall_at_5", baseline="baseline.recall_at_5", target=">= 0.9"),
    Headline("search_p95_ms_postgres", target="<= 50"),
)
BUDGET_S = 900
REGIONS = (
    "和平区", "沈河区", "大东区", "皇姑区", "铁西区", "苏家屯区", "浑南区", "沈北新区",
    "于洪区", "辽中区", "康平县", "法库县", "新民市", "中山区", "西岗区", "沙河口区",
    "甘井子区", "旅顺口区", "金州区", "普兰店区", "瓦房店市", "庄河市", "长海县", "铁东区",
    "立山区", "千山区", "台安县", "岫岩县", "海城市", "新抚区", "东洲区", "望花区",
    "顺城区", "抚顺县", "新宾县",
)


@dataclass(frozen=True)
class Aspect:
    title: str  # after the subject
    keyword: str
    formal: tuple[str, ...]  # the entry's questions ({s}: the subject)
    asked: tuple[str, ...]  # how citizens ask ({r}: region, {s}: subject)
    answer: str


ASPECTS = (
    Aspect("如何办理", "办理", ("{s}如何办理", "怎样办理{s}"),
           ("{r}{s}咋办理", "我想在{r}办{s}该怎么弄", "请问{r}的{s}怎么办理"),
           "可携带有效证件到政务服务中心窗口办理。"),
    Aspect("需要什么材料", "材料", ("办理{s}需要什么材料", "{s}申请材料清单"),
           ("在{r}办{s}要带啥材料", "{r}{s}需要准备哪些证件", "{r}{s}要什么资料"), "需提供身份证明及申请表。"),
    Aspect("在哪里办理", "地点", ("{s}在哪里办理", "{s}办理地点"),
           ("{r}{s}去哪办", "{s}在{r}哪儿办", "{r}哪里能办{s}"), "可到区政务服务中心一楼综合窗口办理。"),
    Aspect("收费标准", "费用", ("{s}收费标准", "办理{s}需要多少钱"),
           ("{r}办{s}要花多少钱", "{r}{s}收费吗收多少钱", "{r}{s}价格是多少"), "按物价部门核定标准收费。"),
    Aspect("办理时限", "时限", ("{s}办理时限", "{s}多长时间能办好"),
           ("{r}{s}要多久能办好", "{r}{s}几天能下来", "{r}{s}多长时间"), "材料齐全的，自受理之日起十个工作日内办结。"),
    Aspect("申请条件", "条件", ("{s}申请条件", "办理{s}需要符合什么条件"),
           ("{r}{s}有什么要求", "{r}什么人能办{s}", "{r}{s}要满足啥资格"), "申请人应符合相关规定的条件。"),
    Aspect("办理流程", "流程", ("{s}办理流程", "{s}的办理步骤"),
           ("{r}{s}的步骤是啥", "{r}{s}程序是什么", "{r}办{s}流程"), "申请、受理、审核、办结四个环节。"),
    Aspect("网上办理渠道", "网上", ("{s}能否网上办理", "{s}网上办理渠道"),
           ("{r}{s}能在手机上办吗", "{r}{s}线上怎么办", "{r}{s}网上能办不"), "可通过政务服务网或手机APP在线办理。"),
    Aspect("遗失补办", "补办", ("{s}遗失如何补办", "{s}丢失后怎么补领"),
           ("{r}{s}丢了怎么办", "{r}{s}掉了咋补", "{r}{s}遗失了去哪补办"), "遗失的，可凭身份证明申请补办。"),
    Aspect("进度查询", "查询", ("{s}办理进度查询", "如何查询{s}办理进度"),
           ("{r}{s}办到哪了怎么查看", "{r}{s}进度在哪查", "{r}{s}怎么查询结果"),
           "可通过热线或政务服务网查询办理进度。"),
)
VARIANTS = {group[0]: group[1:] for group in words.synonym_groups()}


@dataclass(frozen=True)
class Made:
    leaf: Category
    aspect: Aspect
    region: str

    @property
    def subject(self) -> str:
        return self.leaf.name

    def row(self, department: str) -> dict[str, Any]:
        s, r = self.subject, self.region
        return {"title": f"{r}{s}{self.aspect.title}", "questions": [r + q.format(s=s) for q in self.aspect.formal],
                "answer": f"{r}{s}：{self.aspect.answer}", "department": department, "category": self.leaf.code,
                "region": r, "keywords": [s, self.aspect.keyword]}


def made(catalogue: Catalogue) -> list[Made]:
    leaves = [c for c in catalogue.all() if c.leaf and c.name != "其他"]
    out = [Made(leaf, aspect, region) for region in REGIONS for leaf in leaves for aspect in ASPECTS]
    return out[:ENTRIES]


def department_of(leaf: Category) -> str:
    return f"市{leaf.path[0]}局"


class Asker:
    """Citizens' phrasings of a generated entry."""

    def __init__(self, rng: random.Random, catalogue: Catalogue) -> None:
        self.rng = rng
        pool = "".join(c.name for c in catalogue.all()) + "".join(a.title + a.answer for a in ASPECTS)
        self.homophones: dict[str, list[str]] = {}
        for ch in set(pool):
            if words.HAN.match(ch):
                self.homophones.setdefault(lazy_pinyin(ch)[0], []).append(ch)

    def subject(self, subject: str) -> tuple[str, str]:
        """The subject as the citizen says it, and how (plain, synonym, typo, initials)."""
        for canonical, variants in VARIANTS.items():
            if canonical in subject and variants and self.rng.random() < 0.7:
                return subject.replace(canonical, self.rng.choice(variants), 1), "synonym"
        roll = self.rng.random()
        if roll < 0.1:
            spots = [i for i, ch in enumerate(subject) if len(self.homophones.get(lazy_pinyin(ch)[0], [])) > 1]
            if spots:
                i = self.rng.choice(spots)
                other = [c for c in self.homophones[lazy_pinyin(subject[i])[0]] if c != subject[i]]
                return subject[:i] + self.rng.choice(other) + subject[i + 1:], "typo"
        elif roll < 0.2:
            first = words.SEGMENTER.cut(subject)[0]
            if len(first) >= 2 and words.HAN.match(first):
                return words.initials(first) + subject[len(first):], "initials"
        return subject, "plain"

    def ask(self, entry: Made) -> tuple[str, str]:
        said, how = self.subject(entry.subject)
        return self.rng.choice(entry.aspect.asked).format(r=entry.region, s=said), how


def documents(catalogue: Catalogue, entries: list[Made]) -> list[Document]:
    words.SEGMENTER.add_words([*REGIONS, *(c.name for c in catalogue.all()), *(a.keyword for a in ASPECTS)])
    docs = []
    for n, e in enumerate(entries, start=1):
        row = e.row(department_of(e.leaf))
        docs.append(document(row["title"], row["questions"], row["keywords"], [*e.leaf.path[-2:], e.region]))
        if n % 20_000 == 0:
            progress(f"kb: {n} documents segmented")
    return docs


async def fill(sessions: SessionFactory, entries: list[Made], docs: list[Document], dialect: str) -> None:
    """The entries, published, and their index rows, in chunks."""
    at = datetime.now(UTC)
    if dialect == "sqlite":
        put = text("INSERT INTO knowledge_fts (rowid, terms, pinyin, initials, grams) "
                   "VALUES (:id, :terms, :pinyin, :initials, :grams)")
    else:
        put = text("INSERT INTO knowledge_index (entry_id, document) VALUES (:id, "
                   "setweight(to_tsvector('simple', :terms), 'A') || setweight(to_tsvector('simple', :pinyin), 'B') "
                   "|| setweight(to_tsvector('simple', :initials), 'C') || "
                   "setweight(to_tsvector('simple', :grams), 'D'))")
    for start in range(0, len(entries), 5000):
        chunk = range(start, min(start + 5000, len(entries)))
        rows = [{**entries[i].row(department_of(entries[i].leaf)), "id": i + 1, "valid_from": date(2026, 1, 1),
                 "valid_until": None, "review_by": date(2027, 1, 1), "source": "", "source_date": None,
                 "phone": False, "state": "published", "version": 3, "created_by": "bench", "created_at": at,
                 "edited_by": "bench", "updated_at": at, "checked_by": "bench2", "checked_at": at,
                 "published_at": at, "uses": 0, "pending": None} for i in chunk]
        async with sessions.begin() as s:
            await s.execute(insert(KnowledgeEntry), rows)
            await s.execute(put, [{"id": i + 1, **docs[i].__dict__} for i in chunk])
        if (start + 5000) % 25_000 == 0:
            progress(f"kb: {start + 5000} entries in {dialect}")
    if dialect != "sqlite":
        async with sessions.begin() as s:
            await s.execute(text("SELECT setval(pg_get_serial_sequence('knowledge_entries', 'id'), :n)"),
                            {"n": len(entries)})
            await s.execute(text("ANALYZE"))


async def measure(search: Search, asked: list[tuple[str, int]]) -> tuple[float, float, float]:
    """p95 of a whole search (ms), recall at 5, and the p50."""
    took, right = [], 0
    await search.search("预热", by="bench")  # the segmenter's dictionary loads once
    for q, want in asked:
        started = time.perf_counter()
        found = await search.search(q, by="bench", line="12345", limit=5)
        took.append((time.perf_counter() - started) * 1000)
        right += any(r["id"] == want for r in found.results)
    return round(percentile(took, 95), 1), round(right / len(asked), 4), round(percentile(took, 50), 1)


async def baseline(sessions: SessionFactory, asked: list[tuple[str, int]]) -> tuple[float, float]:
    """Every query word as LIKE '%…%' on the title or the questions (no synonyms, no pinyin)."""
    took, right = [], 0
    for q, want in asked:
        said = [w for w in words.SEGMENTER.cut(q) if w not in words.STOPWORDS]
        started = time.perf_counter()
        async with sessions() as s:
            ids = (await s.scalars(select(KnowledgeEntry.id).where(and_(*(
                or_(KnowledgeEntry.title.contains(w), KnowledgeEntry.questions.contains(w)) for w in said)))
                .limit(5))).all()
        took.append((time.perf_counter() - started) * 1000)
        right += want in ids
    return round(percentile(took, 95), 1), round(right / len(asked), 4)


@asynccontextmanager
async def database(url: str) -> AsyncIterator[SessionFactory]:
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_url() -> AsyncIterator[str | None]:
    if url := os.environ.get("BENCH_POSTGRES_URL"):
        yield url
        return
    try:
        from hotline.core.netutil import free_port
        from tests.postgres_server import PostgresServer
    except ImportError:
        yield None
        return
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-bench-pg-")), free_port())
    try:
        await server.start()
    except (FileNotFoundError, RuntimeError) as exc:
        progress(f"kb: no PostgreSQL ({exc})")
        yield None
        return
    try:
        yield server.url
    finally:
        await server.stop()


async def run() -> dict[str, Any]:
    started = time.perf_counter()
    catalogue, rng = Catalogue.shipped(), random.Random(SEED)
    entries = made(catalogue)
    progress(f"kb: {len(entries)} entries from {len({e.leaf.code for e in entries})} categories; segmenting")
    docs = documents(catalogue, entries)
    asker = Asker(rng, catalogue)
    picked = rng.sample(range(len(entries)), QUERIES)
    asked = [(asker.ask(entries[i])[0], i + 1) for i in picked]
    result: dict[str, Any] = {"entries": len(entries), "queries": QUERIES}
    with tempfile.TemporaryDirectory(prefix="hotline-bench-kb-") as folder:
        async with database(f"sqlite+aiosqlite:///{folder}/kb.db") as sessions:
            await fill(sessions, entries, docs, "sqlite")
            progress("kb: searching on SQLite")
            search = Search(Entries(sessions, catalogue))
            result["search_p95_ms_sqlite"], result["recall_at_5"], result["search_p50_ms_sqlite"] = \
                await measure(search, asked)
            progress(f"kb: SQLite p95 {result['search_p95_ms_sqlite']} ms, recall@5 {result['recall_at_5']}; "
                     "the LIKE baseline")
            p95, recall = await baseline(sessions, asked[:BASELINE_QUERIES])
            result["baseline"] = {"method": "LIKE '%word%' on title or questions, every word", "queries":
                                  BASELINE_QUERIES, "search_p95_ms_sqlite": p95, "recall_at_5": recall}
    async with postgres_url() as url:
        result["search_p95_ms_postgres"] = result["recall_at_5_postgres"] = result["search_p50_ms_postgres"] = None
        if url is not None:
            async with database(url) as sessions:
                await fill(sessions, entries, docs, "postgresql")
                progress("kb: searching on PostgreSQL")
                search = Search(Entries(sessions, catalogue))
                result["search_p95_ms_postgres"], result["recall_at_5_postgres"], result["search_p50_ms_postgres"] = \
                    await measure(search, asked)
    result["search_p95_ms"] = result["search_p95_ms_sqlite"]
    result["took_s"] = round(time.perf_counter() - started, 1)
    return publish("kb", result)
