"""Publishing, re-recording and ending announcements; the log of every one ever published.

An announcement is `scheduled` before its hours, `playing` within them, `ended` after them or once ended by
hand (`ended_by`). Rows are never deleted and each change is kept on the row (`changes`) beside the audit
log's entry for the request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Conflict, Invalid, NotFound
from ivr.announcements.active import ActiveAnnouncements, Playing
from ivr.announcements.audio import AnnouncementAudio, Sound
from ivr.announcements.models import Announcement

State = Literal["scheduled", "playing", "ended"]
MAX_CHARS = 300  # what is said: a short notice, not a speech
MAX_DAYS = 30
LISTED = 500


@dataclass(frozen=True)
class Draft:
    """What a supervisor publishes."""

    text: str
    title: str
    lines: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    entry_id: int | None = None


class EntryLookup(Protocol):
    async def published_title(self, entry_id: int) -> str | None:
        """The title of published entry `entry_id`; None when there is none (or not published)."""


def problems(draft: Draft, known_lines: Mapping[str, str], now: datetime) -> list[dict[str, str]]:
    """Each field the announcement cannot be published with, and why (in the hotline's words)."""
    bad: list[dict[str, str]] = []
    if not draft.text.strip():
        bad.append({"field": "text", "message": "say something: the text is empty"})
    elif len(draft.text) > MAX_CHARS:
        bad.append({"field": "text", "message": f"at most {MAX_CHARS} characters ({len(draft.text)} given)"})
    unknown = [n for n in draft.lines if n not in known_lines]
    if unknown:
        bad.append({"field": "lines", "message": "not inbound numbers of the dialplan: " + ", ".join(unknown)})
    elif len(set(draft.lines)) != len(draft.lines):
        bad.append({"field": "lines", "message": "a line is listed twice"})
    if draft.ends_at <= draft.starts_at:
        bad.append({"field": "ends_at", "message": "must be after starts_at"})
    elif draft.ends_at - draft.starts_at > timedelta(days=MAX_DAYS):
        bad.append({"field": "ends_at", "message": f"at most {MAX_DAYS} days after starts_at"})
    elif draft.ends_at <= now:
        bad.append({"field": "ends_at", "message": "is already past"})
    if draft.starts_at > now + timedelta(days=365):
        bad.append({"field": "starts_at", "message": "at most a year ahead"})
    return bad


def state_of(row: Announcement, now: datetime) -> State:
    if row.ended_at is not None or row.ends_at <= now:
        return "ended"
    return "scheduled" if row.starts_at > now else "playing"


def _in_state(state: State, now: datetime) -> ColumnElement[bool]:
    a = Announcement
    if state == "ended":
        return or_(a.ended_at.is_not(None), a.ends_at <= now)
    if state == "playing":
        return and_(a.ended_at.is_(None), a.starts_at <= now, a.ends_at > now)
    return and_(a.ended_at.is_(None), a.starts_at > now)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


class Announcements:
    """The announcements of the centre; `active` is what the inbound flow reads."""

    def __init__(self, sessions: SessionFactory, audio: AnnouncementAudio, lines: Mapping[str, str],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), entries: EntryLookup | None = None
                 ) -> None:
        self._sessions, self.audio, self.lines, self._clock = sessions, audio, dict(lines), clock
        self._entries = entries
        self.active = ActiveAnnouncements(self._not_ended)

    def to_json(self, row: Announcement, now: datetime | None = None) -> dict[str, Any]:
        now = now or self._clock()
        state = state_of(row, now)
        ended_at = row.ended_at or (row.ends_at if state == "ended" else None)
        return {"id": row.id, "title": row.title, "text": row.text, "audio": row.audio, "seconds": row.seconds,
                "lines": list(row.lines), "line_names": [self.lines.get(n, n) for n in row.lines],
                "starts_at": _iso(row.starts_at), "ends_at": _iso(row.ends_at), "created_by": row.created_by,
                "created_at": _iso(row.created_at), "ended_by": row.ended_by, "ended_at": _iso(ended_at),
                "state": state, "changes": list(row.changes), "entry_id": row.entry_id}

    async def listing(self, state: State | None = None) -> list[dict[str, Any]]:
        """Newest first, at most LISTED."""
        now = self._clock()
        query = select(Announcement).order_by(Announcement.id.desc()).limit(LISTED)
        if state is not None:
            query = query.where(_in_state(state, now))
        async with self._sessions() as s:
            return [self.to_json(r, now) for r in (await s.scalars(query)).all()]

    async def publish(self, draft: Draft, by: str) -> dict[str, Any]:
        """Check, synthesise the words (at once: callers never wait for it), store; 422 naming each bad field."""
        now = self._clock()
        bad = problems(draft, self.lines, now)
        if draft.entry_id is not None and (self._entries is None
                                           or await self._entries.published_title(draft.entry_id) is None):
            bad.append({"field": "entry_id", "message": f"no published knowledge entry {draft.entry_id}"})
        if bad:
            raise Invalid("; ".join(f"{b['field']}: {b['message']}" for b in bad), fields=bad,
                          error_id="bad_announcement")
        sound = await self.audio.synthesise(draft.text)
        row = Announcement(title=draft.title or draft.text[:20], text=draft.text, audio="synthesised",
                           sound=sound.name, seconds=sound.seconds, lines=list(draft.lines),
                           starts_at=draft.starts_at, ends_at=draft.ends_at, created_by=by, created_at=now,
                           entry_id=draft.entry_id,
                           changes=[{"at": now.isoformat(), "by": by, "change": "published", "sound": sound.name}])
        async with self._sessions.begin() as s:
            s.add(row)
        self.active.changed()
        return self.to_json(row, now)

    async def record(self, announcement_id: int, data: bytes, content_type: str, by: str) -> dict[str, Any]:
        """The recording replaces the audio of an announcement not yet ended (409 `announcement_ended`)."""
        await self._open(announcement_id)  # refused before the audio is converted
        sound = await self.audio.recording(data, content_type)
        return await self._change(announcement_id, by, "recorded", sound)

    async def end(self, announcement_id: int, by: str) -> dict[str, Any]:
        """Stops it at once (the next call does not hear it); 409 `announcement_ended` if it already has."""
        return await self._change(announcement_id, by, "ended", None)

    async def sound_file(self, announcement_id: int) -> Path:
        async with self._sessions() as s:
            row = await self._get(s, announcement_id)
            return self.audio.existing(row.sound)

    async def _open(self, announcement_id: int) -> Announcement:
        async with self._sessions() as s:
            row = await self._get(s, announcement_id)
        if state_of(row, self._clock()) == "ended":
            raise Conflict(f"announcement {announcement_id} has ended", error_id="announcement_ended")
        return row

    async def _change(self, announcement_id: int, by: str, change: str, sound: Sound | None) -> dict[str, Any]:
        now = self._clock()
        async with self._sessions.begin() as s:
            row = await self._get(s, announcement_id, lock=True)
            if state_of(row, now) == "ended":
                raise Conflict(f"announcement {announcement_id} has ended", error_id="announcement_ended")
            entry: dict[str, Any] = {"at": now.isoformat(), "by": by, "change": change}
            if sound is not None:
                row.audio, row.sound, row.seconds = "recorded", sound.name, sound.seconds
                entry["sound"] = sound.name
            else:
                row.ended_at, row.ended_by = now, by
            row.changes = [*row.changes, entry]
        self.active.changed()
        return self.to_json(row, now)

    @staticmethod
    async def _get(s: AsyncSession, announcement_id: int, *, lock: bool = False) -> Announcement:
        query = select(Announcement).where(Announcement.id == announcement_id)
        row = await s.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFound(f"no announcement {announcement_id}", error_id="announcement_not_found")
        return row

    async def _not_ended(self, now: datetime) -> Sequence[Playing]:
        """What the flow's cache holds: every announcement not ended, oldest first."""
        query = select(Announcement).where(Announcement.ended_at.is_(None), Announcement.ends_at > now) \
            .order_by(Announcement.starts_at, Announcement.id)
        async with self._sessions() as s:
            rows = (await s.scalars(query)).all()
        return [Playing(r.id, r.title, r.audio, self.audio.played(r.sound), r.seconds, frozenset(r.lines),
                        r.starts_at, r.ends_at, r.entry_id) for r in rows]
