"""The console's routes and pages."""

from __future__ import annotations

from pathlib import Path

from console.reports.http import routes as report_routes
from console.reports.service import Reports
from hotline.core.plugin import Brought, Deps, Plugin

PAGES = Path(__file__).parent / "pages"


async def load(deps: Deps) -> Brought:
    return Brought(routes=[report_routes(Reports(deps.sessions))],
                   pages={"reports": PAGES / "reports"})  # 统计报表 and the monthly report


plugin = Plugin("console", load)
