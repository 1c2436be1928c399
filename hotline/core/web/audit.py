"""The audit log: every access to personal data, allowed or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read: each field narrows, None does not; `resource` is a prefix, `before` a cursor
    (entries older than that id)."""

    actor: str | None = None
    role: str | None = None
    action: str | None = None
    resource: str | None = None
    allowed: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class AuditLog:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def record(self, *, actor: str, role: str, action: str, resource: str, allowed: bool,
                     remote: str | None, detail: dict[str, Any] | None = None) -> None:
        async with self._sessions.begin() as s:
            s.add(AuditEntry(at=datetime.now(UTC), actor=actor, role=role, action=action, resource=resource,
                             allowed=allowed, remote=remote, detail=detail or {}))

    async def search(self, where: AuditFilter, limit: int) -> list[dict[str, Any]]:
        """Matching entries, newest first (by id: a stable order a cursor can resume)."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        for column, value in ((AuditEntry.actor, where.actor), (AuditEntry.role, where.role),
                              (AuditEntry.action, where.action), (AuditEntry.allowed, where.allowed)):
            if value is not None:
                query = query.where(column == value)
        if where.resource:
            query = query.where(AuditEntry.resource.like(_like_prefix(where.resource), escape="\\"))
        if where.since is not None:
            query = query.where(AuditEntry.at >= where.since)
        if where.until is not None:
            query = query.where(AuditEntry.at < where.until)
        if where.before is not None:
            query = query.where(AuditEntry.id < where.before)
        async with self._sessions() as s:
            rows = (await s.scalars(query)).all()
        return [_entry(r) for r in rows]

    async def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        return await self.search(AuditFilter(), limit)


def _entry(r: AuditEntry) -> dict[str, Any]:
    return {"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "role": r.role, "action": r.action,
            "resource": r.resource, "allowed": r.allowed, "remote": r.remote, "detail": r.detail}


AUDIT = web.AppKey("audit", AuditLog)
