"""Fixtures shared by the whole suite: the Asterisk root, Redis and PostgreSQL servers.

Each area adds its fixtures under its own section below; keep sections apart.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.app.plugins import upgrade_database as upgrade
from hotline.core.asterisk.root import AsteriskRoot, find_root
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.netutil import free_port
from tests.postgres_server import PostgresServer

# --- section: asterisk (owner: hotline/asterisk) ---


@pytest.fixture(scope="session")
def asterisk_root() -> AsteriskRoot:
    """The Debian root with Asterisk (built once by scripts/build-asterisk-root.sh)."""
    return find_root()

# --- section: redis / postgres (owner: hotline/embedded) ---


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the whole session (per xdist worker); its URL."""
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port())
    asyncio.run(server.start())
    try:
        yield server.url
    finally:
        asyncio.run(server.stop())


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[SessionFactory]:
    """A migrated SQLite database of the test's own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()
