"""The knowledge base's tables, routes and pages."""

from __future__ import annotations

from pathlib import Path

from hotline.core.plugin import Brought, Deps, Plugin

PAGES = Path(__file__).parent / "pages"


async def load(deps: Deps) -> Brought:
    return Brought(pages={"knowledge": PAGES / "knowledge"})  # 知识库管理


plugin = Plugin("knowledge", load)
