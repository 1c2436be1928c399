"""API bearer tokens with roles; only SHA-256 hashes are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import ApiToken

ROLES = ("agent", "supervisor", "engineer", "auditor", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is calling the API."""

    token_id: int
    name: str
    role: str
    agent_id: str | None
    group: str | None = None  # a supervisor's team (None: the whole centre)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokens:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def create(self, *, name: str, role: str, agent_id: str | None = None, group: str | None = None) -> str:
        """A new token (shown once); agents must name their agent id; a supervisor may be limited to a team."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if role == "agent" and not agent_id:
            raise ValueError("an agent token needs --agent ID")
        token = "hl_" + secrets.token_urlsafe(32)
        async with self._sessions.begin() as s:
            s.add(ApiToken(name=name, role=role, agent_id=agent_id, group=group, token_hash=_hash(token),
                           created_at=datetime.now(UTC)))
        return token

    async def verify(self, token: str) -> Principal | None:
        """The principal for a live token, else None."""
        digest = _hash(token)
        async with self._sessions() as s:
            row = await s.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return Principal(row.id, row.name, row.role, row.agent_id, row.group)

    async def revoke(self, token_id: int) -> bool:
        async with self._sessions.begin() as s:
            row = await s.get(ApiToken, token_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = datetime.now(UTC)
            return True

    async def list(self) -> list[dict[str, object]]:
        async with self._sessions() as s:
            rows = (await s.scalars(select(ApiToken).order_by(ApiToken.id))).all()
        return [{"id": r.id, "name": r.name, "role": r.role, "agent_id": r.agent_id,
                 "created_at": r.created_at.isoformat(), "revoked": r.revoked_at is not None} for r in rows]
