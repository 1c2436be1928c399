"""A real redis-server per test, with the ACD store on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.store import AcdStore
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AcdStore]:
    server = RedisServer(tmp_path / "redis", free_port())
    await server.start()
    client = redis_client(server.url)
    try:
        yield AcdStore(client)
    finally:
        await client.aclose()
        await server.stop()
