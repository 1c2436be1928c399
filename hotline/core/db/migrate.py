"""Run Alembic migrations programmatically on SQLite or PostgreSQL.

The history is one line of revisions; the core's and the lowest domain's are in `migrations/versions`,
each other domain keeps its own in its `migrations/` folder, and the app passes those folders in.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from hotline.core.db.engine import create_engine

_SCRIPTS = Path(__file__).resolve().parent / "migrations"


def _config(connection: Connection, locations: Sequence[Path]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in (_SCRIPTS / "versions", *locations)))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(url: str, revision: str = "head", *, locations: Sequence[Path] = ()) -> None:
    """Bring the database at `url` to `revision`, with the domains' migrations in `locations`."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: command.upgrade(_config(sync, locations), revision))
    finally:
        await engine.dispose()
