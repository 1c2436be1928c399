"""The first run makes `admin` with a generated password in a 0600 file, to be changed at first sign-in; later
runs make no one, and the file goes once the password has been changed."""

from __future__ import annotations

import stat
from pathlib import Path

from hotline.core.accounts.first import ensure_first_admin
from hotline.core.accounts.passwords import Passwords
from hotline.core.accounts.users import Users
from hotline.core.db.engine import SessionFactory
from hotline.core.web.tokens import CLI
from tests.core.accounts.serving import CHEAP


async def test_the_first_admin(sqlite_sessions: SessionFactory, tmp_path: Path) -> None:
    users, path = Users(sqlite_sessions, Passwords(CHEAP)), tmp_path / "first-admin-password"
    assert await ensure_first_admin(users, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = path.read_text().strip()
    admin = await users.sign_in("admin", password)
    assert admin is not None and admin.role == "admin" and admin.must_change_password
    assert not await ensure_first_admin(users, path) and path.read_text().strip() == password, "kept until changed"
    assert await users.change_password(admin.id, password, "the-chiefs-own-pass", by=CLI) is not None
    assert not await ensure_first_admin(users, path)
    assert not path.exists(), "a stale one-time password is not left lying about"
    assert await users.count() == 1


async def test_no_first_admin_when_people_have_accounts(sqlite_sessions: SessionFactory, tmp_path: Path) -> None:
    from hotline.core.accounts.users import NewUser

    users = Users(sqlite_sessions, Passwords(CHEAP))
    await users.create(NewUser("chief", "admin", password="centre-head-2026"))
    assert not await ensure_first_admin(users, tmp_path / "first-admin-password")
    assert await users.named("admin") is None and not (tmp_path / "first-admin-password").exists()
