"""The knowledge base's tables, routes and pages."""

from __future__ import annotations

from hotline.core.plugin import Brought, Deps, Plugin


async def load(deps: Deps) -> Brought:
    return Brought()


plugin = Plugin("knowledge", load)
