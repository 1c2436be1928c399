"""Odd ids in the path (issue 15, bad input): digits that are not ASCII ('１２', '٣' — Python's int() takes
them), numbers past the INTEGER columns (PostgreSQL raises on them), thousands of digits (int() raises) and
signs are a 400 or a 404, never a 5xx, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from dialplans.calendar import WorkCalendar
from hotline.app.plugins import upgrade_database
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.errors import BadRequest, NotFound
from hotline.core.web.bodies import ID_MAX, path_id
from hotline.core.web.tokens import ApiTokens
from integration.casesystem.client import CaseSystemClient
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.outbox import OutboxWorker
from tests.webapp import web_app
from tickets import http as tickets_http
from tickets.catalogue import Catalogue
from tickets.service import Tickets
from tickets.timelimits import TimeLimits

ODD = ["１２", "٣", "12a", "-1", "+1", "1.0", "0x1f", " 1"]
TOO_BIG = ["0", str(ID_MAX + 1), "99999999999999999999999", "9" * 5000]


def _request(raw: str) -> web.Request:
    request = make_mocked_request("GET", "/x")
    request.match_info.update({"ticket_id": raw})
    return request


@pytest.mark.parametrize("raw", ODD)
def test_text_that_is_not_ascii_digits_is_a_bad_parameter(raw: str) -> None:
    with pytest.raises(BadRequest):
        path_id(_request(raw), "ticket_id", "ticket")


@pytest.mark.parametrize("raw", TOO_BIG)
def test_a_number_no_row_can_have_is_not_found(raw: str) -> None:
    with pytest.raises(NotFound):
        path_id(_request(raw), "ticket_id", "ticket")
    assert path_id(_request(str(ID_MAX)), "ticket_id", "ticket") == ID_MAX


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def client(url: str) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], dict[str, str]]]:
    await upgrade_database(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    tokens, mapping = ApiTokens(sessions), CaseMapping.load()
    tickets = Tickets(sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    outbox = OutboxWorker(sessions, CaseSystemClient("http://127.0.0.1:9", "s", mapping))  # never started
    app = web_app(sessions, tokens, tickets_http.routes(tickets, tickets_http.CaseLink(outbox, mapping, "s")))
    admin = {"Authorization": f"Bearer {await tokens.create(name='admin', role='admin')}"}
    async with TestClient(TestServer(app)) as c:
        yield c, admin
    await engine.dispose()


@pytest.mark.postgres
async def test_odd_ids_never_reach_the_database_as_errors(
        client: tuple[TestClient[web.Request, web.Application], dict[str, str]]) -> None:
    c, admin = client
    for raw in ODD[:3] + TOO_BIG:
        for method, path in (("GET", f"/api/tickets/{raw}"), ("GET", f"/api/tickets/{raw}/timeline"),
                             ("POST", f"/api/case-system/outbox/{raw}/replay")):
            async with c.request(method, path, headers=admin) as r:
                assert r.status in (400, 404), (method, path[:60], r.status, await r.text())
