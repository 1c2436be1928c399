"""Password rules, generated one-time passwords, and hashes redone at sign-in when the argon2 parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select

from hotline.core.accounts.models import User
from hotline.core.accounts.passwords import Passwords, generated, weakness
from hotline.core.accounts.users import NewUser, Users
from hotline.core.db.engine import SessionFactory
from tests.core.accounts.serving import CHEAP


def test_the_rules_of_a_new_password() -> None:
    assert weakness("short-1", "li.na") is not None
    assert weakness("li.na-is-me-2026", "li.na") is not None, "not the user name"
    assert weakness("LI.NA-is-me-2026", "li.na") is not None
    for common in ("1234567890", "Password123", "qwertyuiop", "woaini1314", "aaaaaaaaaaaa", "abababababab"):
        assert weakness(common, "li.na") is not None, common
    assert weakness("x" * 300, "li.na") is not None
    assert weakness("长城脚下的灯火-12345", "li.na") is None
    assert weakness("horse-battery-staple", "li.na") is None


def test_generated_passwords_are_long_readable_and_different() -> None:
    made = {generated() for _ in range(200)}
    assert len(made) == 200
    assert all(len(p) == 14 and not set(p) & set("0O1lI") and weakness(p, "admin") is None for p in made)


async def test_a_hash_made_with_old_parameters_is_redone_at_sign_in(sqlite_sessions: SessionFactory) -> None:
    await Users(sqlite_sessions, Passwords(CHEAP)).create(NewUser("li.na", "engineer", password="horse-battery-9"))
    stronger = Users(sqlite_sessions, Passwords(PasswordHasher(time_cost=2, memory_cost=16 * 1024, parallelism=1)))

    async def stored() -> str:
        async with sqlite_sessions() as s:
            return str(await s.scalar(select(User.password_hash)))

    before = await stored()
    assert "$argon2id$" in before and "m=8192,t=1" in before
    assert await stronger.sign_in("li.na", "wrong-password") is None
    assert await stored() == before, "a wrong password changes nothing"
    assert await stronger.sign_in("li.na", "horse-battery-9") is not None
    after = await stored()
    assert "m=16384,t=2" in after and not stronger.passwords.outdated(after)
    assert await stronger.sign_in("li.na", "horse-battery-9") is not None
