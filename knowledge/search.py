"""Search as agents and citizens ask: the query's words (synonyms folded), each matched as the word, its
pinyin (a homophone typo) or, for Latin letters, pinyin initials ("gjj"); entries with every word, else with
all but one, else with any, else by character bigrams (other typos). Ranked by match, freshness and how often agents
used the entry. Every search is logged (query, how many found, who, line) for the figures.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from hotline.core.clock import china_today, now
from knowledge import words
from knowledge.index import Group, Hit
from knowledge.models import KnowledgeEntry, KnowledgeSearch
from knowledge.service import Entries

CANDIDATES = 50  # found by the index, then ranked again with freshness and uses
FRESH_DAYS = 365.0


def groups(q: str) -> list[Group]:
    """The query's word groups (see knowledge.index); single characters (人, 哪, 交 …) only when the query has
    fewer than two longer words: they rarely tell entries apart and match most of them."""
    said = words.terms(q)
    longer = [t for t in said if len(t) > 1 or not words.HAN.match(t)]
    out = []
    for term in longer if len(longer) >= 2 else said:
        if words.HAN.search(term):
            alternatives = [("terms", term), ("pinyin", " ".join(words.syllables(term)))]
        else:
            alternatives = [("terms", term), ("initials", term)]
        out.append(Group(tuple(alternatives)))
    return out


def gram_groups(q: str) -> list[Group]:
    return [Group((("grams", g),)) for g in dict.fromkeys(words.bigrams(q)) if len(g) == 2]


def best_question(questions: list[str], q: str) -> str:
    """The entry's question sharing most words with the query."""
    said = set(words.terms(q))
    return max(questions, key=lambda question: len(said & set(words.terms(question)))) if questions else ""


@dataclass(frozen=True)
class Found:
    q: str
    took_ms: float
    results: list[dict[str, Any]]


class Search:
    def __init__(self, entries: Entries) -> None:
        self.entries = entries

    async def hits(self, q: str, *, limit: int, category: str | None = None, today: date | None = None
                   ) -> list[Hit]:
        """The best `CANDIDATES` (at least `limit`) entries for `q`: with every word; else with all words but
        one (a word no entry has, a typo); else with any word; else sharing character bigrams."""
        await self.entries.known_words()
        day, want = today or china_today(), max(limit, CANDIDATES)
        asked = groups(q)
        index = self.entries.index
        stages = [[asked]]  # every word
        if len(asked) > 2:  # all words but one
            stages.append([asked[:i] + asked[i + 1:] for i in range(len(asked))])
        stages += [[[g] for g in asked], [[g] for g in gram_groups(q)]]  # any word; any bigram
        found: list[Hit] = []
        async with self.entries.sessions() as s:
            for combos in stages:
                if found := await index.find(s, combos, today=day, limit=want, category=category):
                    break
        return found

    async def search(self, q: str, *, by: str, line: str | None = None, limit: int = 10,
                     category: str | None = None, log: bool = True) -> Found:
        started = time.perf_counter()
        hits = await self.hits(q, limit=limit, category=category)
        results = await self.ranked(hits, q, limit)
        took = round((time.perf_counter() - started) * 1000, 1)
        if log:
            async with self.entries.sessions.begin() as s:
                s.add(KnowledgeSearch(at=now(), q=q[:200], results=len(results), by=by[:64], line=line))
        return Found(q, took, results)

    async def ranked(self, hits: list[Hit], q: str, limit: int) -> list[dict[str, Any]]:
        """Match × freshness × use; the first hits (all words) keep their lead over the rest."""
        if not hits:
            return []
        async with self.entries.sessions() as s:
            rows = {r.id: r for r in (await s.scalars(select(KnowledgeEntry).where(
                KnowledgeEntry.id.in_([h.entry_id for h in hits])))).all()}
        at = now()
        scored = []
        for h in hits:
            row = rows.get(h.entry_id)
            if row is None or row.state != "published":
                continue
            age = (at - (row.published_at or at)).total_seconds() / 86400
            fresh = 0.85 + 0.15 / (1 + age / FRESH_DAYS)
            score = h.match * fresh * (1 + 0.05 * math.log1p(row.uses))
            scored.append((score, row))
        scored.sort(key=lambda pair: -pair[0])
        return [self.result(row, score, q) for score, row in scored[:limit]]

    def result(self, row: KnowledgeEntry, score: float, q: str) -> dict[str, Any]:
        full = self.entries.to_json(row)
        return {"id": row.id, "title": row.title, "question": best_question(list(row.questions), q),
                "answer": row.answer, "department": row.department, "category": row.category,
                "category_label": full["category_label"], "region": row.region, "keywords": row.keywords,
                "valid_until": full["valid_until"], "phone": row.phone, "score": round(score, 3),
                "uses": row.uses}
