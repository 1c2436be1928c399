"""Odd ids in the path (issue 15, bad input): digits that are not ASCII ('１２', '٣' — Python's int() takes
them), numbers past the INTEGER columns (PostgreSQL raises on them), thousands of digits (int() raises) and
signs are a 400 or a 404, never a 5xx, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from hotline.core.errors import BadRequest, NotFound
from hotline.core.web.bodies import ID_MAX, path_id
from tests.security.ticket_app import TicketApp, database_url, ticket_app

__all__ = ["database_url"]

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


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[TicketApp]:
    async with ticket_app(database_url) as running:
        yield running


async def test_odd_ids_never_reach_the_database_as_errors(app: TicketApp) -> None:
    for raw in ODD[:3] + TOO_BIG:
        for method, path in (("GET", f"/api/tickets/{raw}"), ("GET", f"/api/tickets/{raw}/timeline"),
                             ("POST", f"/api/case-system/outbox/{raw}/replay")):
            async with app.client.request(method, path, headers=app.admin) as r:
                assert r.status in (400, 404), (method, path[:60], r.status, await r.text())
