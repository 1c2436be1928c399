"""Suggestions from the caller's line: a merged number (dialplans/hotline.yaml `department:`) → that
department's most used published, valid entries; and the entries the IVR may read to that line's callers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from dialplans.model import Dialplan
from hotline.core.clock import china_today
from knowledge.models import KnowledgeEntry
from knowledge.search import Search


def shown_today(*where: ColumnElement[bool]) -> Any:
    """Published entries valid today, most used first."""
    today = china_today()
    return (select(KnowledgeEntry).where(
        *where, KnowledgeEntry.state == "published", KnowledgeEntry.valid_from <= today,
        or_(KnowledgeEntry.valid_until.is_(None), KnowledgeEntry.valid_until >= today))
        .order_by(KnowledgeEntry.uses.desc(), KnowledgeEntry.id.desc()))


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
        async with self.search.entries.sessions() as s:
            rows = (await s.scalars(shown_today(KnowledgeEntry.department == department).limit(limit))).all()
        return department, [self.search.result(r, 0.0, "") for r in rows]

    async def for_phone(self, line: str, limit: int, first: Sequence[int] = ()) -> list[KnowledgeEntry]:
        """Entries marked for the phone, for callers of `line`: those in `first` (the line's announcements
        point to them), then its department's, or (the main number, a line without a department) every
        department's; most used first."""
        department = self.department(line)
        phone = KnowledgeEntry.phone.is_(True)
        where: list[ColumnElement[bool]] = [phone, KnowledgeEntry.id.not_in(first)]
        if department is not None:
            where.append(KnowledgeEntry.department == department)
        async with self.search.entries.sessions() as s:
            pointed = (await s.scalars(shown_today(phone, KnowledgeEntry.id.in_(first)))).all() if first else []
            pointed = sorted(pointed, key=lambda e: list(first).index(e.id))
            return [*pointed, *(await s.scalars(shown_today(*where).limit(limit)))][:limit]

    async def published_title(self, entry_id: int) -> str | None:
        """The title of published entry `entry_id` (what an announcement may point to)."""
        async with self.search.entries.sessions() as s:
            return await s.scalar(select(KnowledgeEntry.title).where(KnowledgeEntry.id == entry_id,
                                                                     KnowledgeEntry.state == "published"))
