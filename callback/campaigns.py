"""Revisit campaigns: named sets of tasks that operators follow, pause and resume one by one.

The rules (closed tickets, calls, callback requests) fill one standing campaign, `RULES_CAMPAIGN`; each
upload is a campaign of its own, made with its tasks in one transaction (nothing half-imported). A
paused campaign's tasks are not called (`RevisitTasks.due` and `begin` look at the state); the dialer's
own pause stays the master switch over all of them. An upload's campaign is finished when its last
robot task ends, and a finished campaign stays finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from callback.models import RevisitCampaign
from callback.tasks import RevisitTasks, add_tasks

STATES = ("active", "paused", "finished")
NAME_LIMIT = 100


class CampaignFinished(ValueError):
    """A finished campaign is neither paused nor resumed."""


def check_name(value: object) -> str:
    """A campaign's name: a text of 1 to NAME_LIMIT characters (spaces around it dropped)."""
    name = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(name) <= NAME_LIMIT:
        raise ValueError(f"name must be a text of 1 to {NAME_LIMIT} characters")
    return name


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    source: str  # rules | upload
    state: str  # active | paused | finished
    created_at: datetime
    created_by: str

    @staticmethod
    def of(row: RevisitCampaign) -> Campaign:
        return Campaign(row.id, row.name, row.source, row.state, row.created_at, row.created_by)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "source": self.source, "state": self.state,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by}


class RevisitCampaigns:
    def __init__(self, tasks: RevisitTasks) -> None:
        self._tasks, self._sessions = tasks, tasks.sessions

    async def create(self, name: str, rows: list[dict[str, str]], created_by: str) -> tuple[Campaign, list[int]]:
        """An upload's campaign with its checked rows as robot tasks, all in one transaction."""
        async with self._sessions.begin() as s:
            row = RevisitCampaign(name=name, source="upload", state="active", created_at=datetime.now(UTC),
                                  created_by=created_by)
            s.add(row)
            await s.flush()
            return Campaign.of(row), await add_tasks(s, rows, row.id)

    async def get(self, campaign: int) -> Campaign | None:
        async with self._sessions() as s:
            row = await s.get(RevisitCampaign, campaign)
        return Campaign.of(row) if row is not None else None

    async def listing(self, state: str | None = None) -> list[Campaign]:
        """Campaigns, newest first (the standing one of the rules last)."""
        query = select(RevisitCampaign).order_by(RevisitCampaign.id.desc())
        if state is not None:
            query = query.where(RevisitCampaign.state == state)
        async with self._sessions() as s:
            return [Campaign.of(row) for row in (await s.scalars(query)).all()]

    async def with_progress(self, campaigns: list[Campaign]) -> list[dict[str, Any]]:
        """Each campaign with its `RevisitTasks.progress`."""
        progress = await self._tasks.progress_by_campaign([c.id for c in campaigns])
        return [{**c.as_json(), "progress": progress[c.id]} for c in campaigns]

    async def set_paused(self, campaign: int, paused: bool) -> Campaign:
        """Pause or resume a campaign (again is fine); LookupError when unknown, CampaignFinished when over."""
        async with self._sessions.begin() as s:
            row = await s.get(RevisitCampaign, campaign, with_for_update=True)
            if row is None:
                raise LookupError(f"no revisit campaign {campaign}")
            if row.state == "finished":
                raise CampaignFinished(f"campaign {campaign} is finished")
            row.state = "paused" if paused else "active"
            return Campaign.of(row)
