"""Schemathesis against the OpenAPI document: generated ticket requests (valid and invalid) never break
the service, and every answer matches the document. Runs on a real SQLite database."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis import checks

from dialplans.calendar import WorkCalendar
from hotline.app.openapi import openapi_document
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.db.migrate import upgrade
from hotline.core.netutil import free_port
from hotline.core.web.tokens import ApiTokens
from tests.webapp import web_app
from tickets import http as tickets_http
from tickets.catalogue import Catalogue
from tickets.service import Tickets
from tickets.timelimits import TimeLimits

schema = schemathesis.openapi.from_dict(openapi_document()).include(path_regex=r"^/api/tickets")


class Server:
    """The web app with tickets, in its own thread and event loop (schemathesis calls are blocking)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.token = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(folder,), daemon=True)

    def _run(self, folder: Path) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start(folder))
        self._ready.set()
        self._loop.run_forever()

    async def _start(self, folder: Path) -> None:
        url = f"sqlite+aiosqlite:///{folder / 'h.db'}"
        await upgrade(url)
        self._engine = create_engine(url)
        sessions = session_factory(self._engine)
        tokens = ApiTokens(sessions)
        self.token = await tokens.create(name="agent-st", role="agent", agent_id="8001")
        tickets = Tickets(sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
        app = web_app(sessions, tokens, tickets_http.routes(tickets, None))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("API server did not start")

    def stop(self) -> None:
        async def close() -> None:
            await self._runner.cleanup()
            await self._engine.dispose()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server(Path(tempfile.mkdtemp(prefix="hotline-st-")))
    running.start()
    yield running
    running.stop()


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_ticket_api_holds_to_its_document(case: schemathesis.Case[Any], server: Server) -> None:
    # Schema-valid bodies may still be refused (422) for what a schema cannot say: a call id that does not
    # exist, a category code not in the catalogue. Everything else is checked, invalid data included.
    case.call_and_validate(base_url=f"http://127.0.0.1:{server.port}",
                           headers={"Authorization": f"Bearer {server.token}"},
                           excluded_checks=[checks.positive_data_acceptance])
