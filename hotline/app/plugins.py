"""The domains this hotline is made of, in load order: a domain finds the services of those above it.
Adding a domain is one line here."""

from __future__ import annotations

from pathlib import Path

from acd.plugin import plugin as acd
from callback.plugin import plugin as callback
from console.plugin import plugin as console
from desk.plugin import plugin as desk
from dialplans.plugin import plugin as dialplans
from hotline.app.phone.plugin import plugin as phone
from hotline.app.retention.plugin import plugin as retention
from hotline.calls.plugin import plugin as calls
from hotline.core.db.migrate import upgrade
from hotline.core.plugin import Plugin
from integration.world.plugin import plugin as world
from ivr.plugin import plugin as ivr
from knowledge.plugin import plugin as knowledge
from recordings.plugin import plugin as recordings
from tickets.plugin import plugin as tickets

PLUGINS: tuple[Plugin, ...] = (dialplans, calls, acd, tickets, callback, knowledge, ivr, recordings, world, desk,
                              console, retention, phone)

# every domain's revisions, whichever plugins a stack loads: the history is one line
MIGRATIONS: tuple[Path, ...] = tuple(p.migrations for p in PLUGINS if p.migrations is not None)


async def upgrade_database(url: str, revision: str = "head") -> None:
    """The database at `url` with every domain's tables, as of `revision` (the newest by default)."""
    await upgrade(url, revision, locations=MIGRATIONS)
