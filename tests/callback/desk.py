"""The callback work list's routes for tests without Asterisk: a real work list on the test's database, the
ACD's side of a call out scripted, and an AMI that cannot ring anything (a dial ends at once as FAILED)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callback.callout import CallbackDialler
from callback.worklist import Worklist
from callback.worklist_http import CallbackDesk
from dialplans.model import Dialplan
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiError
from hotline.core.clock import now
from hotline.core.db.engine import SessionFactory
from tests.dialplans.unlimited import unlimited_guard


@dataclass
class ScriptedAgents:
    """Agents in `busy` are on another call; the others are taken from ready and freed afterwards."""

    busy: set[str] = field(default_factory=set)
    freed: list[tuple[str, bool]] = field(default_factory=list)

    async def take_for_call_out(self, agent: str, call_id: str, reason: str) -> tuple[str, dict[str, str]] | None:
        return None if agent in self.busy else (f"t-{call_id}", {"state": "ready"})

    async def after_call_out(self, agent: str, token: str, before: dict[str, str], talked: bool) -> None:
        self.freed.append((agent, talked))


class NoAsterisk:
    """An AMI with nothing behind it: every Originate is refused."""

    def __init__(self) -> None:
        self.originated: list[dict[str, Any]] = []

    def subscribe(self, *_: object) -> None:
        return None

    async def originate(self, channel: str, **kw: Any) -> None:
        self.originated.append({"channel": channel, **kw})
        raise AmiError("no Asterisk in this test")


def callback_desk(sessions: SessionFactory, calls: CallRecords, plan: Dialplan,
                  clock: Callable[[], datetime] = now, agents: ScriptedAgents | None = None) -> CallbackDesk:
    worklist = Worklist(sessions, clock)
    dialler = CallbackDialler(worklist, NoAsterisk(), calls, agents or ScriptedAgents(),  # type: ignore[arg-type]
                              unlimited_guard(plan), plan, clock=clock)
    return CallbackDesk(worklist, dialler, lambda: None)
