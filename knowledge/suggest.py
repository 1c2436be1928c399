"""Suggestions from the caller's line: a merged number (dialplans/hotline.yaml `department:`) → that
department's most used published, valid entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from dialplans.model import Dialplan
from hotline.core.clock import china_today
from knowledge.models import KnowledgeEntry
from knowledge.search import Search


class Suggestions:
    def __init__(self, search: Search, dialplan: Dialplan | None) -> None:
        self.search, self.dialplan = search, dialplan

    def department(self, line: str) -> str | None:
        number = self.dialplan.number(line) if self.dialplan is not None else None
        return number.department or None if number is not None else None

    async def for_line(self, line: str, limit: int) -> tuple[str | None, list[dict[str, Any]]]:
        department = self.department(line)
        if department is None:
            return None, []
        today = china_today()
        async with self.search.entries.sessions() as s:
            rows = (await s.scalars(select(KnowledgeEntry).where(
                KnowledgeEntry.department == department, KnowledgeEntry.state == "published",
                KnowledgeEntry.valid_from <= today,
                or_(KnowledgeEntry.valid_until.is_(None), KnowledgeEntry.valid_until >= today))
                .order_by(KnowledgeEntry.uses.desc(), KnowledgeEntry.id.desc()).limit(limit))).all()
        return department, [self.search.result(r, 0.0, "") for r in rows]
