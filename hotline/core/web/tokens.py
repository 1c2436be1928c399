"""API bearer tokens with roles; only SHA-256 hashes are stored. A token expires (`expires_at`; people's tokens
after `lifetime`, a machine token only if made with one), is rotated to a new one for the same principal, and
every create, revoke and rotate is audited (who, which token id; never the token)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.db.engine import SessionFactory
from hotline.core.settings import env
from hotline.core.web.models import ApiToken, AuditEntry

ROLES = ("agent", "supervisor", "engineer", "auditor", "admin", "editor")  # editor: a department's knowledge editor


@dataclass(frozen=True)
class Principal:
    """Who is calling the API."""

    token_id: int
    name: str
    role: str
    agent_id: str | None
    group: str | None = None  # a supervisor's team (None: the whole centre)
    session: str | None = None  # a person signed in with a session cookie: the session's key (token_id is 0)
    user_id: int | None = None  # … and their user

    @property
    def key(self) -> str:
        """What this principal's websockets are counted and closed by: its token or its session."""
        return f"session:{self.session}" if self.session is not None else f"token:{self.token_id}"


class Refused(StrEnum):
    """Why a token is not accepted; the value is the 401's error id."""

    INVALID = "auth_invalid"  # unknown or revoked
    EXPIRED = "auth_expired"


@dataclass(frozen=True)
class Issued:
    """A new token: its id (for lists, revoke, rotate) and the secret, shown once."""

    id: int
    token: str


@dataclass(frozen=True)
class Actor:
    """Who creates, revokes or rotates a token, for the audit row."""

    name: str
    role: str = "admin"
    remote: str | None = None


CLI = Actor("cli", "admin")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live(row: ApiToken, now: datetime) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


class ApiTokens:
    def __init__(self, sessions: SessionFactory, *, lifetime: timedelta | None = None) -> None:
        """`lifetime` of people's tokens: by default `HOTLINE_TOKEN_DAYS` (90) days."""
        self._sessions = sessions
        self.lifetime = lifetime or timedelta(days=float(env("TOKEN_DAYS", "90")))

    async def issue(self, *, name: str, role: str, agent_id: str | None = None, group: str | None = None,
                    lifetime: timedelta | None = None, machine: bool = False, by: Actor = CLI) -> Issued:
        """A new token; agents must name their agent id; a supervisor may be limited to a team. It expires
        after `lifetime` (default: the configured one), a `machine` token without one never."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if role == "agent" and not agent_id:
            raise ValueError("an agent token needs --agent ID")
        now = datetime.now(UTC)
        expires = None if machine and lifetime is None else now + (lifetime or self.lifetime)
        async with self._sessions.begin() as s:
            return await self._add(s, ApiToken(name=name, role=role, agent_id=agent_id, group=group,
                                               created_at=now, expires_at=expires), by, "tokens.create")

    async def create(self, *, name: str, role: str, agent_id: str | None = None, group: str | None = None) -> str:
        """A new token of the default lifetime (shown once)."""
        return (await self.issue(name=name, role=role, agent_id=agent_id, group=group)).token

    async def check(self, token: str) -> Principal | Refused:
        """The principal for a live token, else why not."""
        digest = _hash(token)
        async with self._sessions() as s:
            row = await s.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
            return Refused.INVALID
        if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
            return Refused.EXPIRED
        return Principal(row.id, row.name, row.role, row.agent_id, row.group)

    async def verify(self, token: str) -> Principal | None:
        """The principal for a live token, else None."""
        who = await self.check(token)
        return who if isinstance(who, Principal) else None

    async def live(self, ids: Collection[int]) -> set[int]:
        """Which of these token ids are neither revoked nor expired."""
        if not ids:
            return set()
        now = datetime.now(UTC)
        async with self._sessions() as s:
            rows = (await s.scalars(select(ApiToken).where(ApiToken.id.in_(list(ids))))).all()
        return {r.id for r in rows if _live(r, now)}

    async def revoke(self, token_id: int, *, by: Actor = CLI) -> bool:
        async with self._sessions.begin() as s:
            row = await s.get(ApiToken, token_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = datetime.now(UTC)
            _audit(s, by, "tokens.revoke", row.id, {"name": row.name, "token_role": row.role})
            return True

    async def rotate(self, token_id: int, *, grace: timedelta = timedelta(0), by: Actor = CLI) -> Issued | None:
        """A new token for the same principal (and the same kind of lifetime); the old one is revoked now, or
        expires after `grace` so clients can switch. None when the token is unknown, revoked or expired."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as s:
            old = await s.get(ApiToken, token_id, with_for_update=True)
            if old is None or not _live(old, now):
                return None
            expiring = old.expires_at is not None  # a person's token: its successor expires too
            if grace > timedelta(0):
                old.expires_at = min(old.expires_at or now + grace, now + grace)
            else:
                old.revoked_at = now
            new = ApiToken(name=old.name, role=old.role, agent_id=old.agent_id, group=old.group, created_at=now,
                           expires_at=now + self.lifetime if expiring else None)
            issued = await self._add(s, new, by, "tokens.rotate", old=old.id, grace_s=int(grace.total_seconds()))
        return issued

    async def list(self) -> list[dict[str, object]]:
        now = datetime.now(UTC)
        async with self._sessions() as s:
            rows = (await s.scalars(select(ApiToken).order_by(ApiToken.id))).all()
        return [{"id": r.id, "name": r.name, "role": r.role, "agent_id": r.agent_id,
                 "created_at": r.created_at.isoformat(),
                 "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                 "revoked": r.revoked_at is not None,
                 "expired": r.expires_at is not None and r.expires_at <= now} for r in rows]

    @staticmethod
    async def _add(s: AsyncSession, row: ApiToken, by: Actor, action: str, **detail: object) -> Issued:
        token = "hl_" + secrets.token_urlsafe(32)
        row.token_hash = _hash(token)
        s.add(row)
        await s.flush()
        _audit(s, by, action, row.id, {"name": row.name, "token_role": row.role, **detail,
                                       "expires_at": row.expires_at.isoformat() if row.expires_at else None})
        return Issued(row.id, token)


def _audit(s: AsyncSession, by: Actor, action: str, token_id: int, detail: dict[str, object]) -> None:
    s.add(AuditEntry(at=datetime.now(UTC), actor=by.name[:64], role=by.role, action=action,
                     resource=f"tokens/{token_id}", allowed=True, remote=by.remote, detail=detail))
