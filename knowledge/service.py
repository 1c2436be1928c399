"""The entries' life cycle: draft → checked (by a second person, not the author) → published → expired (by
time) or withdrawn (with a reason); every change a version row; the search index follows in the same
transaction.

Editing a published entry does not take it from agents: the edit is kept as its pending content (a draft of
its own, checked and published like one) and replaces the published content when published. Editing an
expired or withdrawn entry makes it a draft again. A department's editor reaches its own department only
(`Reach`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import CHINA, china_today, now
from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Conflict, Forbidden, Invalid, NotFound
from hotline.core.web.bodies import field_errors
from knowledge import words
from knowledge.fields import CONTENT, EntryFields, EntryPatch, check_category, jsonable
from knowledge.index import Document, SearchIndex, document, index_for
from knowledge.models import KnowledgeEntry, KnowledgeVersion
from tickets.catalogue import Catalogue

REMIND_DAYS = 14  # review_by or valid_until this close: listed with expiring=1 and counted per department
LIVE = ("draft", "checked", "published")


@dataclass(frozen=True)
class Reach:
    """Which departments' entries the principal reaches (None: all)."""

    department: str | None = None

    def covers(self, department: str) -> bool:
        return self.department is None or department == self.department

    def require(self, department: str) -> None:
        if not self.covers(department):
            raise Forbidden(f"entries of {department} are not yours to change", error_id="other_department")


class EntryNotFound(NotFound):
    error_id = "entry_not_found"


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def day_start(day: date) -> datetime:
    """The instant a day in China begins."""
    return datetime.combine(day, time(), CHINA).astimezone(UTC)


def checked(content: dict[str, Any]) -> EntryFields:
    """Content checked as a whole (422 naming each bad field)."""
    try:
        return EntryFields.model_validate(content)
    except ValidationError as exc:
        fields = field_errors(exc)
        raise Invalid("; ".join(f"{f['field']}: {f['message']}" for f in fields), fields=fields,
                      error_id="bad_entry") from None


class Entries:
    """Entries, their versions and the search index."""

    def __init__(self, sessions: SessionFactory, catalogue: Catalogue, index: SearchIndex | None = None) -> None:
        self.sessions, self.catalogue = sessions, catalogue
        bind = sessions.kw.get("bind")
        self.index = index or index_for(bind.dialect.name if bind is not None else "sqlite")
        self._taught = False

    # --- reading ---

    def to_json(self, row: KnowledgeEntry) -> dict[str, Any]:
        category = self.catalogue.get(row.category) if row.category else None
        return {"id": row.id, "title": row.title, "questions": row.questions, "answer": row.answer,
                "department": row.department, "category": row.category,
                "category_label": category.label if category else "", "region": row.region,
                "keywords": row.keywords, "valid_from": _iso(row.valid_from), "valid_until": _iso(row.valid_until),
                "review_by": _iso(row.review_by), "source": row.source, "source_date": _iso(row.source_date),
                "phone": row.phone, "state": row.state, "version": row.version, "author": row.created_by,
                "created_at": _iso(row.created_at), "edited_by": row.edited_by, "updated_at": _iso(row.updated_at),
                "checked_by": row.checked_by, "checked_at": _iso(row.checked_at),
                "published_at": _iso(row.published_at), "withdrawn_reason": row.withdrawn_reason, "uses": row.uses,
                "pending": row.pending}

    async def _load(self, s: AsyncSession, entry_id: int, reach: Reach, *, for_update: bool = False
                    ) -> KnowledgeEntry:
        row = await s.get(KnowledgeEntry, entry_id, with_for_update=for_update)
        if row is None or not reach.covers(row.department):  # another department's entry looks like none
            raise EntryNotFound(f"no knowledge entry {entry_id}")
        return row

    async def get(self, entry_id: int, reach: Reach) -> dict[str, Any]:
        """The entry with its versions, newest first."""
        async with self.sessions() as s:
            row = await self._load(s, entry_id, reach)
            versions = (await s.scalars(select(KnowledgeVersion).where(KnowledgeVersion.entry_id == entry_id)
                                        .order_by(KnowledgeVersion.id.desc()))).all()
        return {**self.to_json(row), "versions": [
            {"version": v.version, "at": _iso(v.at), "by": v.by, "action": v.action, "changes": v.changes}
            for v in versions]}

    async def listing(self, reach: Reach, *, state: str | None = None, department: str | None = None,
                      q: str | None = None, expiring: bool = False, limit: int = 50, before: int | None = None,
                      today: date | None = None) -> tuple[list[dict[str, Any]], int | None]:
        """Entries, newest first, and the id to page on from (None: no more)."""
        query = select(KnowledgeEntry).order_by(KnowledgeEntry.id.desc()).limit(limit + 1)
        if reach.department is not None:
            query = query.where(KnowledgeEntry.department == reach.department)
        if department:
            query = query.where(KnowledgeEntry.department == department)
        if state:
            query = query.where(KnowledgeEntry.state == state)
        if before:
            query = query.where(KnowledgeEntry.id < before)
        if q:
            like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(or_(KnowledgeEntry.title.like(like, escape="\\"),
                                    KnowledgeEntry.answer.like(like, escape="\\")))
        if expiring:
            soon = (today or china_today()) + timedelta(days=REMIND_DAYS)
            query = query.where(KnowledgeEntry.state.in_(LIVE), or_(
                KnowledgeEntry.review_by <= soon, KnowledgeEntry.valid_until <= soon))
        async with self.sessions() as s:
            rows = list((await s.scalars(query)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return [self.to_json(r) for r in rows], rows[-1].id if more and rows else None

    # --- changing ---

    def _version(self, s: AsyncSession, row: KnowledgeEntry, by: str, action: str, changes: dict[str, Any]) -> None:
        s.add(KnowledgeVersion(entry_id=row.id, version=row.version, at=now(), by=by, action=action,
                               changes=changes))

    async def create(self, fields: EntryFields, by: str, reach: Reach, *, action: str = "created") -> dict[str, Any]:
        async with self.sessions.begin() as s:
            row = await self._add(s, fields, by, reach, action)
        return self.to_json(row)

    async def create_many(self, many: Sequence[EntryFields], by: str, reach: Reach) -> list[int]:
        """Drafts of all (one transaction: all or none)."""
        async with self.sessions.begin() as s:
            return [(await self._add(s, fields, by, reach, "imported")).id for fields in many]

    async def _add(self, s: AsyncSession, fields: EntryFields, by: str, reach: Reach, action: str
                   ) -> KnowledgeEntry:
        reach.require(fields.department)
        check_category(fields, self.catalogue)
        at = now()
        row = KnowledgeEntry(**fields.content(), state="draft", version=1, created_by=by, created_at=at,
                             edited_by=by, updated_at=at, uses=0)
        s.add(row)
        await s.flush()
        self._version(s, row, by, action, {k: [None, v] for k, v in jsonable(fields.content()).items()})
        return row

    async def update(self, entry_id: int, patch: EntryPatch, by: str, reach: Reach) -> dict[str, Any]:
        """New content: a draft again, or (published) the pending content."""
        async with self.sessions.begin() as s:
            row = await self._load(s, entry_id, reach, for_update=True)
            base = row.pending["content"] if row.pending else jsonable({k: getattr(row, k) for k in CONTENT})
            merged = checked({**base, **patch.model_dump(exclude_unset=True)})
            reach.require(merged.department)
            check_category(merged, self.catalogue)
            new = jsonable(merged.content())
            changes = {k: [base.get(k), v] for k, v in new.items() if base.get(k) != v}
            if not changes:
                return self.to_json(row)
            policy = bool({"source", "source_date"} & set(changes)) and row.published_at is not None
            row.version += 1
            row.updated_at = now()
            if row.state == "published":
                row.pending = {"content": new, "state": "draft", "edited_by": by, "checked_by": None,
                               "policy_changed": policy or bool(row.pending and row.pending.get("policy_changed"))}
            else:
                for k in CONTENT:
                    setattr(row, k, getattr(merged, k))
                row.state, row.edited_by, row.checked_by, row.checked_at = "draft", by, None, None
                row.withdrawn_reason, row.pending = None, None
            if policy:
                row.policy_changed_at = row.updated_at
            self._version(s, row, by, "edited", changes)
        return self.to_json(row)

    async def check(self, entry_id: int, by: str) -> dict[str, Any]:
        """多方校核: a second person confirms the draft (409 own_entry for its author)."""
        async with self.sessions.begin() as s:
            row = await self._load(s, entry_id, Reach(), for_update=True)
            pending = row.pending
            state, author = (pending["state"], pending["edited_by"]) if pending else (row.state, row.edited_by)
            if state != "draft":
                raise Conflict(f"entry {entry_id} is {state}: only a draft is checked", error_id="not_draft")
            if author == by:
                raise Conflict("an entry is checked by someone other than its author", error_id="own_entry")
            if pending:
                row.pending = {**pending, "state": "checked", "checked_by": by}
            else:
                row.state, row.checked_by, row.checked_at = "checked", by, now()
            row.version += 1
            self._version(s, row, by, "checked", {})
        return self.to_json(row)

    async def publish(self, entry_id: int, by: str, *, today: date | None = None) -> dict[str, Any]:
        """Agents and citizens find it from now on (409 unless checked, or when its validity has ended)."""
        async with self.sessions.begin() as s:
            row = await self._load(s, entry_id, Reach(), for_update=True)
            pending = row.pending
            if (pending["state"] if pending else row.state) != "checked":
                raise Conflict(f"entry {entry_id} is not checked", error_id="not_checked")
            at, changes = now(), {}
            if pending:
                merged = checked(pending["content"])
                for k in CONTENT:
                    setattr(row, k, getattr(merged, k))
                row.checked_by, row.checked_at, row.edited_by = pending["checked_by"], at, pending["edited_by"]
                row.pending = None
            if row.valid_until is not None and row.valid_until < (today or china_today()):
                raise Conflict(f"entry {entry_id} was valid until {row.valid_until}", error_id="past_valid_until")
            if row.policy_changed_at is not None:  # an update after its source (policy) changed: how long it took
                since = day_start(row.source_date) if row.source_date else row.policy_changed_at
                changes["update_days"] = round(max(0.0, (at - min(since, row.policy_changed_at)).total_seconds())
                                               / 86400, 2)
                row.policy_changed_at = None
            row.state, row.published_at, row.updated_at = "published", at, at
            row.version += 1
            self._version(s, row, by, "published", changes)
            await self.index.put(s, row.id, self.document(row))
        return self.to_json(row)

    def document(self, row: KnowledgeEntry) -> Document:
        category = self.catalogue.get(row.category) if row.category else None
        extra = [e for e in (*(category.path[-2:] if category else ()), row.region) if e]
        words.SEGMENTER.add_words([row.department, *row.keywords, *extra])
        return document(row.title, list(row.questions), list(row.keywords), extra)

    async def known_words(self) -> None:
        """Teach the segmenter the catalogue's names and the published entries' departments, regions and
        keywords (once a process, before the first search)."""
        if self._taught:
            return
        self._taught = True
        words.SEGMENTER.add_words(c.name for c in self.catalogue.all())
        async with self.sessions() as s:
            rows = (await s.execute(select(KnowledgeEntry.department, KnowledgeEntry.region, KnowledgeEntry.keywords)
                                    .where(KnowledgeEntry.state == "published"))).all()
        said: set[str] = set()
        for department, region, keywords in rows:
            said.update((department, region, *keywords))
        words.SEGMENTER.add_words(said)

    async def withdraw(self, entry_id: int, reason: str, by: str, reach: Reach) -> dict[str, Any]:
        async with self.sessions.begin() as s:
            row = await self._load(s, entry_id, reach, for_update=True)
            if row.state == "withdrawn":
                raise Conflict(f"entry {entry_id} is withdrawn already", error_id="withdrawn")
            row.state, row.withdrawn_reason, row.pending, row.updated_at = "withdrawn", reason, None, now()
            row.version += 1
            self._version(s, row, by, "withdrawn", {"reason": reason})
            await self.index.drop(s, row.id)
        return self.to_json(row)

    async def expire(self, today: date | None = None) -> int:
        """Published entries whose validity has ended become expired (out of the index); how many."""
        day = today or china_today()
        async with self.sessions.begin() as s:
            rows = (await s.scalars(select(KnowledgeEntry).where(
                KnowledgeEntry.state == "published", KnowledgeEntry.valid_until < day))).all()
            for row in rows:
                row.state, row.updated_at = "expired", now()
                row.version += 1
                self._version(s, row, "system", "expired", {"valid_until": _iso(row.valid_until)})
                await self.index.drop(s, row.id)
        return len(rows)
