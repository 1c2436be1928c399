"""The second copy: every stored recording is copied to a backup store, beside (never in front of) the main one.

`BackupCopier` is its own loop in the recording worker's process: the main store never waits for it.
It copies recordings that are stored and not backed up yet, oldest first, by streaming the plaintext
out of the main store into the backup store (sealed there with the current key when encryption is on)
and reading the copy's hash back; a failure is kept on the row (`backup_error`) and retried with
backoff until `max_attempts`, then the row's backup is `dead` (logged, counted in the health). The due
query skips done, dead and backing-off rows by an indexed condition, so a copy that can never succeed
does not hold up the rest. `hotline recordings verify-backup` checks the copies (`recordings.verify`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select

from hotline.calls.models import Recording
from hotline.core.db.engine import SessionFactory
from hotline.core.workers import LoopWorker
from recordings.store import Store

log = logging.getLogger("recordings.backup")


@dataclass(frozen=True)
class BackupSettings:
    poll_s: float = 2.0
    batch: int = 50
    max_backoff_s: float = 300.0
    max_attempts: int = 20


def due_backups() -> tuple[ColumnElement[bool], ...]:
    """Stored recordings whose copy is due now (matches ix_recordings_backup_due)."""
    now = datetime.now(UTC)
    return (Recording.status == "stored", Recording.backup_state.is_(None),
            or_(Recording.backup_next_at.is_(None), Recording.backup_next_at <= now))


async def backup_backlog(sessions: SessionFactory) -> dict[str, int]:
    """Recordings waiting for their copy, and those whose copy gave up (for health)."""
    async with sessions() as s:
        waiting = await s.scalar(select(func.count()).select_from(Recording).where(
            Recording.status == "stored", Recording.backup_state.is_(None)))
        dead = await s.scalar(select(func.count()).select_from(Recording).where(Recording.backup_state == "dead"))
    return {"waiting": int(waiting or 0), "dead": int(dead or 0)}


class BackupCopier(LoopWorker):
    """Copies stored recordings from `main` to `backup`, a batch every `poll_s`."""

    name = "recordings-backup"

    def __init__(self, sessions: SessionFactory, main: Store, backup: Store,
                 settings: BackupSettings = BackupSettings()) -> None:
        super().__init__()
        self._sessions, self._main, self.backup, self._settings = sessions, main, backup, settings
        self.copied_total = 0
        self.dead_total = 0

    async def run(self) -> None:
        removed = await self.backup.clean_scratch()  # half-written copies of a killed worker
        if removed:
            log.warning("removed %d half-written backup cop(ies)", removed)
        await super().run()

    async def step(self) -> float:
        await self.run_once()
        return self._settings.poll_s

    async def run_once(self) -> int:
        async with self._sessions() as s:
            rows = (await s.execute(select(Recording.id, Recording.path, Recording.sha256)
                                    .where(*due_backups()).order_by(Recording.id)
                                    .limit(self._settings.batch))).all()
        copied = 0
        for rec_id, path, digest in rows:
            try:
                location = await self.copy(path, digest)
            except Exception as exc:
                await self._failed(rec_id, exc)
                continue
            await self._done(rec_id, location)
            copied += 1
        return copied

    async def copy(self, path: str, digest: str | None) -> str:
        """Stream one stored file into the backup store under the same key; the copy's location."""
        key = backup_key(path)
        scratch = self.backup.scratch(key)
        try:
            with scratch.open("wb") as out:
                async for block in self._main.read(path):
                    out.write(block)
            location = await self.backup.put(scratch, key, "application/octet-stream")
        finally:
            scratch.unlink(missing_ok=True)
        found = await self.backup.sha256(location)
        if found != digest:
            raise RuntimeError(f"the backup copy at {location} does not verify ({found} != {digest})")
        return location

    async def _done(self, rec_id: int, location: str) -> None:
        async with self._sessions.begin() as s:
            row = await s.get(Recording, rec_id, with_for_update=True)
            if row is not None:
                row.backup_path, row.backup_state, row.backup_error, row.backup_next_at = location, "done", None, None
        self.copied_total += 1

    async def _failed(self, rec_id: int, exc: Exception) -> None:
        async with self._sessions.begin() as s:
            row = await s.get(Recording, rec_id, with_for_update=True)
            if row is None:
                return
            row.backup_attempts += 1
            row.backup_error = f"{type(exc).__name__}: {exc}"[:1000]
            if row.backup_attempts >= self._settings.max_attempts:
                row.backup_state, row.backup_next_at = "dead", None
                self.dead_total += 1
                log.error("recording %s: backup copy given up after %d attempts: %s", rec_id, row.backup_attempts,
                          row.backup_error)
                return
            delay = min(self._settings.max_backoff_s, 2.0 ** min(row.backup_attempts, 12))
            row.backup_next_at = datetime.now(UTC) + timedelta(seconds=delay)
            log.warning("recording %s: backup copy failed (attempt %d, next in %.0f s): %s", rec_id,
                        row.backup_attempts, delay, row.backup_error)


def backup_key(location: str) -> str:
    """The key of a stored file in the backup store: its dated path (`YYYY/MM/DD/<name>`)."""
    parts = location.replace("\\", "/").split("/")
    return "/".join(parts[-4:])
