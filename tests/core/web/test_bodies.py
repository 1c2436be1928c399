"""Request bodies read in one place: whatever a client sends, the answer is a clear 4xx naming the problem,
never a 5xx (issue 15, bad input)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.core.web.bodies import Body, read_body
from hotline.core.web.errors import json_errors


class Entry(Body):
    number: str


async def take(request: web.Request) -> web.Response:
    return web.json_response((await read_body(request, Entry)).model_dump())


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application(middlewares=[json_errors])
    app.router.add_post("/", take)
    async with TestClient(TestServer(app)) as c:
        yield c


@pytest.mark.parametrize(("body", "content_type"), [
    ("[" * 100_000 + "]" * 100_000, "application/json"),  # nesting deeper than the parser goes
    (b'{"number": "1"}', "application/json; charset=x-unknown"),  # a charset nobody knows
    (b"\xff\xfe{", "application/json"),  # not UTF-8
    ("[1, 2]", "application/json"),  # JSON, but not an object
    ("", "application/json"),
])
async def test_unreadable_bodies_are_400_bad_json(client: TestClient[web.Request, web.Application],
                                                   body: str | bytes, content_type: str) -> None:
    r = await client.post("/", data=body, headers={"Content-Type": content_type})
    assert r.status == 400 and (await r.json())["error"]["id"] == "bad_json"


async def test_a_readable_body_is_checked_field_by_field(client: TestClient[web.Request, web.Application]) -> None:
    assert await (await client.post("/", json={"number": "1"})).json() == {"number": "1"}
    r = await client.post("/", json={"number": 1, "extra": True})
    assert r.status == 422
    assert sorted(f["field"] for f in (await r.json())["error"]["fields"]) == ["extra", "number"]
