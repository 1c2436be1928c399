"""The audit log: every access to personal data, allowed or not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry


class AuditLog:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def record(self, *, actor: str, role: str, action: str, resource: str, allowed: bool,
                     remote: str | None, detail: dict[str, Any] | None = None) -> None:
        async with self._sessions.begin() as s:
            s.add(AuditEntry(at=datetime.now(UTC), actor=actor, role=role, action=action, resource=resource,
                             allowed=allowed, remote=remote, detail=detail or {}))

    async def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        async with self._sessions() as s:
            rows = (await s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))).all()
        return [{"at": r.at.isoformat(), "actor": r.actor, "role": r.role, "action": r.action,
                 "resource": r.resource, "allowed": r.allowed, "remote": r.remote, "detail": r.detail}
                for r in rows]


AUDIT = web.AppKey("audit", AuditLog)
