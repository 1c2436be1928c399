"""What the wallboard reads from the database, in the background every `figures_every_s` for every viewer: the
figures of today and of the last 30 minutes (`console.wallboard.figures`), callbacks due, revisit campaigns'
progress, the recordings and case-system backlogs, the directory's names; and the line each waiting caller
dialled (kept per call: it never changes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as day_time
from typing import Any

from sqlalchemy import func, select

from acd.directory.service import AgentDirectory
from callback.campaigns import RevisitCampaigns
from callback.models import RevisitTask
from callback.worklist import KINDS, OPEN
from console.settings import WallboardSettings
from console.wallboard.figures import Figures, queued_calls, tally
from console.wallboard.refreshed import Refreshed
from hotline.calls.models import CallRecord
from hotline.core.clock import CHINA, china_now
from hotline.core.db.engine import SessionFactory
from recordings.worker import recording_backlog

WINDOW = timedelta(minutes=30)
CAMPAIGNS_SHOWN = 8
Backlog = Callable[[], Awaitable[dict[str, int]]]


@dataclass(frozen=True)
class Stored:
    """One reading of the database."""

    at: datetime
    today: Figures
    last_30min: Figures
    callbacks: dict[str, int]
    revisits: list[dict[str, Any]]
    recordings: dict[str, int] | None
    outbox: dict[str, int] | None
    names: dict[str, str] = field(default_factory=dict)  # agent → name (the directory)


async def callbacks_due(sessions: SessionFactory, now: datetime, overdue_after: timedelta) -> dict[str, int]:
    """Open callback requests and voice messages whose time has come; `overdue`: due for longer than
    `overdue_after` (either kind)."""
    due_at = func.coalesce(RevisitTask.next_attempt_at, RevisitTask.created_at)
    query = (select(RevisitTask.reason, func.count(), func.count().filter(due_at <= now - overdue_after))
             .where(RevisitTask.mode == "human", RevisitTask.reason.in_(KINDS), RevisitTask.status.in_(OPEN),
                    due_at <= now).group_by(RevisitTask.reason))
    async with sessions() as s:
        rows = {str(kind): (int(n), int(late)) for kind, n, late in await s.execute(query)}
    return {"due": rows.get("callback_request", (0, 0))[0], "voice_messages_due": rows.get("voice_message", (0, 0))[0],
            "overdue": sum(late for _, late in rows.values())}


async def campaigns_progress(campaigns: RevisitCampaigns) -> list[dict[str, Any]]:
    """The campaigns still running (active or paused), newest first, with their progress."""
    running = [c for c in await campaigns.listing() if c.state != "finished"][:CAMPAIGNS_SHOWN]
    return [{"campaign": c["id"], "name": c["name"], "state": c["state"], "total": c["progress"]["total"],
             "done": c["progress"]["done"], "pending": c["progress"]["pending"],
             "reached": c["progress"]["reached"], "reached_rate": c["progress"]["reached_rate"]}
            for c in await campaigns.with_progress(running)]


class StoredFigures:
    """The database's part of the snapshot, read once per `settings.figures_every_s` (single-flight)."""

    def __init__(self, sessions: SessionFactory, settings: WallboardSettings, directory: AgentDirectory | None,
                 campaigns: RevisitCampaigns | None, outbox: Backlog | None) -> None:
        self._sessions, self._settings = sessions, settings
        self._directory, self._campaigns, self._outbox = directory, campaigns, outbox
        self._refreshed = Refreshed(lambda: self.read(china_now()), settings.figures_every_s)
        self._lines: dict[str, str] = {}  # call id → the line it dialled

    async def get(self) -> Stored:
        """The last reading (at most `figures_every_s` old, give or take one reading's time)."""
        if self._settings.figures_every_s <= 0:
            return await self.read(china_now())
        return await self._refreshed.get()

    async def read(self, now: datetime) -> Stored:
        """Read the database as of `now` (aware)."""
        now = now.astimezone(CHINA)
        midnight = datetime.combine(now.date(), day_time(0), CHINA)
        since = min(midnight, now - WINDOW)
        calls = await queued_calls(self._sessions, since)
        names = {a.id: a.name for a in await self._directory.agents()} if self._directory is not None else {}
        stored = Stored(
            at=now, today=tally(calls, midnight, now), last_30min=tally(calls, now - WINDOW, now),
            callbacks=await callbacks_due(self._sessions, now, timedelta(minutes=self._settings.callback_overdue_min)),
            revisits=await campaigns_progress(self._campaigns) if self._campaigns is not None else [],
            recordings=await recording_backlog(self._sessions),
            outbox=await self._outbox() if self._outbox is not None else None, names=names)
        return stored

    async def lines_of(self, call_ids: Collection[str]) -> dict[str, str]:
        """The line each of these calls dialled (its call record's `dialled`), from the records once per call."""
        unknown = [c for c in call_ids if c not in self._lines]
        if unknown:
            if len(self._lines) > 20_000:
                self._lines.clear()
            async with self._sessions() as s:
                for start in range(0, len(unknown), 500):
                    chunk = unknown[start:start + 500]
                    rows = await s.execute(select(CallRecord.call_id, CallRecord.dialled)
                                           .where(CallRecord.call_id.in_(chunk)))
                    self._lines.update({str(c): str(d) for c, d in rows})
        return {c: self._lines[c] for c in call_ids if c in self._lines}
