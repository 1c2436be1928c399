"""Passwords: argon2id hashes (rehashed at sign-in when the parameters change), the rules a new password must
meet, and generated one-time passwords. Hashing runs in a thread: it takes tens of milliseconds on purpose."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
# the commonest passwords and keyboard runs (also in pinyin) that reach ten characters; checked ignoring case
COMMON = frozenset({
    "1234567890", "0123456789", "12345678910", "1234567890a", "a123456789", "123456789a", "1111111111",
    "0000000000", "9876543210", "1q2w3e4r5t", "qwertyuiop", "qwerty1234", "1qaz2wsx3edc", "zaq12wsxcde",
    "asdfghjkl;", "password12", "password123", "password1234", "passw0rd123", "iloveyou12", "woaini1314",
    "woaini520520", "5201314520", "1314520520", "abc1234567", "abcd123456", "abcdefghij", "aa12345678",
    "admin12345", "administrator", "admin123456", "welcome123", "changeme123", "letmein123", "hotline12345",
    "12345hotline", "12345678900", "qq123456789", "zhang123456", "wang1234567", "li12345678", "a1b2c3d4e5",
})
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I: read out and typed


def weakness(password: str, username: str) -> str | None:
    """Why `password` may not be used by `username` (in Chinese, shown to the person), else None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符"
    if len(password) > 256:
        return "密码不能超过 256 个字符"
    lowered = password.lower()
    if username and username.lower() in lowered:
        return "密码不能包含用户名"
    if lowered in COMMON or len(set(lowered)) <= 2:
        return "密码过于常见，请换一个"
    return None


def generated() -> str:
    """A one-time password: 14 characters easy to read out (about 80 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(14))


class Passwords:
    """Hash and check passwords with one argon2id parameter set."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))  # checked for unknown users: the same time spent

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def check(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored` (None: an unknown user; the same work is done, never a match)."""
        try:
            ok = await asyncio.to_thread(self.hasher.verify, stored or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored is not None

    def outdated(self, stored: str) -> bool:
        """Whether a hash was made with other parameters than the current ones (rehash it at sign-in)."""
        return self.hasher.check_needs_rehash(stored)
