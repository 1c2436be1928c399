"""The recording worker as a real process on real files (ffmpeg, SQLite): SIGKILL mid-transcode loses
and corrupts nothing, storage that is down is retried and reported, `verify` finds an altered file."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.app.plugins import upgrade_database as upgrade
from hotline.calls.models import CallRecord, Recording
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from recordings.backends import StoreConfig
from recordings.process import RecordingWorkerProcess
from recordings.store import LocalStore, sha256_of
from recordings.transcode import media_seconds
from recordings.verify import verify
from recordings.worker import channel_files, recording_backlog
from tests.recordings.moto import start_moto


@dataclass
class Place:
    url: str
    sessions: SessionFactory
    wavs: Path
    store: Path
    logs: Path

    def worker(self) -> RecordingWorkerProcess:
        return RecordingWorkerProcess(self.url, self.wavs, StoreConfig("local", self.store), self.logs,
                                      max_backoff_s=1.0)


@pytest.fixture(name="place")
async def place_fixture(tmp_path: Path) -> AsyncIterator[Place]:
    """A fresh SQLite database with the schema, and folders for WAVs, the store and logs."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Place(url, session_factory(engine), tmp_path / "wavs", tmp_path / "store", tmp_path / "logs")
    await engine.dispose()


async def ended_call(place: Place, call_id: str, seconds: int) -> Path:
    """A call that ended a while ago, with its WAV (pink noise, 8 kHz mono like MixMonitor's)."""
    wav = place.wavs / "2026/11/23" / f"{call_id}.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(subprocess.run, [
        "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:r=8000:a=0.3",
        "-ac", "1", "-c:a", "pcm_s16le", str(wav)], check=True)
    at = datetime.now(UTC) - timedelta(seconds=30)
    async with place.sessions.begin() as s:
        s.add(CallRecord(call_id=call_id, caller="13800138000", dialled="12345", started_at=at, ended_at=at,
                         steps=[]))
        await s.flush()
        s.add(Recording(call_id=call_id, path=str(wav), format="wav", started_at=at))
    return wav


async def with_channels(wav: Path) -> tuple[Path, Path]:
    """MixMonitor's r() and t() files next to the mix: the caller (noise), what they heard (silence)."""
    caller, heard = channel_files(wav)
    for path, source in ((caller, "anoisesrc=d=12:c=pink:r=8000:a=0.3"), (heard, "anullsrc=r=8000:cl=mono:d=12")):
        await asyncio.to_thread(subprocess.run, ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                                                 source, "-t", "12", "-c:a", "pcm_s16le", str(path)], check=True)
    return caller, heard


async def row_of(place: Place, call_id: str) -> Recording:
    async with place.sessions() as s:
        rows = [r for r in (await s.get_one(CallRecord, call_id)).recordings]
    return rows[0]


async def until_stored(place: Place, call_id: str, timeout: float = 60) -> Recording:
    for _ in range(int(timeout * 10)):
        row = await row_of(place, call_id)
        if row.status == "stored":
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"{call_id} not stored; worker log: {(place.logs / 'recordings.log').read_text()[-800:]}")


async def test_a_worker_killed_mid_transcode_loses_and_corrupts_nothing(place: Place) -> None:
    wav = await ended_call(place, "long-call", 1800)  # half an hour: the transcode takes a few seconds
    worker = place.worker()
    await worker.start()
    try:
        for _ in range(300):
            if list(place.store.rglob("*.part")):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the worker never started writing")
        worker.kill()
        await asyncio.sleep(0.3)
        assert list(place.store.rglob("*.part")), "killed mid-write"
        assert (await row_of(place, "long-call")).status == "recording" and wav.exists()
    finally:
        await worker.stop()

    again = place.worker()
    await again.start()
    try:
        row = await until_stored(place, "long-call")
    finally:
        await again.stop()
    stored = Path(row.path)
    assert not list(place.store.rglob("*.part")), "the half-written file was removed"
    assert sha256_of(stored) == row.sha256 and row.size_bytes == stored.stat().st_size
    assert abs(await media_seconds(stored) - 1800) < 2 and row.duration_s == 1800
    assert row.size_bytes is not None and row.size_bytes < 30 * 120_000, "at most 120 KB a minute"
    assert not wav.exists() and row.wav_path == str(wav)


async def test_storage_down_is_retried_and_reported_then_stored(place: Place) -> None:
    worker = place.worker()
    await worker.start()
    try:
        place.store.rmdir()
        place.store.write_text("not a folder: the storage is down")
        wav = await ended_call(place, "short-call", 12)
        for _ in range(100):
            backlog = await recording_backlog(place.sessions)
            if backlog["failing"]:
                break
            await asyncio.sleep(0.1)
        assert backlog == {"waiting": 1, "failing": 1, "dead": 0}, "the operator sees the failing recording"
        row = await row_of(place, "short-call")
        assert row.attempts >= 1 and row.error and wav.exists(), "nothing deleted while it fails"
        place.store.unlink()
        place.store.mkdir()
        row = await until_stored(place, "short-call", timeout=20)
        assert row.error is None and not wav.exists()
    finally:
        await worker.stop()

    checked, bad = await verify(place.sessions, LocalStore(place.store))
    assert (checked, bad) == (1, [])
    stored = Path(row.path)
    stored.chmod(0o644)
    with stored.open("ab") as f:
        f.write(b"\0")  # someone altered the file on disk
    env = {**os.environ, "HOTLINE_DATABASE_URL": place.url}
    hotline = Path(sys.executable).parent / "hotline"
    result = await asyncio.to_thread(subprocess.run, [str(hotline), "recordings", "verify", "--json"], env=env,
                                     capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["checked"] == 1 and report["mismatches"][0]["problem"] == "altered"


async def test_both_channels_are_kept_analysed_and_drawn(place: Place) -> None:
    wav = await ended_call(place, "two-sides", 12)
    caller, heard = await with_channels(wav)
    worker = place.worker()
    await worker.start()
    try:
        row = await until_stored(place, "two-sides", timeout=20)
    finally:
        await worker.stop()
    stored = Path(row.path)
    probe = await asyncio.to_thread(subprocess.run, ["ffprobe", "-v", "error", "-show_entries", "stream=channels",
                                                     "-of", "csv=p=0", str(stored)], capture_output=True, text=True)
    assert row.channels == 2 and probe.stdout.strip() == "2"
    assert row.analysis is not None and row.analysis["heard_speech_s"] == 0 and row.analysis["talk_over_s"] == 0
    assert row.waveform_path and Path(row.waveform_path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (wav.exists() or caller.exists() or heard.exists()), "all three WAVs go once stored"


async def test_the_worker_stores_to_object_storage_and_verify_reads_it_back(
        place: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    moto = start_moto(place.logs.parent / "moto.log")
    monkeypatch.setenv("HOTLINE_S3_ACCESS_KEY", "testing")
    monkeypatch.setenv("HOTLINE_S3_SECRET_KEY", "testing")
    config = StoreConfig("s3", place.store, s3_endpoint=moto.url, s3_bucket="hotline-rec", s3_prefix="centre/")
    try:
        wav = await ended_call(place, "to-s3", 12)
        worker = RecordingWorkerProcess(place.url, place.wavs, config, place.logs, max_backoff_s=1.0)
        await worker.start()
        try:
            row = await until_stored(place, "to-s3", timeout=30)
        finally:
            await worker.stop()
        assert row.path.startswith("s3://hotline-rec/centre/") and row.path.endswith(".opus")
        assert row.waveform_path and row.waveform_path.endswith(".png") and not wav.exists()
        store = config.open()
        assert await store.sha256(row.path) == row.sha256
        assert b"".join([c async for c in store.read(row.path, 0, 3)]) == b"OggS"
        assert await verify(place.sessions, store) == (1, [])
        tampered = store.scratch("tampered")
        tampered.write_bytes(b"OggS not the call")
        await store.put(tampered, row.path.removeprefix("s3://hotline-rec/centre/"), "audio/ogg")
        checked, bad = await verify(place.sessions, store)
        assert checked == 1 and [m.problem for m in bad] == ["altered"]
    finally:
        moto.stop()
