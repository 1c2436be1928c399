"""The console's routes and pages."""

from __future__ import annotations

from pathlib import Path

from hotline.core.plugin import Brought, Deps, Plugin

PAGES = Path(__file__).parent / "pages"


async def load(deps: Deps) -> Brought:
    return Brought(pages={"reports": PAGES / "reports"})  # 统计报表 and the monthly report


plugin = Plugin("console", load)
