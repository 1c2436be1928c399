"""Who may do what: one table of rules (action → role → scope), read by one decorator that also audits.

A route names its action (`@guarded("calls.read")`); the table, kept in one place by the app, says which
roles may take it and how far each reaches: their own calls (`own`), their team's (`team`) or all (`all`).
The decorator refuses roles the table does not list (403), hands the handler a `Grant` to check objects
against, and writes exactly one audit row per request: who, what, which resource, allowed or not.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiohttp import web

from hotline.core.errors import DomainError, Forbidden
from hotline.core.web.audit import AUDIT
from hotline.core.web.auth import principal
from hotline.core.web.tokens import ROLES, Principal


class Scope(StrEnum):
    OWN = "own"  # the principal's own calls, tickets, recordings (agents)
    TEAM = "team"  # the supervisor's team; a supervisor with no team: the whole centre
    ALL = "all"


@dataclass(frozen=True)
class Rule:
    """One action: what it is (for people) and which roles may take it, with their scope."""

    action: str
    summary: str
    grants: Mapping[str, Scope]

    def __post_init__(self) -> None:
        unknown = set(self.grants) - set(ROLES)
        if unknown:
            raise ValueError(f"{self.action}: unknown roles {sorted(unknown)}")


def rule(action: str, summary: str, **grants: Scope) -> Rule:
    return Rule(action, summary, grants)


class Policy:
    """The table of rules; the app builds it once and every guarded route reads it."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules: dict[str, Rule] = {}
        for r in rules:
            if r.action in self._rules:
                raise ValueError(f"action {r.action} is in the access table twice")
            self._rules[r.action] = r

    def __getitem__(self, action: str) -> Rule:
        try:
            return self._rules[action]
        except KeyError:
            raise LookupError(f"action {action} is not in the access table") from None

    def __contains__(self, action: str) -> bool:
        return action in self._rules

    def actions(self) -> list[str]:
        return list(self._rules)

    def markdown(self) -> str:
        """The table for people: one row per action, one column per role."""
        head = "| action | what | " + " | ".join(ROLES) + " |\n|---|---|" + "---|" * len(ROLES) + "\n"
        rows = [f"| `{r.action}` | {r.summary} | " + " | ".join(str(r.grants.get(role, "—")) for role in ROLES) + " |"
                for r in self._rules.values()]
        return head + "\n".join(rows) + "\n"


@dataclass(frozen=True)
class Teams:
    """Which team each agent belongs to (the dialplan file's `group:`)."""

    members: Mapping[str, str] = field(default_factory=dict)

    def of(self, agent: str) -> str | None:
        return self.members.get(agent)

    def agents_of(self, team: str) -> frozenset[str]:
        return frozenset(agent for agent, of in self.members.items() if of == team)


POLICY = web.AppKey("policy", Policy)
TEAMS = web.AppKey("teams", Teams)


@dataclass
class Grant:
    """What the table allows this principal for this request; handlers check objects with it."""

    who: Principal
    scope: Scope
    action: str
    resource: str
    teams: Teams
    policy: Policy
    detail: dict[str, Any] = field(default_factory=dict)
    audited: bool = False

    @property
    def role(self) -> str:
        return self.who.role

    def covers_agent(self, agent: str | None) -> bool:
        """Whether an object handled by `agent` is within reach."""
        if self.scope is Scope.ALL:
            return True
        if self.scope is Scope.OWN:
            return self.who.agent_id is not None and agent == self.who.agent_id
        return self.who.group is None or (agent is not None and self.teams.of(agent) == self.who.group)

    def may(self, action: str) -> bool:
        """Whether the same principal's role is listed for another action (e.g. `tickets.confidential`)."""
        return self.who.role in self.policy[action].grants

    def agents_in_reach(self) -> frozenset[str] | None:
        """The agents whose objects a listing may show (None: all), the same reach as `covers_agent`, for
        the database to filter on before it counts a page."""
        if self.scope is Scope.ALL:
            return None
        if self.scope is Scope.OWN:
            return frozenset({self.who.agent_id}) if self.who.agent_id is not None else frozenset()
        group = self.who.group
        return None if group is None else self.teams.agents_of(group)

    def require(self, allowed: bool, message: str) -> None:
        """Refuse the request (403, audited as refused) unless `allowed`."""
        if not allowed:
            raise Forbidden(message)

    async def audit_now(self, request: web.Request) -> None:
        """Write the allowed row before a long answer (a websocket, a stream) rather than after it."""
        if not self.audited:
            await _audit(request, self, True)

    def note(self, **detail: object) -> None:
        """Add to the audit row of this request."""
        self.detail.update(detail)


GuardedHandler = Callable[[web.Request, Grant], Awaitable[web.StreamResponse]]


def _resource(request: web.Request, template: str | None) -> str:
    if template is not None:
        return template.format(**request.match_info)
    path = request.path.removeprefix("/api/")
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query.items()))
    return f"{path}?{query}" if query else path


def guarded(action: str, resource: str | None = None) -> Callable[[GuardedHandler], Callable[
        [web.Request], Awaitable[web.StreamResponse]]]:
    """Check `action` against the table, run the handler with its grant, audit the request once.

    `resource` is a template over the path's parameters (`"recordings/{recording_id}"`); by default the
    path after /api/ with the query.
    """

    def wrap(handler: GuardedHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.StreamResponse:
            who = principal(request)
            policy = request.app[POLICY]
            table = policy[action]
            grant = Grant(who, table.grants.get(who.role, Scope.OWN), action, _resource(request, resource),
                          request.app.get(TEAMS) or Teams(), policy)
            allowed = who.role in table.grants
            try:
                if not allowed:
                    raise Forbidden(f"role {who.role} may not {table.summary}")
                response = await handler(request, grant)
            except DomainError as exc:
                if not grant.audited:
                    await _audit(request, grant, allowed and exc.code != 403, refused=exc.id)
                raise
            if not grant.audited:
                await _audit(request, grant, True)
            return response

        run.action = action  # type: ignore[attr-defined]
        return run

    return wrap


async def _audit(request: web.Request, grant: Grant, allowed: bool, **extra: object) -> None:
    grant.audited = True
    who = grant.who
    await request.app[AUDIT].record(actor=who.name, role=who.role, action=grant.action[:64],
                                    resource=grant.resource, allowed=allowed, remote=request.remote,
                                    detail={**grant.detail, **extra})
