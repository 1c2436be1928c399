"""The reference case system as the docker refcase image runs it: keys from the hotline's secrets file, /health."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from integration.refcase.__main__ import _shared_keys
from integration.refcase.app import RefCaseConfig, build_app
from integration.refcase.store import CaseStore


def test_keys_are_read_from_the_secrets_file_once_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"

    def first_start() -> None:
        time.sleep(0.3)
        path.write_text(json.dumps({"case_system": {"intake": "i", "webhook": "w", "admin": "a"}, "agi_key": "k"}))

    writer = threading.Thread(target=first_start)
    writer.start()
    try:
        assert _shared_keys(path, wait_s=10) == ("i", "w", "a")
    finally:
        writer.join()


def test_a_secrets_file_that_never_comes_stops_it(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="did not appear"):
        _shared_keys(tmp_path / "secrets.json", wait_s=0.1)


async def test_health_answers_without_the_admin_token(tmp_path: Path) -> None:
    store = CaseStore(tmp_path / "cases.db")
    await store.open()
    config = RefCaseConfig(intake_secret="i", webhook_secret="w", webhook_url="http://127.0.0.1:9/none",
                           admin_token="a")
    async with TestClient(TestServer(build_app(store, config))) as client:
        health = await client.get("/health")
        assert health.status == 200 and await health.json() == {"ok": True}
        assert (await client.get("/admin/cases")).status == 401
    await store.close()
