"""The web app of a test: the given route tables on a real database, with the service's own routes; the same
served from a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Self

from aiohttp import web
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.app.plugins import upgrade_database as upgrade
from hotline.app.web import WebParts, build_app
from hotline.calls import http as calls_http
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.netutil import free_port
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.policy import Teams
from hotline.core.web.routes import RouteTable
from hotline.core.web.tokens import ApiTokens


def web_app(sessions: SessionFactory, tokens: ApiTokens, *tables: RouteTable, health: HealthRegistry | None = None,
            teams: Mapping[str, str] | None = None, audit: AuditLog | None = None) -> web.Application:
    """The app with the calls routes and `tables`; teams as the dialplan file would group the agents."""
    return build_app(WebParts([calls_http.routes(CallRecords(sessions)), *tables], tokens,
                              audit or AuditLog(sessions), health or HealthRegistry(), CollectorRegistry(),
                              Teams(dict(teams or {}))))


class ThreadedServer:
    """A web app on a real, migrated SQLite database in its own thread and event loop, for blocking clients
    such as schemathesis; a subclass makes the app in `app(sessions, tokens)` and its tokens there."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.token = ""
        self._folder = folder
        self._engine: AsyncEngine | None = None
        self._runner: web.AppRunner | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @classmethod
    @contextlib.contextmanager
    def running(cls, prefix: str) -> Iterator[Self]:
        """Started on a database of its own, stopped on the way out."""
        server = cls(Path(tempfile.mkdtemp(prefix=prefix)))
        server.start()
        try:
            yield server
        finally:
            server.stop()

    async def app(self, sessions: SessionFactory, tokens: ApiTokens) -> web.Application:
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        url = f"sqlite+aiosqlite:///{self._folder / 'h.db'}"
        await upgrade(url)
        self._engine = create_engine(url)
        sessions = session_factory(self._engine)
        self._runner = web.AppRunner(await self.app(sessions, ApiTokens(sessions)), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("API server did not start")

    def stop(self) -> None:
        async def close() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            if self._engine is not None:
                await self._engine.dispose()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
