"""`GET /api/wallboard`: the live wallboard's snapshot (see `console.wallboard.snapshot`); a team supervisor
gets their team's agents, auditors and admins everyone's. Every read is audited."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from console.wallboard.refreshed import Refreshed
from console.wallboard.schemas import Snapshot
from console.wallboard.snapshot import Wallboard
from hotline.core.web.health import HEALTH, PartHealth
from hotline.core.web.policy import Grant, guarded
from hotline.core.web.routes import RouteTable

WALLBOARD = web.AppKey("wallboard", Wallboard)
HEALTH_SEEN = web.AppKey("wallboard_health", Refreshed[Mapping[str, PartHealth]])
table = RouteTable("console")


@table.get("/api/wallboard", summary="the live wallboard: per line and skill the callers waiting, longest wait, "
           "15-s service level today and over 30 minutes, abandoned; agents by state with time in state and their "
           "caller's wait; callbacks due; revisit campaigns; alerts", response=Snapshot)
@guarded("wallboard.read")
async def wallboard(request: web.Request, grant: Grant) -> web.Response:
    board = await request.app[WALLBOARD].snapshot(grant.agents_in_reach(), grant.teams,
                                                  await _health(request.app).get())
    grant.note(agents=len(board["agents"]), waiting=board["waiting"])
    return web.json_response(board)


def _health(app: web.Application) -> Refreshed[Mapping[str, PartHealth]]:
    """The parts' health as the app's registry reports it, read in the background (a check never holds the board)."""
    if (kept := app.get(HEALTH_SEEN)) is None:
        registry = app.get(HEALTH)

        async def report() -> Mapping[str, PartHealth]:
            return await registry.report() if registry is not None else {}

        kept = app[HEALTH_SEEN] = Refreshed(report, 3.0)
    return kept


def routes(board: Wallboard) -> RouteTable:
    bound = RouteTable(table.tag, list(table.routes))
    bound.provide(WALLBOARD, board)
    return bound
