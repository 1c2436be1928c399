"""The retention policy on a real database and store: old audio goes, held and young audio stays, all audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.calls.models import CallRecord, Recording
from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from recordings.retention import sweep
from recordings.store import LocalStore
from tickets.models import Ticket, TicketCall

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture
def sessions(sqlite_sessions: SessionFactory) -> SessionFactory:
    return sqlite_sessions


async def stored(sessions: SessionFactory, store: LocalStore, call_id: str, age_days: int,
                 held_ticket: bool = False, backup: LocalStore | None = None) -> tuple[int, Path]:
    at = NOW - timedelta(days=age_days)
    key = f"{at:%Y/%m/%d}/{call_id}-1.opus"
    scratch = store.scratch(key)
    scratch.write_bytes(b"OggS audio of " + call_id.encode())
    audio = Path(await store.put(scratch, key, "audio/ogg"))
    png = store.scratch(key + ".png")
    png.write_bytes(b"\x89PNG")
    wave = await store.put(png, key + ".png", "image/png")
    copy = None
    if backup is not None:
        scratch = backup.scratch(key)
        scratch.write_bytes(audio.read_bytes())
        copy = await backup.put(scratch, key, "audio/ogg")
    async with sessions.begin() as s:
        s.add(CallRecord(call_id=call_id, caller="13800138000", dialled="12345", started_at=at, ended_at=at, steps=[]))
        await s.flush()
        rec = Recording(call_id=call_id, path=str(audio), format="opus", started_at=at, status="stored",
                        sha256="ab" * 32, waveform_path=wave, backup_path=copy, backup_state=copy and "done")
        s.add(rec)
        if held_ticket:
            ticket = Ticket(number=f"T-{call_id}", status="closed", channel="phone", urgency="一般", created_by="8001",
                            created_at=at, updated_at=at, legal_hold=True, legal_hold_reason="行政复议")
            s.add(ticket)
            await s.flush()
            s.add(TicketCall(ticket_id=ticket.id, call_id=call_id, linked_at=at))
        await s.flush()
        return rec.id, audio


async def test_old_audio_is_deleted_unless_held_and_the_row_stays(sessions: SessionFactory, tmp_path: Path) -> None:
    store, backup = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "backup")
    old_id, old = await stored(sessions, store, "old", 6 * 366, backup=backup)
    _, held = await stored(sessions, store, "held", 7 * 366, held_ticket=True, backup=backup)
    _, young = await stored(sessions, store, "young", 4 * 365)

    assert (await sweep(sessions, store, 0, now=NOW)).expired == 0, "0 keeps for ever"
    dry = await sweep(sessions, store, 5, now=NOW, dry_run=True)
    assert (dry.expired, dry.held) == (1, 1) and old.exists()

    report = await sweep(sessions, store, 5, now=NOW, backup=backup)
    assert (report.expired, report.held) == (1, 1)
    assert not old.exists() and not Path(str(old) + ".png").exists()
    assert not backup.final(str(old.relative_to(store.root))).exists(), "its backup copy goes too"
    assert backup.final(str(held.relative_to(store.root))).exists(), "a held call's copy stays"
    assert held.exists() and young.exists()
    async with sessions() as s:
        row = await s.get_one(Recording, old_id)
        audit = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "recordings.expire"))).all()
    assert row.status == "expired" and row.expired_at is not None and row.sha256 == "ab" * 32
    assert [(a.actor, a.resource) for a in audit] == [("retention", f"recordings/{old_id}")]
    assert (await sweep(sessions, store, 5, now=NOW)).expired == 0, "a second sweep finds nothing new"
