"""An app with people's accounts on a real redis-server and SQLite: users made directly, signing in over HTTP,
a clock the tests move, cheap argon2 parameters (the same code, less memory and time)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from hotline.app.web import WebParts, build_app
from hotline.calls import http as calls_http
from hotline.calls.records import CallRecords
from hotline.core.accounts.build import sign_in
from hotline.core.accounts.passwords import Passwords
from hotline.core.accounts.settings import AccountSettings
from hotline.core.accounts.signin import SignIn
from hotline.core.accounts.users import NewUser, Users, UserView
from hotline.core.db.engine import SessionFactory
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.policy import Teams
from hotline.core.web.routes import RouteTable
from hotline.core.web.sockets import SocketLimits
from hotline.core.web.throttle import ThrottleLimits
from hotline.core.web.tokens import ApiTokens

Client = TestClient[web.Request, web.Application]
PASSWORD = "长城-correct-horse-9"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


class Clock:
    """Seconds since the epoch, starting now, moved by the test."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Accounts:
    """The parts a test reaches into."""

    users: Users
    sign_in: SignIn
    clock: Clock
    redis: Redis
    made: dict[str, UserView] = field(default_factory=dict)

    async def add(self, username: str, role: str, *, agent: str | None = None, team: str | None = None,
                  password: str | None = PASSWORD) -> UserView:
        user, _ = await self.users.create(NewUser(username, role, username, agent, team, password))
        self.made[username] = user
        return user


@contextlib.asynccontextmanager
async def redis_server(folder: Path) -> AsyncIterator[Redis]:
    server = RedisServer(folder / "redis", free_port())
    await server.start()
    client = redis_client(server.url, max_connections=16)
    try:
        yield client
    finally:
        await client.aclose()
        await server.stop()


@contextlib.asynccontextmanager
async def accounts_of(sessions: SessionFactory, folder: Path,
                      settings: AccountSettings | None = None) -> AsyncIterator[Accounts]:
    async with redis_server(folder) as redis:
        clock, users = Clock(), Users(sessions, Passwords(CHEAP))
        s = settings or replace(AccountSettings(), public_origins=())
        yield Accounts(users, sign_in(users, redis, s, clock), clock, redis)


def app_with(sessions: SessionFactory, accounts: Accounts, *tables: RouteTable, teams: dict[str, str] | None = None,
             throttle: ThrottleLimits | None = None, sockets: SocketLimits | None = None,
             trust_proxy: bool = False) -> web.Application:
    """The calls routes (a guarded route to reach) and `tables`, with sign-in."""
    calls = calls_http.routes(CallRecords(sessions))
    return build_app(WebParts([calls, *tables], ApiTokens(sessions), AuditLog(sessions), HealthRegistry(),
                              CollectorRegistry(), Teams(teams or {}), throttle=throttle or ThrottleLimits(),
                              sockets=sockets or SocketLimits(), accounts=accounts.sign_in, trust_proxy=trust_proxy))


@contextlib.asynccontextmanager
async def client_of(app: web.Application) -> AsyncIterator[Client]:
    async with TestClient(TestServer(app)) as client:
        yield client


async def log_in(client: Client, username: str, password: str = PASSWORD) -> dict[str, Any]:
    """Sign in (the client keeps the cookie); the session body."""
    async with client.post("/api/session", json={"username": username, "password": password}) as r:
        body: dict[str, Any] = await r.json()
        assert r.status == 200, body
        return body


def csrf(body: dict[str, Any]) -> dict[str, str]:
    return {"X-CSRF-Token": body["csrf_token"]}


async def error_id(response: Any) -> str:
    return str((await response.json())["error"]["id"])


def cookie_of(client: Client) -> str:
    return next(c.value for c in client.session.cookie_jar if c.key == "hotline_session")

