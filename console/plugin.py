"""The console's routes and pages."""

from __future__ import annotations

from pathlib import Path

from console.reports.http import routes as report_routes
from console.reports.rollup import Rollups
from console.reports.service import Reports
from hotline.core.plugin import Brought, Deps, Plugin

PAGES = Path(__file__).parent / "pages"


async def load(deps: Deps) -> Brought:
    rollups = Rollups(deps.sessions)  # the reports' daily rollups, built as days close
    return Brought(routes=[report_routes(Reports(deps.sessions))], workers=[rollups],
                   pages={"reports": PAGES / "reports"})  # 统计报表 and the monthly report


plugin = Plugin("console", load, migrations=Path(__file__).parent / "migrations")
