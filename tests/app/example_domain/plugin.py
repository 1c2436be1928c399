"""A domain as small as one can be, to show how one is added: a folder with this `plugin.py`, one line in
the plugin list (here: the test passes the list), and its rows in the access table. It brings one route and
one worker."""

from __future__ import annotations

from aiohttp import web

from hotline.core.plugin import Brought, Deps, Plugin
from hotline.core.web.policy import Grant, Scope, guarded, rule
from hotline.core.web.routes import RouteTable
from hotline.core.workers import LoopWorker

RULES = (rule("example.read", "read the example's counter", supervisor=Scope.ALL, admin=Scope.ALL),)


class Ticker(LoopWorker):
    """Counts, ten times a second."""

    name = "example-ticker"

    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0

    async def step(self) -> float:
        self.ticks += 1
        return 0.1


TICKER = web.AppKey("example_ticker", Ticker)
table = RouteTable("example")


@table.get("/api/example/ticks", summary="how often the example's worker has run")
@guarded("example.read")
async def ticks(request: web.Request, grant: Grant) -> web.Response:
    return web.json_response({"ticks": request.app[TICKER].ticks})


async def load(deps: Deps) -> Brought:
    ticker = Ticker()
    bound = RouteTable(table.tag, table.routes)
    bound.provide(TICKER, ticker)
    return Brought(routes=[bound], workers=[ticker], health={"example": ticker.check})


plugin = Plugin("example", load)
