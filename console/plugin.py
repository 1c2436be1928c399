"""The console's routes and pages."""

from __future__ import annotations

from pathlib import Path

from acd.directory.service import AgentDirectory
from acd.store import AcdStore
from callback.campaigns import RevisitCampaigns
from callback.tasks import RevisitTasks
from console.commands import register
from console.reports.http import routes as report_routes
from console.reports.rollup import Rollups
from console.reports.service import Reports
from console.settings import WallboardSettings
from console.wallboard import http as wallboard_http
from console.wallboard.live import RedisLive
from console.wallboard.snapshot import Wallboard
from console.wallboard.stored import StoredFigures
from dialplans.model import Dialplan
from hotline.core.plugin import Brought, Deps, Plugin
from integration.casesystem.outbox import OutboxWorker

PAGES = Path(__file__).parent / "pages"


async def load(deps: Deps) -> Brought:
    settings = deps.find(WallboardSettings) or WallboardSettings()
    tasks, outbox = deps.find(RevisitTasks), deps.find(OutboxWorker)
    stored = StoredFigures(deps.sessions, settings, deps.find(AgentDirectory),
                           RevisitCampaigns(tasks) if tasks is not None else None,
                           outbox.backlog if outbox is not None else None)
    board = Wallboard(RedisLive(deps.get(AcdStore)), stored, deps.get(Dialplan), settings)
    rollups = Rollups(deps.sessions)  # the reports' daily rollups, built as days close
    return Brought(routes=[wallboard_http.routes(board), report_routes(Reports(deps.sessions))], workers=[rollups],
                   pages={"wallboard": PAGES / "wallboard", "reports": PAGES / "reports"})  # 实时监控, 统计报表


plugin = Plugin("console", load, commands=[register], migrations=Path(__file__).parent / "migrations")
