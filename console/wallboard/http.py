"""`GET /api/wallboard`: the live wallboard's snapshot (see `console.wallboard.snapshot`); a team supervisor
gets their team's agents, auditors and admins everyone's. Every read is audited."""

from __future__ import annotations

from aiohttp import web

from console.wallboard.schemas import Snapshot
from console.wallboard.snapshot import Wallboard
from hotline.core.web.health import HEALTH
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable

WALLBOARD = web.AppKey("wallboard", Wallboard)
table = RouteTable("console")


@table.get("/api/wallboard", summary="the live wallboard: per line and skill the callers waiting, longest wait, "
           "15-s service level today and over 30 minutes, abandoned; agents by state with time in state and their "
           "caller's wait; callbacks due; revisit campaigns; alerts", response=Snapshot)
@guarded("wallboard.read")
async def wallboard(request: web.Request, grant: Grant) -> web.Response:
    registry = request.app.get(HEALTH)
    health = await registry.report() if registry is not None else {}
    board = await request.app[WALLBOARD].snapshot(grant.agents_in_reach(), grant.teams, health)
    grant.note(agents=len(board["agents"]), waiting=board["waiting"])
    return web.json_response(board)


def routes(board: Wallboard) -> RouteTable:
    bound = RouteTable(table.tag, list(table.routes))
    bound.provide(WALLBOARD, board)
    return bound
