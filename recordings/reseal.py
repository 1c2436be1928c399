"""`hotline recordings reseal`: finish a key rotation by sealing every stored recording (and its waveform)
with the current key, so the old key can be dropped from `HOTLINE_RECORDINGS_OLD_KEYS`.

Each file is read (opened with whichever key it names), written sealed under the current key to the same
place (an atomic replace: a crash leaves the old file or the new one), and read back against the row's
hash before the row takes the new key id. Its backup copy is made again by the worker under the new key.
"""

from __future__ import annotations

import sys

from sqlalchemy import or_, select

from hotline.calls.models import Recording
from hotline.core.db.engine import SessionFactory
from recordings.backup import backup_key
from recordings.sealed_store import SealedStore
from recordings.transcode import Codec


async def _rewrite(store: SealedStore, location: str, content_type: str) -> str:
    key = backup_key(location)  # the dated key the file was stored under
    scratch = store.scratch(key)
    try:
        with scratch.open("wb") as out:
            async for block in store.read(location):
                out.write(block)
        return await store.put(scratch, key, content_type)
    finally:
        scratch.unlink(missing_ok=True)


async def reseal(sessions: SessionFactory, store: SealedStore, progress: bool = False) -> tuple[int, list[str]]:
    """Seal stored recordings not under the current key with it; returns (resealed, problems)."""
    current = store.key_id
    if current is None:
        raise ValueError("no current key to seal with: set HOTLINE_RECORDINGS_KEY")
    async with sessions() as s:
        rows = (await s.execute(select(Recording.id, Recording.path, Recording.sha256, Recording.waveform_path,
                                       Recording.format).where(
            Recording.status == "stored", or_(Recording.key_id.is_(None), Recording.key_id != current))
            .order_by(Recording.id))).all()
    done, problems = 0, []
    for n, (rec_id, path, digest, waveform, fmt) in enumerate(rows, 1):
        try:
            location = await _rewrite(store, path, Codec(fmt).content_type)
            if await store.sha256(location) != digest:
                raise RuntimeError("the resealed file does not verify")
            picture = await _rewrite(store, waveform, "image/png") if waveform else None
        except Exception as exc:
            problems.append(f"recording {rec_id}: {type(exc).__name__}: {exc}")
            continue
        async with sessions.begin() as s:
            row = await s.get_one(Recording, rec_id, with_for_update=True)
            row.path, row.waveform_path, row.key_id = location, picture, current
            if row.backup_state == "done":
                row.backup_state, row.backup_attempts, row.backup_next_at = None, 0, None  # copied again
        done += 1
        if progress:
            print(f"\rresealed {n}/{len(rows)}, problems {len(problems)}", end="", file=sys.stderr, flush=True)
    if progress and rows:
        print(file=sys.stderr)
    return done, problems
