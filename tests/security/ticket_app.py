"""The ticket routes (with the case-system webhook) on a migrated database of the caller's choice, for the
bad-input tests; the outbox is never started."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dialplans.calendar import WorkCalendar
from hotline.app.plugins import upgrade_database
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.web.audit import AuditLog
from hotline.core.web.tokens import ApiTokens
from integration.casesystem.client import CaseSystemClient
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.outbox import OutboxWorker
from tests.postgres_server import BOTH_DATABASES
from tests.webapp import web_app
from tickets import http as tickets_http
from tickets.catalogue import Catalogue
from tickets.service import Tickets
from tickets.timelimits import TimeLimits

WEBHOOK_SECRET = "webhook-secret-for-tests"


@pytest.fixture(params=BOTH_DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test on SQLite and on PostgreSQL (import this fixture into the module)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    return str(request.getfixturevalue("postgres_url"))


@dataclass
class TicketApp:
    client: TestClient[web.Request, web.Application]
    sessions: SessionFactory
    audit: AuditLog
    admin: dict[str, str]  # Authorization header of an admin token


@contextlib.asynccontextmanager
async def ticket_app(url: str) -> AsyncIterator[TicketApp]:
    await upgrade_database(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    tokens, audit, mapping = ApiTokens(sessions), AuditLog(sessions), CaseMapping.load()
    tickets = Tickets(sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    outbox = OutboxWorker(sessions, CaseSystemClient("http://127.0.0.1:9", "s", mapping))
    app = web_app(sessions, tokens, tickets_http.routes(tickets, tickets_http.CaseLink(outbox, mapping,
                                                                                        WEBHOOK_SECRET)),
                  audit=audit)
    admin = {"Authorization": f"Bearer {await tokens.create(name='admin', role='admin')}"}
    try:
        async with TestClient(TestServer(app)) as client:
            yield TicketApp(client, sessions, audit, admin)
    finally:
        await engine.dispose()
