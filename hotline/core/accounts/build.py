"""The accounts' sign-in put together from the users, Redis and the settings."""

from __future__ import annotations

import time
from collections.abc import Callable

from redis.asyncio import Redis

from hotline.core.accounts.lockout import Lockout
from hotline.core.accounts.sessions import SessionStore
from hotline.core.accounts.settings import AccountSettings
from hotline.core.accounts.signin import SignIn
from hotline.core.accounts.users import Users


def sign_in(users: Users, redis: Redis, settings: AccountSettings | None = None,
            clock: Callable[[], float] = time.time) -> SignIn:
    s = settings or AccountSettings()
    return SignIn(users, SessionStore(redis, idle_s=s.idle_s, lifetime_s=s.lifetime_s, clock=clock),
                  Lockout(redis, after=s.lock_after, window_s=s.lock_window_min * 60, lock_s=s.lock_min * 60,
                          clock=clock), s)
