"""The search index of the published entries, behind one interface: SQLite FTS5 (the embedded default) or
PostgreSQL full text (a tsvector with a GIN index), chosen by the database. Kept inside the caller's
transaction, so an entry and its index row change together.

A document has four parts, each space-joined words (see `knowledge.words`): `terms` (segmented words and
their synonyms' words; the title twice), `pinyin` (each character's syllable, for homophone typos),
`initials` ("gjj") and `grams` (character bigrams, the last resort for other typos). A query is a list of
groups, each matching a word in one of several parts (`Group`); `find` asks for entries with every group of
at least one of several combinations (one query, however many).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge import words

PARTS = ("terms", "pinyin", "initials", "grams")


@dataclass(frozen=True)
class Document:
    terms: str
    pinyin: str
    initials: str
    grams: str


@dataclass(frozen=True)
class Group:
    """One query word, matched in any of its alternatives: (part, space-joined words as a phrase)."""

    alternatives: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Hit:
    entry_id: int
    match: float  # higher is better


def document(title: str, questions: list[str], keywords: list[str], extra: list[str]) -> Document:
    """The index document of an entry's title, questions, keywords and labels (category, region)."""
    asked = "。".join(questions)
    found = words.index_terms(title) * 2 + words.index_terms(asked) + words.index_terms(" ".join(keywords)) \
        + [w for w in (words.canonical(k) for k in keywords) if " " not in w] + words.index_terms(" ".join(extra))
    initials = dict.fromkeys(i for i in (words.initials(w) for w in found if len(w) >= 2) if len(i) >= 2)
    said = "。".join([title, asked, *keywords])
    return Document(" ".join(found), " ".join(words.syllables(said)), " ".join(initials),
                    " ".join(words.bigrams(title + "。" + asked)))


class SearchIndex(Protocol):
    async def put(self, s: AsyncSession, entry_id: int, doc: Document) -> None: ...

    async def drop(self, s: AsyncSession, entry_id: int) -> None: ...

    async def find(self, s: AsyncSession, combos: list[list[Group]], *, today: date, limit: int,
                   category: str | None = None) -> list[Hit]:
        """Valid entries matching every group of at least one of `combos`, best first."""
        ...


def _valid(today_param: str, category: str | None) -> str:
    where = f" AND e.valid_from <= {today_param} AND (e.valid_until IS NULL OR e.valid_until >= {today_param})"
    return where + (" AND e.category LIKE :category" if category else "")


class SqliteIndex:
    """FTS5 over space-joined words (tokenize='unicode61'); rowid = the entry's id; ranked by bm25."""

    WEIGHTS = "1.0, 0.5, 0.8, 0.2"

    async def put(self, s: AsyncSession, entry_id: int, doc: Document) -> None:
        await self.drop(s, entry_id)
        await s.execute(text("INSERT INTO knowledge_fts (rowid, terms, pinyin, initials, grams) "
                             "VALUES (:id, :terms, :pinyin, :initials, :grams)"),
                        {"id": entry_id, **doc.__dict__})

    async def drop(self, s: AsyncSession, entry_id: int) -> None:
        await s.execute(text("DELETE FROM knowledge_fts WHERE rowid = :id"), {"id": entry_id})

    @staticmethod
    def expression(combos: list[list[Group]]) -> str:
        def group(g: Group) -> str:
            return "(" + " OR ".join(f'{part} : "{phrase}"' for part, phrase in g.alternatives) + ")"

        return " OR ".join("(" + " AND ".join(group(g) for g in combo) + ")" for combo in combos)

    async def find(self, s: AsyncSession, combos: list[list[Group]], *, today: date, limit: int,
                   category: str | None = None) -> list[Hit]:
        combos = [c for c in combos if c]
        if not combos:
            return []
        sql = (f"SELECT e.id, bm25(knowledge_fts, {self.WEIGHTS}) AS rank FROM knowledge_fts "
               "JOIN knowledge_entries e ON e.id = knowledge_fts.rowid WHERE knowledge_fts MATCH :q"
               + _valid(":today", category) + " ORDER BY rank LIMIT :limit")
        rows = await s.execute(text(sql), {"q": self.expression(combos), "today": today.isoformat(),
                                           "limit": limit, "category": f"{category}%"})
        return [Hit(entry_id, -rank) for entry_id, rank in rows]


class PostgresIndex:
    """A tsvector per entry (the 'simple' configuration: the words as they are), weighted by part (terms A,
    pinyin B, initials C, grams D), in a GIN index; ranked by ts_rank."""

    LABELS: ClassVar[dict[str, str]] = dict(zip(PARTS, "ABCD", strict=True))

    async def put(self, s: AsyncSession, entry_id: int, doc: Document) -> None:
        await s.execute(text(
            "INSERT INTO knowledge_index (entry_id, document) VALUES (:id, "
            "setweight(to_tsvector('simple', :terms), 'A') || setweight(to_tsvector('simple', :pinyin), 'B') || "
            "setweight(to_tsvector('simple', :initials), 'C') || setweight(to_tsvector('simple', :grams), 'D')) "
            "ON CONFLICT (entry_id) DO UPDATE SET document = EXCLUDED.document"),
            {"id": entry_id, **doc.__dict__})

    async def drop(self, s: AsyncSession, entry_id: int) -> None:
        await s.execute(text("DELETE FROM knowledge_index WHERE entry_id = :id"), {"id": entry_id})

    @classmethod
    def expression(cls, combos: list[list[Group]]) -> str:
        def phrase(part: str, said: str) -> str:
            return "(" + " <-> ".join(f"'{w}':{cls.LABELS[part]}" for w in said.split()) + ")"

        def group(g: Group) -> str:
            return "(" + " | ".join(phrase(part, said) for part, said in g.alternatives) + ")"

        return " | ".join("(" + " & ".join(group(g) for g in combo) + ")" for combo in combos)

    async def find(self, s: AsyncSession, combos: list[list[Group]], *, today: date, limit: int,
                   category: str | None = None) -> list[Hit]:
        combos = [c for c in combos if c]
        if not combos:
            return []
        sql = ("SELECT e.id, ts_rank(i.document, q) AS rank FROM knowledge_index i "
               "CROSS JOIN to_tsquery('simple', :q) AS q JOIN knowledge_entries e ON e.id = i.entry_id "
               "WHERE i.document @@ q" + _valid(":today", category) + " ORDER BY rank DESC LIMIT :limit")
        rows = await s.execute(text(sql), {"q": self.expression(combos), "today": today,
                                           "limit": limit, "category": f"{category}%"})
        return [Hit(entry_id, float(rank) * 100) for entry_id, rank in rows]


def index_for(dialect: str) -> SearchIndex:
    return SqliteIndex() if dialect == "sqlite" else PostgresIndex()
