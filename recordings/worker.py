"""The recording worker: WAVs of ended calls become compact, hashed, read-only stored files.

Runs as its own process (`python -m recordings.worker`), never in the call path. For each recording
of an ended call: transcode to `<final>.part`, hash, fsync and rename, verify the stored file (hash
and duration against the WAV), write the metadata, and only then delete the WAV. Killed at any point
it loses nothing: a `.part` is removed and redone, a row still marked `recording` is processed again,
a WAV whose stored copy is already recorded is deleted, a WAV nobody knows is linked to its call.
Failures (disk full, storage down) are kept on the row and retried with backoff.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from hotline.db.engine import SessionFactory, create_engine, session_factory
from hotline.db.models import CallRecord, Recording
from recordings.store import LocalStore, sha256_of
from recordings.transcode import Codec, media_seconds, transcode, wav_seconds

log = logging.getLogger("recordings")
CHINA_OFFSET = timedelta(hours=8)


@dataclass(frozen=True)
class WorkerSettings:
    wav_root: Path  # where Asterisk's MixMonitor writes (host path)
    codec: Codec = field(default_factory=Codec)
    settle_s: float = 1.0  # a call's WAV is complete this long after its hang-up
    poll_s: float = 1.0
    max_backoff_s: float = 60.0


async def recording_backlog(sessions: SessionFactory) -> dict[str, int]:
    """Recordings not stored yet, and how many of them failed their last attempt (for health and metrics)."""
    async with sessions() as s:
        waiting = await s.scalar(select(func.count()).select_from(Recording).where(Recording.status == "recording"))
        failing = await s.scalar(select(func.count()).select_from(Recording).where(
            Recording.status == "recording", Recording.error.is_not(None)))
    return {"waiting": int(waiting or 0), "failing": int(failing or 0)}


class RecordingWorker:
    def __init__(self, sessions: SessionFactory, store: LocalStore, settings: WorkerSettings) -> None:
        self._sessions, self._store, self._settings = sessions, store, settings
        self._retry_at: dict[int, float] = {}

    async def start_up(self) -> None:
        """Clean half-written files and find WAVs nobody processed (a crash, a lost event)."""
        removed = await asyncio.to_thread(self._store.clean_parts)
        if removed:
            log.warning("removed %d half-written recording(s)", removed)
        await self._adopt_orphans()

    async def _adopt_orphans(self) -> None:
        wavs = [p for p in self._settings.wav_root.rglob("*.wav") if "duty" not in p.parts]
        if not wavs:
            return
        async with self._sessions.begin() as s:
            known = {r.path: r for r in (await s.scalars(select(Recording))).all()}
            by_wav = {r.wav_path: r for r in known.values() if r.wav_path}
            for wav in wavs:
                key = str(wav)
                if key in known:
                    continue
                if key in by_wav and by_wav[key].status == "stored":
                    wav.unlink(missing_ok=True)  # stored and recorded; the crash came before the delete
                    log.info("deleted %s: its stored copy is recorded", wav.name)
                elif await s.get(CallRecord, wav.stem) is not None:
                    s.add(Recording(call_id=wav.stem, path=key, format="wav", started_at=datetime.now(UTC)))
                    log.warning("adopted orphan recording %s", wav.name)
                else:
                    log.error("orphan recording %s has no call record; left in place", wav)

    async def pending(self) -> list[int]:
        """Recordings of calls that ended at least `settle_s` ago, oldest first."""
        settled = datetime.now(UTC) - timedelta(seconds=self._settings.settle_s)
        async with self._sessions() as s:
            ids = (await s.scalars(
                select(Recording.id).join(CallRecord).where(
                    Recording.status == "recording", CallRecord.ended_at.is_not(None),
                    CallRecord.ended_at <= settled).order_by(Recording.id).limit(100))).all()
        now = time.monotonic()
        return [i for i in ids if self._retry_at.get(i, 0.0) <= now]

    async def run_once(self) -> int:
        done = 0
        for rec_id in await self.pending():
            done += await self.process(rec_id)
        return done

    async def process(self, rec_id: int) -> bool:
        async with self._sessions() as s:
            row = await s.get(Recording, rec_id)
        if row is None or row.status != "recording":
            return False
        wav = Path(row.path)
        try:
            final = await self._store_copy(row, wav)
        except Exception as exc:
            await self._failed(rec_id, exc)
            return False
        wav.unlink(missing_ok=True)
        self._retry_at.pop(rec_id, None)
        log.info("recording %s of call %s stored: %s", rec_id, row.call_id, final.name)
        return True

    async def _store_copy(self, row: Recording, wav: Path) -> Path:
        if not wav.exists():
            raise FileNotFoundError(f"the WAV {wav} is missing")
        codec = self._settings.codec
        seconds = await asyncio.to_thread(wav_seconds, wav)
        final = self._store.place(row.started_at + CHINA_OFFSET, f"{row.call_id}-{row.id}.{codec.suffix}")
        part = await asyncio.to_thread(self._store.part_of, final)
        await transcode(wav, part, codec)
        digest = await asyncio.to_thread(sha256_of, part)
        await asyncio.to_thread(self._store.commit, part, final)
        stored_seconds = await media_seconds(final)
        if await asyncio.to_thread(sha256_of, final) != digest or abs(stored_seconds - seconds) > max(1.0,
                                                                                                   seconds * 0.02):
            raise RuntimeError(f"stored copy of {wav.name} does not verify ({stored_seconds:.1f}s vs {seconds:.1f}s)")
        async with self._sessions.begin() as s:
            fresh = await s.get(Recording, row.id, with_for_update=True)
            if fresh is None:
                raise LookupError(f"recording {row.id} vanished")
            fresh.status, fresh.path, fresh.wav_path, fresh.format = "stored", str(final), str(wav), codec.format
            fresh.size_bytes, fresh.sha256, fresh.duration_s = final.stat().st_size, digest, round(seconds, 2)
            fresh.stored_at, fresh.error = datetime.now(UTC), None
        return final

    async def _failed(self, rec_id: int, exc: Exception) -> None:
        async with self._sessions.begin() as s:
            row = await s.get(Recording, rec_id, with_for_update=True)
            if row is None:
                return
            row.attempts += 1
            row.error = f"{type(exc).__name__}: {exc}"[:1000]
            attempts = row.attempts
        delay = min(self._settings.max_backoff_s, 2.0 ** min(attempts, 10) / 2)
        self._retry_at[rec_id] = time.monotonic() + delay
        log.error("recording %s not stored (attempt %d, next in %.0f s): %s", rec_id, attempts, delay, exc)

    async def run(self) -> None:
        await self.start_up()
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("recording pass failed; trying again")
            await asyncio.sleep(self._settings.poll_s)


async def _main(db_url: str, settings: WorkerSettings, store_root: Path) -> None:
    engine = create_engine(db_url)
    try:
        await RecordingWorker(session_factory(engine), LocalStore(store_root), settings).run()
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="store call recordings compactly, hashed and verified")
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the hotline database")
    parser.add_argument("--wavs", type=Path, required=True, help="where Asterisk writes the WAV recordings")
    parser.add_argument("--store", type=Path, required=True, help="where stored recordings go")
    parser.add_argument("--format", choices=("opus", "mp3"), default="opus")
    parser.add_argument("--bitrate", type=int, default=12, help="kb/s")
    parser.add_argument("--max-backoff", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s recordings %(levelname)s %(message)s")
    settings = WorkerSettings(args.wavs, Codec(args.format, args.bitrate), max_backoff_s=args.max_backoff)
    asyncio.run(_main(args.db, settings, args.store))


if __name__ == "__main__":
    main()
