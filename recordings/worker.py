"""The recording worker: WAVs of ended calls become compact, hashed, read-only stored files.

Runs as its own process (`python -m recordings.worker`), never in the call path. For each recording
of an ended call: transcode to `<final>.part`, hash, fsync and rename, verify the stored file (hash
and duration against the WAV), write the metadata, and only then delete the WAV. Killed at any point
it loses nothing: a `.part` is removed and redone, a row still marked `recording` is processed again,
a WAV whose stored copy is already recorded is deleted, a WAV nobody knows is linked to its call.
Failures (disk full, storage down) are kept on the row and retried with backoff (`next_attempt_at`, which
the due query skips by index, so a failing recording never holds up the ones behind it); after
`max_attempts` the row is `dead`: its WAV stays, its last error is kept and logged. When a backup store is
configured, a second loop (`recordings.backup`) copies what was stored, never delaying this one.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select

from hotline.calls.models import CallRecord, Recording
from hotline.core.clock import china_day
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.workers import LoopWorker
from recordings.analysis import Analysis, ReviewRules, analyse
from recordings.backends import StoreConfig
from recordings.backup import BackupCopier
from recordings.keyring import KeyringError
from recordings.retention import sweep
from recordings.sealed_store import SealedStore
from recordings.store import Store, sha256_of
from recordings.transcode import Codec, media_seconds, transcode, wav_seconds, waveform

log = logging.getLogger("recordings")
RETENTION_EVERY_S = 24 * 3600.0


@dataclass(frozen=True)
class WorkerSettings:
    wav_root: Path  # where Asterisk's MixMonitor writes (host path)
    codec: Codec = field(default_factory=Codec)
    settle_s: float = 1.0  # a call's WAV is complete this long after its hang-up
    poll_s: float = 1.0
    max_backoff_s: float = 60.0
    channels: bool = True  # keep the caller and what they heard as two channels when Asterisk wrote them
    review: ReviewRules = field(default_factory=ReviewRules)
    keep_years: int = 0  # retention period; 0 keeps recordings for ever
    max_attempts: int = 30  # then the recording is dead (its WAV kept) and no longer tried


def _delete_wavs(wav: Path) -> None:
    for path in (wav, *channel_files(wav)):
        path.unlink(missing_ok=True)


def channel_files(wav: Path) -> tuple[Path, Path]:
    """The caller's voice and what the caller heard, written by MixMonitor's r() and t() next to the mix."""
    return wav.with_name(f"{wav.stem}-caller.wav"), wav.with_name(f"{wav.stem}-heard.wav")


def _is_channel_file(wav: Path) -> bool:
    return wav.stem.endswith(("-caller", "-heard"))


async def recording_backlog(sessions: SessionFactory) -> dict[str, int]:
    """Recordings not stored yet, and how many of them failed their last attempt (for health and metrics)."""
    async with sessions() as s:
        waiting = await s.scalar(select(func.count()).select_from(Recording).where(Recording.status == "recording"))
        failing = await s.scalar(select(func.count()).select_from(Recording).where(
            Recording.status == "recording", Recording.error.is_not(None)))
        dead = await s.scalar(select(func.count()).select_from(Recording).where(Recording.status == "dead"))
    return {"waiting": int(waiting or 0), "failing": int(failing or 0), "dead": int(dead or 0)}


@dataclass(frozen=True)
class Stored:
    location: str
    digest: str
    size: int
    channels: int
    seconds: float
    analysis: Analysis | None
    waveform: str | None


class RecordingWorker(LoopWorker):
    """A pass over the settled recordings every `poll_s`, and the retention sweep once a day; `run()` starts up
    first. A failing pass (the database away) backs off up to `max_backoff_s`."""

    name = "recordings"

    def __init__(self, sessions: SessionFactory, store: Store, settings: WorkerSettings,
                 backup: BackupCopier | None = None) -> None:
        super().__init__()
        self._sessions, self._store, self._settings, self._backup = sessions, store, settings, backup
        self.max_backoff_s = settings.max_backoff_s
        self._next_sweep = 0.0
        self.dead_total = 0

    async def start_up(self) -> None:
        """Clean half-written files and find WAVs nobody processed (a crash, a lost event)."""
        early = self._settings.wav_root / "early"  # a dial's early media: only needed while it is checked
        stale = [p for p in early.glob("*.wav") if time.time() - p.stat().st_mtime > 3600] if early.is_dir() else []
        for path in stale:
            path.unlink(missing_ok=True)
        removed = await self._store.clean_scratch()
        if removed:
            log.warning("removed %d half-written recording(s)", removed)
        await self._adopt_orphans()

    async def _adopt_orphans(self) -> None:
        wavs = [p for p in self._settings.wav_root.rglob("*.wav")
                if not {"duty", "early"} & set(p.parts) and not _is_channel_file(p)]
        if not wavs:
            return
        for start in range(0, len(wavs), 500):  # only the rows these files could belong to, a chunk at a time
            await self._adopt(wavs[start:start + 500])

    async def _adopt(self, wavs: list[Path]) -> None:
        names = [str(w) for w in wavs]
        async with self._sessions.begin() as s:
            rows = (await s.scalars(select(Recording).where(
                (Recording.path.in_(names)) | (Recording.wav_path.in_(names))))).all()
            known = {r.path: r for r in rows}
            by_wav = {r.wav_path: r for r in rows if r.wav_path}
            for wav in wavs:
                key = str(wav)
                if key in known:
                    continue
                if key in by_wav and by_wav[key].status == "stored":
                    _delete_wavs(wav)  # stored and recorded; the crash came before the delete
                    log.info("deleted %s: its stored copy is recorded", wav.name)
                elif await s.get(CallRecord, wav.stem) is not None:
                    s.add(Recording(call_id=wav.stem, path=key, format="wav", started_at=datetime.now(UTC)))
                    log.warning("adopted orphan recording %s", wav.name)
                else:
                    log.error("orphan recording %s has no call record; left in place", wav)

    async def pending(self) -> list[int]:
        """Recordings of calls that ended at least `settle_s` ago and are not backing off, oldest first."""
        now = datetime.now(UTC)
        settled = now - timedelta(seconds=self._settings.settle_s)
        async with self._sessions() as s:
            ids = (await s.scalars(
                select(Recording.id).join(CallRecord).where(
                    Recording.status == "recording",
                    or_(Recording.next_attempt_at.is_(None), Recording.next_attempt_at <= now),
                    CallRecord.ended_at.is_not(None), CallRecord.ended_at <= settled)
                .order_by(Recording.id).limit(100))).all()
        return list(ids)

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
            stored = await self._store_copy(row, wav)
            await self._record(row.id, wav, stored)
        except Exception as exc:
            await self._failed(rec_id, exc)
            return False
        _delete_wavs(wav)
        flagged = f", flagged for review: {', '.join(stored.analysis.review_reasons)}" if (
            stored.analysis and stored.analysis.review) else ""
        log.info("recording %s of call %s stored (%d channel(s)): %s%s", rec_id, row.call_id, stored.channels,
                 stored.location, flagged)
        return True

    async def _store_copy(self, row: Recording, wav: Path) -> Stored:
        """Transcode, check, store and read back the recording; analyse it and draw its waveform."""
        if not wav.exists():
            raise FileNotFoundError(f"the WAV {wav} is missing")
        codec, caller, heard = self._settings.codec, *channel_files(wav)
        sources = [caller, heard] if self._settings.channels and caller.exists() and heard.exists() else [wav]
        seconds = await asyncio.to_thread(wav_seconds, wav)
        name = f"{china_day(row.started_at):%Y/%m/%d}/{row.call_id}-{row.id}"
        scratch = self._store.scratch(f"{name}.{codec.suffix}")
        await transcode(sources, scratch, codec)
        stored_seconds = await media_seconds(scratch)
        if abs(stored_seconds - seconds) > max(1.0, seconds * 0.02):
            raise RuntimeError(f"transcoded {wav.name} is {stored_seconds:.1f}s, the WAV {seconds:.1f}s")
        digest, size = await asyncio.to_thread(sha256_of, scratch), scratch.stat().st_size
        location = await self._store.put(scratch, f"{name}.{codec.suffix}", codec.content_type)
        if await self._store.sha256(location) != digest:
            raise RuntimeError(f"stored copy of {wav.name} does not verify at {location}")
        pair = (caller, heard) if len(sources) == 2 else (None, None)
        return Stored(location, digest, size, len(sources), seconds, await self._analyse(wav, *pair),
                      await self._waveform(sources, f"{name}.png"))

    async def _analyse(self, wav: Path, caller: Path | None, heard: Path | None) -> Analysis | None:
        try:
            return await asyncio.to_thread(analyse, wav, caller, heard, self._settings.review)
        except Exception:
            log.exception("could not analyse %s; stored without analysis", wav.name)
            return None

    async def _waveform(self, sources: list[Path], key: str) -> str | None:
        try:
            scratch = self._store.scratch(key)
            await waveform(sources, scratch)
            return await self._store.put(scratch, key, "image/png")
        except Exception:
            log.exception("could not draw the waveform of %s; stored without one", sources[0].name)
            return None

    async def _record(self, rec_id: int, wav: Path, stored: Stored) -> None:
        async with self._sessions.begin() as s:
            fresh = await s.get(Recording, rec_id, with_for_update=True)
            if fresh is None:
                raise LookupError(f"recording {rec_id} vanished")
            fresh.status, fresh.path, fresh.wav_path = "stored", stored.location, str(wav)
            fresh.format, fresh.channels = self._settings.codec.format, stored.channels
            fresh.size_bytes, fresh.sha256, fresh.duration_s = stored.size, stored.digest, round(stored.seconds, 2)
            fresh.analysis = stored.analysis.to_json() if stored.analysis else None
            fresh.review = bool(stored.analysis and stored.analysis.review)
            fresh.waveform_path, fresh.stored_at, fresh.error = stored.waveform, datetime.now(UTC), None
            fresh.next_attempt_at = None
            fresh.key_id = self._store.key_id if isinstance(self._store, SealedStore) else None

    async def _failed(self, rec_id: int, exc: Exception) -> None:
        async with self._sessions.begin() as s:
            row = await s.get(Recording, rec_id, with_for_update=True)
            if row is None:
                return
            row.attempts += 1
            row.error = f"{type(exc).__name__}: {exc}"[:1000]
            if row.attempts >= self._settings.max_attempts:
                row.status, row.next_attempt_at = "dead", None
                self.dead_total += 1
                log.error("recording %s is dead after %d attempts, its WAV kept at %s: %s", rec_id, row.attempts,
                          row.path, row.error)
                return
            delay = min(self._settings.max_backoff_s, 2.0 ** min(row.attempts, 10) / 2)
            row.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
            attempts = row.attempts
        log.error("recording %s not stored (attempt %d, next in %.0f s): %s", rec_id, attempts, delay, exc)

    async def run(self) -> None:
        await self.start_up()
        if self._backup is not None:
            self._backup.start()
        try:
            await super().run()
        finally:
            if self._backup is not None:
                await self._backup.close()

    async def step(self) -> float:
        await self.run_once()
        await self._sweep_when_due()
        return self._settings.poll_s

    async def _sweep_when_due(self) -> None:
        """The retention sweep, once a day when a period is set."""
        if not self._settings.keep_years or time.monotonic() < self._next_sweep:
            return
        report = await sweep(self._sessions, self._store, self._settings.keep_years,
                             backup=self._backup.backup if self._backup is not None else None)
        self._next_sweep = time.monotonic() + RETENTION_EVERY_S
        if report.expired:
            log.info("retention: %d recording(s) past %d years deleted, %d kept by legal hold",
                     report.expired, self._settings.keep_years, report.held)


async def _main(db_url: str, settings: WorkerSettings, store: StoreConfig) -> None:
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    try:
        main, backup = await store.open_ready(), await store.open_backup_ready()
        copier = BackupCopier(sessions, main, backup) if backup is not None else None
        await RecordingWorker(sessions, main, settings, copier).run()
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description="store call recordings compactly, hashed and verified")
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the hotline database")
    parser.add_argument("--wavs", type=Path, required=True, help="where Asterisk writes the WAV recordings")
    StoreConfig.add_args(parser)
    parser.add_argument("--format", choices=("opus", "mp3"), default="opus")
    parser.add_argument("--bitrate", type=int, default=12, help="kb/s")
    parser.add_argument("--max-backoff", type=float, default=60.0)
    parser.add_argument("--keep-years", type=int, default=0, help="retention period (0: keep for ever)")
    parser.add_argument("--max-attempts", type=int, default=30, help="then a recording is dead (its WAV kept)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s recordings %(levelname)s %(message)s")
    settings = WorkerSettings(args.wavs, Codec(args.format, args.bitrate), max_backoff_s=args.max_backoff,
                              keep_years=args.keep_years, max_attempts=args.max_attempts)
    try:
        asyncio.run(_main(args.db, settings, StoreConfig.from_args(args)))
    except KeyringError as exc:  # never store a recording with the wrong keys, or in plain by mistake
        log.error("refusing to start: %s", exc)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
