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


class SeenHealth:
    """The parts' health as the app's registry reports it, read in the background (a check never holds the board)."""

    def __init__(self) -> None:
        self._kept: Refreshed[Mapping[str, PartHealth]] | None = None

    async def get(self, app: web.Application) -> Mapping[str, PartHealth]:
        if self._kept is None:
            registry = app.get(HEALTH)

            async def report() -> Mapping[str, PartHealth]:
                return await registry.report() if registry is not None else {}

            self._kept = Refreshed(report, 3.0)
        return await self._kept.get()


WALLBOARD = web.AppKey("wallboard", Wallboard)
HEALTH_SEEN = web.AppKey("wallboard_health", SeenHealth)
table = RouteTable("console")


@table.get("/api/wallboard", summary="the live wallboard: per line and skill the callers waiting, longest wait, "
           "15-s service level today and over 30 minutes, abandoned; agents by state with time in state and their "
           "caller's wait; callbacks due; revisit campaigns; alerts", response=Snapshot)
@guarded("wallboard.read")
async def wallboard(request: web.Request, grant: Grant) -> web.Response:
    board = await request.app[WALLBOARD].snapshot(grant.agents_in_reach(), grant.teams,
                                                  await request.app[HEALTH_SEEN].get(request.app))
    grant.note(agents=len(board["agents"]), waiting=board["waiting"])
    return web.json_response(board)


def routes(board: Wallboard) -> RouteTable:
    bound = RouteTable(table.tag, list(table.routes))
    bound.provide(WALLBOARD, board)
    bound.provide(HEALTH_SEEN, SeenHealth())
    return bound
