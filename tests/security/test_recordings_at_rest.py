"""Threat: recordings read or altered where they rest, or lost with their only copy (issue 15, "Data →
Recordings"). On the real stack with a recordings key and a backup folder: a real call's recording is stored
sealed (no RIFF/WAVE or Ogg header, not the plaintext, its key id recorded), is copied sealed to the backup
store, plays back decrypted over the API (whole and by range) for those allowed, and `hotline recordings
verify-backup` finds a deleted and a corrupted backup copy."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select

from hotline.app.stack import Stack
from hotline.calls.models import Recording
from hotline.core.netutil import free_port
from integration.world.call import WorldCaller
from recordings.sealing import MAGIC, key_id_of
from tests.e2e.conftest import running_stack, stack_settings
from tests.postgres_server import BOTH_DATABASES, PostgresServer

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

KEY = os.urandom(32)


@pytest.fixture(scope="module", params=BOTH_DATABASES)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """On SQLite and on PostgreSQL, like every end-to-end module; a PostgreSQL server of the module's own, as
    verify-backup checks every recording in the database (other modules' have no copy here)."""
    if request.param == "sqlite":
        yield ""
        return
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port())
    asyncio.run(server.start())
    try:
        yield server.url
    finally:
        asyncio.run(server.stop())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> AsyncIterator[Stack]:
    home = tmp_path_factory.mktemp("home")
    settings = stack_settings(home, database_url)
    settings = replace(settings, recordings=replace(settings.recordings, backup=str(home / "backup")))
    with pytest.MonkeyPatch.context() as env:  # the service and its recording worker read the key from here
        env.setenv("HOTLINE_RECORDINGS_KEY", KEY.hex())
        env.setenv("HOTLINE_RECORDINGS_ENCRYPT", "1")
        async with running_stack(settings) as s:
            yield s


@pytest.fixture(scope="module")
def world_caller(stack: Stack) -> WorldCaller:
    assert stack.world_ami is not None and stack.data is not None and stack.calls is not None
    return WorldCaller(stack.world_ami, stack.data.inner_of("heard"), stack.data.host, stack.calls)


async def backed_up(stack: Stack, call_id: str, timeout: float = 40) -> Recording:
    """The call's recording once stored and copied to the backup store."""
    assert stack.sessions is not None
    for _ in range(int(timeout * 5)):
        async with stack.sessions() as s:
            row = await s.scalar(select(Recording).where(Recording.call_id == call_id))
        if row is not None and row.backup_state == "done":
            return row
        await asyncio.sleep(0.2)
    raise AssertionError(f"the recording of {call_id} was not stored and backed up within {timeout}s "
                         f"({row.status if row else 'no row'}, backup {row.backup_state if row else None})")


async def test_a_call_is_stored_sealed_backed_up_and_plays_back_decrypted(stack: Stack,
                                                                          world_caller: WorldCaller) -> None:
    outcome = await world_caller.call("12345", "13800138031", dtmf="1", listen_s=10)
    assert outcome.answered and outcome.call_id is not None, outcome.originate_result
    row = await backed_up(stack, outcome.call_id)
    on_disk, copy = Path(row.path).read_bytes(), Path(row.backup_path or "").read_bytes()
    assert row.key_id == key_id_of(KEY)
    for raw in (on_disk, copy):
        assert raw.startswith(MAGIC) and b"RIFF" not in raw[:64] and b"WAVE" not in raw[:64]
        assert b"OggS" not in raw, "no Ogg page of the audio is readable in the stored bytes"
        assert hashlib.sha256(raw).hexdigest() != row.sha256, "the stored bytes are not the plaintext"
    assert row.waveform_path and not Path(row.waveform_path).read_bytes().startswith(b"\x89PNG")

    assert stack.tokens is not None
    auditor = await stack.tokens.create(name="auditor-rest", role="auditor")
    audio = f"http://127.0.0.1:{stack.settings.core.ports.http}/api/recordings/{row.id}/audio"
    headers = {"Authorization": f"Bearer {auditor}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(audio, headers=headers) as r:
            whole = await r.read()
            assert r.status == 200 and r.headers["Content-Type"] == "audio/ogg"
        async with http.get(audio, headers={**headers, "Range": "bytes=100-5099"}) as r:
            part = await r.read()
            assert r.status == 206 and r.headers["Content-Range"] == f"bytes 100-5099/{len(whole)}"
        async with http.get(audio.replace("/audio", "/waveform"), headers=headers) as r:
            assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
        async with http.get(audio) as r:
            assert r.status == 401, "no token, no audio"
    assert whole.startswith(b"OggS") and hashlib.sha256(whole).hexdigest() == row.sha256
    assert len(whole) == row.size_bytes and part == whole[100:5100]


async def test_verify_backup_finds_a_deleted_and_a_corrupted_copy(stack: Stack, world_caller: WorldCaller) -> None:
    calls = []
    for number in ("13800138032", "13800138033"):
        outcome = await world_caller.call("12345", number, dtmf="1", listen_s=6)
        assert outcome.call_id is not None
        calls.append(outcome.call_id)
    deleted, corrupted = [await backed_up(stack, call_id) for call_id in calls]
    env = {**os.environ, "HOTLINE_HOME_DIR": str(stack.settings.core.home),
           "HOTLINE_DATABASE_URL": stack.settings.core.database_url,
           "HOTLINE_RECORDINGS_BACKUP": str(stack.settings.core.home / "backup"), "HOTLINE_RECORDINGS_KEY": KEY.hex()}
    hotline = [str(Path(sys.executable).parent / "hotline"), "recordings", "verify-backup"]
    clean = await asyncio.to_thread(subprocess.run, [*hotline, "--json"], env=env, capture_output=True, text=True)
    assert clean.returncode == 0 and json.loads(clean.stdout)["mismatches"] == [], clean.stdout + clean.stderr

    gone, damaged = Path(deleted.backup_path or ""), Path(corrupted.backup_path or "")
    gone.chmod(0o600)
    gone.unlink()
    damaged.chmod(0o600)
    with damaged.open("r+b") as f:
        f.seek(200)
        f.write(b"\x00" * 16)
    found = await asyncio.to_thread(subprocess.run, hotline, env=env, capture_output=True, text=True)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "mismatches 2" in found.stderr, "progress on the way"
    report: dict[str, Any] = json.loads((await asyncio.to_thread(
        subprocess.run, [*hotline, "--json"], env=env, capture_output=True, text=True)).stdout)
    problems = {m["recording"]: m["problem"] for m in report["mismatches"]}
    assert problems == {deleted.id: "missing", corrupted.id: "altered"}
    main = await asyncio.to_thread(subprocess.run, [str(Path(sys.executable).parent / "hotline"), "recordings",
                                                    "verify"], env=env, capture_output=True, text=True)
    assert main.returncode == 0, "the main copies are untouched: " + main.stdout


async def test_the_pipeline_and_its_copies_are_counted_for_monitoring(stack: Stack) -> None:
    metrics = f"http://127.0.0.1:{stack.settings.core.ports.http}/metrics"
    for _ in range(60):  # refreshed every 10 s
        async with aiohttp.ClientSession() as http, http.get(metrics) as r:
            text = await r.text()
        if "hotline_recordings_backup_dead" in text:
            break
        await asyncio.sleep(0.5)
    for name in ("waiting", "failing", "dead", "backup_waiting", "backup_dead"):
        assert f"hotline_recordings_{name} " in text, name
    assert "hotline_recordings_dead 0.0" in text and "hotline_recordings_backup_dead 0.0" in text
