"""The second copy and a queue that never blocks, on real files (ffmpeg, SQLite, the worker in-process):
every stored recording is copied to the backup store without holding up the main one, a failing copy is
retried and then given up with its error kept, verify-backup finds missing and altered copies, and
recordings that can never be stored do not stop the ones behind them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.calls.models import CallRecord, Recording
from recordings.backends import StoreConfig
from recordings.backup import BackupCopier, BackupSettings, backup_backlog
from recordings.keyring import Keyring, KeyringError
from recordings.reseal import reseal
from recordings.revive import revive
from recordings.sealed_store import SealedStore
from recordings.sealing import MAGIC
from recordings.store import LocalStore
from recordings.verify import verify_backup
from recordings.worker import RecordingWorker, WorkerSettings
from tests.recordings.test_worker import Place, ended_call, place_fixture  # noqa: F401 - the fixture

KEY = os.urandom(32)


def sealed(root: Path) -> SealedStore:
    return SealedStore(LocalStore(root), Keyring.from_env({"HOTLINE_RECORDINGS_KEY": KEY.hex()}))


def worker(place: Place, max_attempts: int = 30) -> RecordingWorker:
    return RecordingWorker(place.sessions, sealed(place.store),
                           WorkerSettings(place.wavs, settle_s=0, max_backoff_s=60, max_attempts=max_attempts))


async def time_passes(place: Place) -> None:
    """Every backoff is over."""
    async with place.sessions.begin() as s:
        for r in (await s.scalars(select(Recording))).all():
            r.next_attempt_at = r.backup_next_at = None


async def rows(place: Place) -> dict[str, Recording]:
    async with place.sessions() as s:
        return {r.call_id: r for r in (await s.scalars(select(Recording))).all()}


async def test_stored_recordings_are_copied_sealed_and_verify_backup_finds_bad_copies(
        place: Place, tmp_path: Path) -> None:
    for call in ("one", "two", "three"):
        await ended_call(place, call, 3)
    assert await worker(place).run_once() == 3
    copier = BackupCopier(place.sessions, sealed(place.store), sealed(tmp_path / "backup"))
    assert await copier.run_once() == 3
    stored = await rows(place)
    for row in stored.values():
        assert row.backup_state == "done" and row.backup_path and row.key_id
        raw = Path(row.backup_path).read_bytes()
        assert raw.startswith(MAGIC) and not raw.startswith(b"OggS"), "the copy is sealed too"
        assert await sealed(tmp_path / "backup").sha256(row.backup_path) == row.sha256
    assert await verify_backup(place.sessions, sealed(tmp_path / "backup")) == (3, [])

    gone, altered = Path(stored["one"].backup_path or ""), Path(stored["two"].backup_path or "")
    gone.chmod(0o644)
    gone.unlink()
    altered.chmod(0o644)
    with altered.open("r+b") as f:
        f.seek(100)
        f.write(b"\xff" * 8)
    env = {**os.environ, "HOTLINE_DATABASE_URL": place.url, "HOTLINE_RECORDINGS_DIR": str(place.store),
           "HOTLINE_RECORDINGS_BACKUP": str(tmp_path / "backup"), "HOTLINE_RECORDINGS_KEY": KEY.hex()}
    hotline = Path(sys.executable).parent / "hotline"
    result = await asyncio.to_thread(subprocess.run, [str(hotline), "recordings", "verify-backup"], env=env,
                                     capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert "backup verified 3/3, mismatches 2" in result.stderr, "progress is shown"
    assert f"MISSING     recording {stored['one'].id}" in result.stdout
    assert f"ALTERED     recording {stored['two'].id}" in result.stdout
    as_json = await asyncio.to_thread(subprocess.run, [str(hotline), "recordings", "verify-backup", "--json"],
                                      env=env, capture_output=True, text=True)
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and report["checked"] == 3
    assert {m["problem"] for m in report["mismatches"]} == {"missing", "altered"}


async def test_a_backup_that_is_down_never_holds_up_the_main_store_and_is_retried_then_given_up(
        place: Place, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    down = tmp_path / "backup"
    down.write_text("not a folder: the backup target is down")
    await ended_call(place, "first", 3)
    assert await worker(place).run_once() == 1, "stored while the backup is down"
    copier = BackupCopier(place.sessions, sealed(place.store), sealed(down), BackupSettings(max_attempts=3))
    assert await copier.run_once() == 0
    row = (await rows(place))["first"]
    assert row.status == "stored" and Path(row.path).exists(), "the main copy is kept"
    assert row.backup_attempts == 1 and row.backup_error and row.backup_next_at is not None
    assert await copier.run_once() == 0, "backing off: not tried again at once"
    assert await backup_backlog(place.sessions) == {"waiting": 1, "dead": 0}

    await time_passes(place)
    down.unlink()
    assert await copier.run_once() == 1, "retried once the target is back"
    assert (await rows(place))["first"].backup_state == "done"

    down_for_good = tmp_path / "gone"
    down_for_good.write_text("this target never comes back")
    copier = BackupCopier(place.sessions, sealed(place.store), sealed(down_for_good), BackupSettings(max_attempts=3))
    await ended_call(place, "second", 3)
    assert await worker(place).run_once() == 1
    with caplog.at_level(logging.ERROR, logger="recordings.backup"):
        for _ in range(3):
            await time_passes(place)
            await copier.run_once()
    second = (await rows(place))["second"]
    assert second.backup_state == "dead" and second.backup_attempts == 3 and second.backup_error
    assert copier.dead_total == 1 and "given up after 3 attempts" in caplog.text
    assert await backup_backlog(place.sessions) == {"waiting": 0, "dead": 1}
    assert await revive(place.sessions) == (0, 1)
    assert await backup_backlog(place.sessions) == {"waiting": 1, "dead": 0}, "due again after a revive"


async def test_recordings_that_always_fail_do_not_stop_new_ones_and_die_after_the_cap(
        place: Place, caplog: pytest.LogCaptureFixture) -> None:
    stuck = []
    for n in range(120):  # more than one pass takes: the head of the queue is all failures
        wav = await ended_call(place, f"stuck-{n}", 1) if n == 0 else None
        if wav is not None:
            wav.unlink()  # its WAV is gone: it can never be stored
        else:
            async with place.sessions.begin() as s:
                first = await s.get_one(CallRecord, "stuck-0")
                s.add(CallRecord(call_id=f"stuck-{n}", caller="13800138000", dialled="12345",
                                 started_at=first.started_at, ended_at=first.ended_at, steps=[]))
                await s.flush()
                s.add(Recording(call_id=f"stuck-{n}", path=str(place.wavs / f"gone-{n}.wav"), format="wav",
                                started_at=first.started_at))
        stuck.append(f"stuck-{n}")
    await ended_call(place, "fresh", 3)
    recorder = worker(place, max_attempts=3)
    assert await recorder.run_once() == 0, "the first pass meets only the failing head"
    assert await recorder.run_once() == 1, "the next pass skips the rows backing off and stores the new call"
    assert (await rows(place))["fresh"].status == "stored"

    with caplog.at_level(logging.ERROR, logger="recordings"):
        for _ in range(6):
            await time_passes(place)
            await recorder.run_once()
    found = await rows(place)
    assert all(found[c].status == "dead" and found[c].attempts == 3 for c in stuck)
    assert "FileNotFoundError" in (found["stuck-0"].error or ""), "the last error is kept"
    assert recorder.dead_total == 120 and "is dead after 3 attempts" in caplog.text
    await time_passes(place)
    assert await recorder.pending() == [], "dead rows are no longer due"
    assert await revive(place.sessions, [found["stuck-0"].id]) == (1, 0), "the operator puts one back in line"
    assert await recorder.pending() == [found["stuck-0"].id]


@pytest.mark.parametrize(("env", "message"), [
    ({"HOTLINE_RECORDINGS_KEY": "not-a-key"}, "HOTLINE_RECORDINGS_KEY must be a 32-byte key"),
    ({"HOTLINE_RECORDINGS_ENCRYPT": "1"}, "refusing to write recordings in plain"),
])
async def test_the_worker_and_the_service_refuse_to_start_with_unusable_keys(
        place: Place, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str) -> None:
    monkeypatch.delenv("HOTLINE_RECORDINGS_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(KeyringError, match=message):
        StoreConfig("local", place.store).open()  # the service opens its store when the plugin loads
    recorder = place.worker()
    with contextlib.suppress(RuntimeError):  # raised if the worker is gone within its first 0.3 s
        await recorder.start()
    assert recorder._proc is not None
    assert await asyncio.wait_for(recorder._proc.wait(), 20) == 2, "the worker process exits"
    await recorder.stop()
    log = (place.logs / "recordings.log").read_text()
    assert "refusing to start: " in log and message in log
    assert not place.store.exists() or not list(place.store.rglob("*.opus")), "nothing written"


async def test_reseal_finishes_a_key_rotation(place: Place, tmp_path: Path) -> None:
    old, new = os.urandom(32), os.urandom(32)

    def ring(*keys: bytes) -> Keyring:
        return Keyring.from_env({"HOTLINE_RECORDINGS_KEY": keys[0].hex(),
                                 "HOTLINE_RECORDINGS_OLD_KEYS": ",".join(k.hex() for k in keys[1:])})

    before = SealedStore(LocalStore(place.store), ring(old))
    await ended_call(place, "before-rotation", 3)
    assert await RecordingWorker(place.sessions, before, WorkerSettings(place.wavs, settle_s=0)).run_once() == 1
    copier = BackupCopier(place.sessions, before, SealedStore(LocalStore(tmp_path / "backup"), ring(old)))
    assert await copier.run_once() == 1

    rotating = SealedStore(LocalStore(place.store), ring(new, old))
    assert await reseal(place.sessions, rotating) == (1, [])
    row = (await rows(place))["before-rotation"]
    only_new = SealedStore(LocalStore(place.store), ring(new))
    assert row.key_id == rotating.key_id and await only_new.sha256(row.path) == row.sha256
    assert row.waveform_path and (await only_new.size(row.waveform_path) or 0) > 0
    assert row.backup_state is None, "its backup copy is made again under the new key"
    recopy = BackupCopier(place.sessions, rotating, SealedStore(LocalStore(tmp_path / "backup"), ring(new, old)))
    assert await recopy.run_once() == 1
    assert await verify_backup(place.sessions, SealedStore(LocalStore(tmp_path / "backup"), ring(new))) == (1, [])
    assert await reseal(place.sessions, rotating) == (0, []), "nothing left under the old key"
