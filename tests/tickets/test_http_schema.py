"""Schemathesis against the generated OpenAPI document: generated requests to the ticket, caller-history and
case-system routes (valid and invalid) never break the service, and every answer matches the document.
Runs on a real SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis import checks

from dialplans.calendar import WorkCalendar
from hotline.app.web import api_document
from hotline.core.db.engine import SessionFactory
from hotline.core.web.routes import RouteTable
from hotline.core.web.tokens import ApiTokens
from integration.casesystem.client import CaseSystemClient
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.outbox import OutboxWorker
from tests.webapp import ThreadedServer, web_app
from tickets import http as tickets_http
from tickets.catalogue import Catalogue
from tickets.service import Tickets
from tickets.timelimits import TimeLimits


def ticket_routes(tickets: Tickets, sessions: SessionFactory) -> RouteTable:
    """The routes under test: tickets with the case system's (its outbox never started)."""
    mapping = CaseMapping.load()
    outbox = OutboxWorker(sessions, CaseSystemClient("http://127.0.0.1:9", "s", mapping))
    return tickets_http.routes(tickets, tickets_http.CaseLink(outbox, mapping, "webhook-secret"))


# the document as the service generates it from the same route tables
document = api_document([tickets_http.ticket_table, tickets_http.case_table])
schema = schemathesis.openapi.from_dict(document).include(path_regex=r"^/api/(tickets|callers|case-system)")


class TicketServer(ThreadedServer):
    """The tickets' routes with the case system's; an agent's token and a supervisor's."""

    supervisor = ""

    async def app(self, sessions: SessionFactory, tokens: ApiTokens) -> web.Application:
        self.token = await tokens.create(name="agent-st", role="agent", agent_id="8001")
        self.supervisor = await tokens.create(name="sup-st", role="supervisor")
        tickets = Tickets(sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
        return web_app(sessions, tokens, ticket_routes(tickets, sessions))


@pytest.fixture(scope="module")
def server() -> Iterator[TicketServer]:
    with TicketServer.running("hotline-st-") as running:
        yield running


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_ticket_api_holds_to_its_document(case: schemathesis.Case[Any], server: TicketServer) -> None:
    # Schema-valid bodies may still be refused (422) for what a schema cannot say: a call id that does not
    # exist, a category code not in the catalogue. Everything else is checked, invalid data included, except
    # unknown query parameters (the outbox's), which are ignored as everywhere in the API.
    # An agent works on tickets (their own); a supervisor on the case-system outbox.
    token = server.supervisor if case.path.startswith("/api/case-system") else server.token
    excluded = [checks.positive_data_acceptance]
    documented = {p["name"] for p in case.operation.definition.raw.get("parameters", []) if p["in"] == "query"}
    if set(case.query or {}) - documented:
        excluded.append(checks.negative_data_rejection)
    case.call_and_validate(base_url=f"http://127.0.0.1:{server.port}", headers={"Authorization": f"Bearer {token}"},
                           excluded_checks=excluded)
