"""The agent directory's rules: who may be an agent (a free number, known skills, an existing team), adding
one or many at once (all or nothing), changes, deactivation, teams; and who hears of each change.

Listeners (the ACD, the access checks' teams, the phones' configs) are called after each committed change
with the agents it touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from acd.directory.models import DirectoryAgent, Team
from acd.directory.secrets import PhoneSecrets
from dialplans.model import LINKAGE_NUMBERS, Agent, Dialplan, Phone, Seat
from hotline.core.db.engine import SessionFactory
from hotline.core.db.integrity import is_duplicate


@dataclass(frozen=True)
class AgentEntry:
    """An agent as the directory keeps them."""

    id: str
    name: str
    seat: str
    team: str | None
    skills: dict[str, int]
    phone: str
    active: bool
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "seat": self.seat, "team": self.team, "skills": self.skills,
                "phone": self.phone, "active": self.active, "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}

    def as_agent(self) -> Agent:
        """The dialplan's view of the agent (what the phones' configs are rendered from)."""
        return Agent(self.id, self.name, cast(Seat, self.seat), tuple(self.skills.items()), self.team or "",
                     cast(Phone, self.phone))

    @classmethod
    def of(cls, row: DirectoryAgent) -> AgentEntry:
        return cls(row.id, row.name, row.seat, row.team, {str(k): int(v) for k, v in row.skills.items()},
                   row.phone, row.active, _utc(row.created_at), _utc(row.updated_at))


@dataclass(frozen=True)
class AgentDraft:
    """A new agent, as asked for."""

    id: str
    name: str
    seat: str
    team: str | None
    skills: Mapping[str, int]
    phone: str = "sip"
    active: bool = True


@dataclass(frozen=True)
class Problem:
    """One reason a request is refused: which row (of a bulk request) and field, and why."""

    field: str
    message: str
    row: int | None = None
    kind: str = "invalid"  # or "exists": the agent or team is there already

    def to_json(self) -> dict[str, Any]:
        where = self.field if self.row is None else f"agents.{self.row}.{self.field}"
        return {"field": where, "message": self.message}


class Refused(ValueError):
    """The directory refuses the request; nothing was changed. `exists`: only because the agent is there."""

    def __init__(self, problems: Sequence[Problem], *, exists: bool = False) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)
        self.exists = exists


class UnknownAgent(LookupError):
    pass


Listener = Callable[[Sequence[AgentEntry]], Awaitable[None]]


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Rules:
    """What the dialplan file fixes for the directory: the skills there are, and numbers no agent may take
    (supervisors' phones, the hotline's numbers, the linkage numbers)."""

    skills: frozenset[str]
    reserved: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict)  # skill → what people call it (社保, 税务 …)

    @classmethod
    def of(cls, plan: Dialplan) -> Rules:
        reserved = {**{n: "a linkage number" for n in LINKAGE_NUMBERS},
                    **{n.number: "a hotline number" for n in plan.numbers},
                    **{s.id: "a supervisor's phone" for s in plan.supervisors}}
        return cls(frozenset(s.id for s in plan.skills), reserved, {s.id: s.label for s in plan.skills})


class AgentDirectory:
    """Agents and teams in the database; `listeners` hear of every change; `secrets` holds the phones' passwords."""

    def __init__(self, sessions: SessionFactory, rules: Rules, secrets: PhoneSecrets) -> None:
        self._sessions = sessions
        self._rules = rules
        self.secrets = secrets
        self.listeners: list[Listener] = []

    async def agents(self, ids: Iterable[str] | None = None, *, active_only: bool = False) -> list[AgentEntry]:
        """Agents by number (those of `ids`, or all)."""
        query = select(DirectoryAgent).order_by(DirectoryAgent.id)
        if ids is not None:
            query = query.where(DirectoryAgent.id.in_(list(ids)))
        if active_only:
            query = query.where(DirectoryAgent.active.is_(True))
        async with self._sessions() as s:
            return [AgentEntry.of(row) for row in (await s.scalars(query)).all()]

    async def agent(self, agent: str) -> AgentEntry:
        async with self._sessions() as s:
            row = await s.get(DirectoryAgent, agent)
        if row is None:
            raise UnknownAgent(f"no agent {agent}")
        return AgentEntry.of(row)

    def skills(self) -> list[dict[str, str]]:
        """The skills an agent may have (the dialplan file's), with their labels."""
        return [{"id": skill, "label": self._rules.labels.get(skill, skill)} for skill in sorted(self._rules.skills)]

    async def teams(self) -> list[dict[str, Any]]:
        """Every team with its number of active agents."""
        async with self._sessions() as s:
            counts: dict[str | None, int] = {team: n for team, n in (await s.execute(
                select(DirectoryAgent.team, func.count()).where(DirectoryAgent.active.is_(True))
                .group_by(DirectoryAgent.team))).all()}
            teams = (await s.scalars(select(Team).order_by(Team.name))).all()
        return [{"name": t.name, "agents": counts.get(t.name, 0), "created_at": _utc(t.created_at).isoformat()}
                for t in teams]

    async def add_team(self, name: str, by: str) -> dict[str, Any]:
        with _same_moment("teams", "name", f"team {name} was added by someone else at the same moment", False):
            async with self._sessions.begin() as s:
                if await s.get(Team, name) is not None:
                    raise Refused([Problem("name", f"team {name} exists", kind="exists")], exists=True)
                team = Team(name=name, created_at=datetime.now(UTC), created_by=by)
                s.add(team)
        return {"name": name, "agents": 0, "created_at": team.created_at.isoformat()}

    async def add(self, drafts: Sequence[AgentDraft], by: str, *, bulk: bool = False) -> list[AgentEntry]:
        """Add agents, all or none: every bad row is named; their phones' secrets are generated."""
        ids = [d.id for d in drafts]
        with _same_moment("agents", "id", "an agent of this request was added by someone else at the same moment",
                          bulk):
            rows = await self._insert(drafts, by, bulk)
        self.secrets.ensure(ids)
        entries = [AgentEntry.of(r) for r in rows]
        await self._changed(entries)
        return entries

    async def _insert(self, drafts: Sequence[AgentDraft], by: str, bulk: bool) -> list[DirectoryAgent]:
        problems: list[Problem] = []
        ids = [d.id for d in drafts]
        async with self._sessions.begin() as s:
            existing = set((await s.scalars(select(DirectoryAgent.id).where(DirectoryAgent.id.in_(ids)))).all())
            teams = set((await s.scalars(select(Team.name))).all())
            seen: set[str] = set()
            for i, d in enumerate(drafts):
                row = i if bulk else None
                if d.id in existing or d.id in seen:
                    problems.append(Problem("id", f"agent {d.id} exists", row, "exists") if d.id in existing
                                    else Problem("id", f"agent {d.id} is given twice", row))
                seen.add(d.id)
                problems += self._check(d.id, d.team, d.skills, teams, row)
            if problems:
                raise Refused(problems, exists=not bulk and all(p.kind == "exists" for p in problems))
            now = datetime.now(UTC)
            rows = [DirectoryAgent(id=d.id, name=d.name, seat=d.seat, team=d.team, skills=dict(d.skills),
                                   phone=d.phone, active=d.active, created_at=now, updated_at=now, updated_by=by)
                    for d in drafts]
            s.add_all(rows)
        return rows

    async def change(self, agent: str, by: str, **fields: Any) -> AgentEntry:
        """Change some of name, seat, team (None: no team), skills, phone, active."""
        async with self._sessions.begin() as s:
            row = await s.get(DirectoryAgent, agent)
            if row is None:
                raise UnknownAgent(f"no agent {agent}")
            teams = set((await s.scalars(select(Team.name))).all())
            problems = self._check(agent, fields.get("team", row.team), fields.get("skills", row.skills), teams,
                                   None, new=False)
            if problems:
                raise Refused(problems)
            back = fields.get("active") is True and not row.active
            for name, value in fields.items():
                setattr(row, name, dict(value) if name == "skills" else value)
            row.updated_at, row.updated_by = datetime.now(UTC), by
            entry = AgentEntry.of(row)
        if back:  # an agent back from deactivation gets a new password, never the one they left with
            self.secrets.rotate(agent)
        elif entry.active:
            self.secrets.ensure([agent])
        await self._changed([entry])
        return entry

    async def rotate_secret(self, agent: str) -> str:
        """A new SIP password for the agent's phone (the old one stops working at the next render)."""
        entry = await self.agent(agent)
        secret = self.secrets.rotate(agent)
        await self._changed([entry])
        return secret

    async def seed(self, agents: Iterable[Agent], by: str = "dialplan file") -> list[AgentEntry]:
        """The dialplan file's agents that the directory does not have yet (and their teams); after that the
        directory wins."""
        wanted = list(agents)
        async with self._sessions.begin() as s:
            have = set((await s.scalars(select(DirectoryAgent.id))).all())
            teams = set((await s.scalars(select(Team.name))).all())
            now = datetime.now(UTC)
            for team in sorted({a.group for a in wanted if a.group} - teams):
                s.add(Team(name=team, created_at=now, created_by=by))
            await s.flush()
            rows = [DirectoryAgent(id=a.id, name=a.name, seat=a.seat, team=a.group or None, skills=dict(a.skills),
                                   phone=a.phone, active=True, created_at=now, updated_at=now, updated_by=by)
                    for a in wanted if a.id not in have]
            s.add_all(rows)
        self.secrets.ensure([r.id for r in rows])
        return [AgentEntry.of(r) for r in rows]

    def _check(self, agent: str, team: str | None, skills: Mapping[str, Any], teams: set[str], row: int | None,
               *, new: bool = True) -> list[Problem]:
        problems = []
        if new and agent in self._rules.reserved:
            problems.append(Problem("id", f"{agent} is {self._rules.reserved[agent]}, not an agent's number", row))
        if team is not None and team not in teams:
            problems.append(Problem("team", f"no team {team}: add it first (POST /api/directory/teams)", row))
        unknown = sorted(set(skills) - self._rules.skills)
        if unknown:
            problems.append(Problem("skills", f"unknown skills {', '.join(unknown)} (the dialplan file's skills: "
                                              f"{', '.join(sorted(self._rules.skills))})", row))
        return problems

    async def _changed(self, entries: Sequence[AgentEntry]) -> None:
        for listener in self.listeners:
            await listener(entries)


@contextlib.contextmanager
def _same_moment(table: str, column: str, message: str, bulk: bool) -> Iterator[None]:
    """A row another request inserted between our check and our insert: the same refusal as if we had seen it."""
    try:
        yield
    except IntegrityError as exc:
        if not is_duplicate(exc, table, column):
            raise
        raise Refused([Problem(column, message, kind="exists")], exists=not bulk) from None
