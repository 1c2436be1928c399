"""What follows the directory at once: the ACD (agents added, skills changed, deactivated ones out) and the
teams the access checks read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from acd.directory.service import AgentEntry
from acd.store import AcdStore

DEACTIVATED = "deactivated in the directory"


class AcdFollows:
    """A directory listener keeping the ACD's agents as the directory has them."""

    def __init__(self, store: AcdStore, poke: Callable[[], None]) -> None:
        self._store = store
        self._poke = poke

    async def __call__(self, changed: Sequence[AgentEntry]) -> None:
        for entry in changed:
            if entry.active:
                await self._store.add_agent(entry.id, entry.skills)
            else:
                await self._store.remove_agent(entry.id, DEACTIVATED)
        self._poke()  # a ready agent with a new skill may take a waiting caller now

    async def align(self, agents: Sequence[AgentEntry]) -> None:
        """At start: the directory's active agents are the ACD's, with their skills; any other agent leaves."""
        active = {a.id for a in agents if a.active}
        for known in await self._store.agents():
            if known not in active:
                await self._store.remove_agent(known, DEACTIVATED)
        for entry in agents:
            if entry.active:
                await self._store.add_agent(entry.id, entry.skills)


class TeamsFollow:
    """A directory listener keeping `members` (agent → team, the map the access checks' `Teams` reads) current."""

    def __init__(self, members: dict[str, str]) -> None:
        self.members = members

    async def __call__(self, changed: Sequence[AgentEntry]) -> None:
        for entry in changed:
            if entry.team:
                self.members[entry.id] = entry.team
            else:
                self.members.pop(entry.id, None)
