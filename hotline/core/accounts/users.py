"""The users: created, found, checked at sign-in, disabled and enabled, their passwords changed or reset.
Every change is audited in the same transaction (who, which user; never a password)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.accounts.models import User
from hotline.core.accounts.passwords import Passwords, generated, weakness
from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import CLI, ROLES, Actor

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")


def normal(username: str) -> str:
    """A user name as stored and compared: trimmed, lower case."""
    return username.strip().lower()


@dataclass(frozen=True)
class UserView:
    """A user as the API shows it."""

    id: int
    username: str
    name: str
    role: str
    agent_id: str | None
    team: str | None
    must_change_password: bool
    disabled_at: datetime | None
    created_at: datetime
    password_changed_at: datetime
    generation: int

    @classmethod
    def of(cls, row: User) -> UserView:
        return cls(row.id, row.username, row.name, row.role, row.agent_id, row.team, row.must_change_password,
                   row.disabled_at, row.created_at, row.password_changed_at, row.session_generation)

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    def brief(self) -> dict[str, Any]:
        """Who is signed in (the session body's `user`)."""
        return {"id": self.id, "username": self.username, "name": self.name, "role": self.role,
                "agent_id": self.agent_id, "team": self.team}

    def to_json(self) -> dict[str, Any]:
        return {**self.brief(), "disabled": self.disabled, "must_change_password": self.must_change_password,
                "disabled_at": self.disabled_at.isoformat() if self.disabled_at else None,
                "created_at": self.created_at.isoformat(),
                "password_changed_at": self.password_changed_at.isoformat()}


@dataclass(frozen=True)
class NewUser:
    """A user to create; `password` None: a generated one-time password, changed at first sign-in."""

    username: str
    role: str
    name: str = ""
    agent_id: str | None = None
    team: str | None = None
    password: str | None = None


class Users:
    def __init__(self, sessions: SessionFactory, passwords: Passwords | None = None) -> None:
        self._sessions = sessions
        self.passwords = passwords or Passwords()

    async def count(self) -> int:
        async with self._sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(User)) or 0)

    async def get(self, user_id: int) -> UserView | None:
        async with self._sessions() as s:
            row = await s.get(User, user_id)
        return UserView.of(row) if row is not None else None

    async def named(self, username: str) -> UserView | None:
        async with self._sessions() as s:
            row = await s.scalar(select(User).where(User.username == normal(username)))
        return UserView.of(row) if row is not None else None

    async def generations(self, user_ids: Collection[int]) -> dict[int, int]:
        """The session generation of each of these users who is not disabled."""
        if not user_ids:
            return {}
        async with self._sessions() as s:
            rows = (await s.execute(select(User.id, User.session_generation).where(
                User.id.in_(list(user_ids)), User.disabled_at.is_(None)))).all()
        return {user_id: generation for user_id, generation in rows}

    async def list(self) -> list[UserView]:
        async with self._sessions() as s:
            rows = (await s.scalars(select(User).order_by(User.id))).all()
        return [UserView.of(r) for r in rows]

    async def create(self, new: NewUser, *, by: Actor = CLI) -> tuple[UserView, str | None]:
        """The user and, when none was given, the generated one-time password (shown once)."""
        username = normal(new.username)
        if not USERNAME.fullmatch(username):
            raise Invalid("用户名为 2–32 个小写字母、数字或 . _ -，以字母或数字开头", error_id="bad_username")
        if new.role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}", error_id="bad_role")
        if new.role == "agent" and not new.agent_id:
            raise Invalid("an agent needs an agent id", error_id="agent_id_required")
        if new.role == "editor" and not new.team:  # a department's knowledge editor: the team is the department
            raise Invalid("an editor needs their department as the team", error_id="team_required")
        one_time = generated() if new.password is None else None
        password = new.password if new.password is not None else one_time
        assert password is not None
        if new.password is not None and (why := weakness(new.password, username)):
            raise Invalid(why, error_id="weak_password")
        hashed, now = await self.passwords.hash(password), datetime.now(UTC)
        async with self._sessions.begin() as s:
            if await s.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict(f"user name {username} is taken", error_id="username_taken")
            if new.agent_id and await s.scalar(select(User.username).where(User.agent_id == new.agent_id,
                                                                           User.disabled_at.is_(None))):
                raise Conflict(f"agent {new.agent_id} has an account already", error_id="agent_taken")
            row = User(username=username, name=new.name or username, role=new.role, agent_id=new.agent_id or None,
                       team=new.team or None, password_hash=hashed, must_change_password=one_time is not None,
                       created_at=now, password_changed_at=now, session_generation=0)
            s.add(row)
            await s.flush()
            _audit(s, by, "accounts.create", row, user_role=row.role, agent_id=row.agent_id, team=row.team)
            return UserView.of(row), one_time

    async def sign_in(self, username: str, password: str) -> UserView | None:
        """The user when the password is theirs (disabled or not: the caller tells them apart after a correct
        password), else None; the argon2 time is spent for unknown names too. An outdated hash is redone."""
        async with self._sessions() as s:
            row = await s.scalar(select(User).where(User.username == normal(username)))
        if not await self.passwords.check(row.password_hash if row else None, password) or row is None:
            return None
        if self.passwords.outdated(row.password_hash):
            fresh = await self.passwords.hash(password)
            async with self._sessions.begin() as s:
                stored = await s.get(User, row.id)
                if stored is not None and stored.password_hash == row.password_hash:
                    stored.password_hash = fresh
        return UserView.of(row)

    async def change_password(self, user_id: int, old: str, new: str, *, by: Actor) -> UserView | None:
        """Set a new password after checking the old one (None: the old one is wrong); 422 when the new one is
        weak or the same. Raises the session generation: the user's other sessions end."""
        async with self._sessions() as s:
            row = await s.get(User, user_id)
        if row is None:
            raise NotFound(f"no user {user_id}")
        if not await self.passwords.check(row.password_hash, old):
            return None
        if why := weakness(new, row.username):
            raise Invalid(why, error_id="weak_password")
        if new == old:
            raise Invalid("新密码不能与旧密码相同", error_id="weak_password")
        return await self._set_password(user_id, await self.passwords.hash(new), False, by, "accounts.password")

    async def reset_password(self, user_id: int, *, by: Actor) -> tuple[UserView, str]:
        """A generated one-time password, to be changed at the next sign-in; every session of the user ends."""
        password = generated()
        view = await self._set_password(user_id, await self.passwords.hash(password), True, by, "accounts.reset")
        return view, password

    async def disable(self, user_id: int, *, by: Actor) -> UserView:
        return await self._change(user_id, by, "accounts.disable", disabled=True)

    async def enable(self, user_id: int, *, by: Actor) -> UserView:
        return await self._change(user_id, by, "accounts.enable", disabled=False)

    async def sign_out_everywhere(self, user_id: int, *, by: Actor) -> UserView:
        return await self._change(user_id, by, "accounts.everywhere")

    async def _set_password(self, user_id: int, hashed: str, one_time: bool, by: Actor, action: str) -> UserView:
        async with self._sessions.begin() as s:
            row = await _row(s, user_id)
            row.password_hash, row.must_change_password = hashed, one_time
            row.password_changed_at = datetime.now(UTC)
            row.session_generation += 1
            _audit(s, by, action, row)
            return UserView.of(row)

    async def _change(self, user_id: int, by: Actor, action: str, *, disabled: bool | None = None) -> UserView:
        """Disable, enable, or only end the sessions (every change but enabling raises the generation)."""
        async with self._sessions.begin() as s:
            row = await _row(s, user_id)
            if disabled is False and row.agent_id and await s.scalar(select(User.username).where(
                    User.agent_id == row.agent_id, User.disabled_at.is_(None), User.id != row.id)):
                raise Conflict(f"agent {row.agent_id} has another account now", error_id="agent_taken")
            if disabled is not None:
                row.disabled_at = (row.disabled_at or datetime.now(UTC)) if disabled else None
            if disabled is not False:
                row.session_generation += 1
            _audit(s, by, action, row)
            return UserView.of(row)


async def _row(s: AsyncSession, user_id: int) -> User:
    row = await s.get(User, user_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no user {user_id}")
    return row


def _audit(s: AsyncSession, by: Actor, action: str, row: User, **detail: object) -> None:
    s.add(AuditEntry(at=datetime.now(UTC), actor=by.name[:64], role=by.role, action=action,
                     resource=f"users/{row.id}", allowed=True, remote=by.remote,
                     detail={"username": row.username, **detail}))
