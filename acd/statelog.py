"""The agents' state log (R-KPI-1 occupancy): one row per interval an agent spent in one state (ready, offered,
on_call, wrap_up, paused with its reason), written from the ACD's own `agent` events on the live feed.

Signed-in time is every interval but `signed_out`; occupancy = (on_call + wrap_up) ÷ signed-in time
(console.reports). A wrap-up interval, when it ends, also gives the call it followed its `wrap_up_s`.
An event missed while the service was down leaves the interval open until the agent's next event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Index, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from hotline.calls.records import CallNotFound, CallRecords
from hotline.core.db.base import Base
from hotline.core.db.engine import SessionFactory

log = logging.getLogger(__name__)
Events = Callable[[], contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]]


class AgentStateInterval(Base):
    """An agent in one state from `started_at` until `ended_at` (None: still in it)."""

    __tablename__ = "agent_states"
    __table_args__ = (Index("ix_agent_states_agent_started", "agent", "started_at"),
                      Index("ix_agent_states_started", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    agent: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # ready | offered | on_call | wrap_up | paused | signed_out
    reason: Mapped[str] = mapped_column(String(64), default="")
    call_id: Mapped[str | None] = mapped_column(String(64))  # on_call / wrap_up: the call
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class AgentStateLog:
    """Writes the intervals: each `agent` event closes the agent's open interval and opens the next."""

    def __init__(self, sessions: SessionFactory, calls: CallRecords) -> None:
        self._sessions, self._calls = sessions, calls
        self._talking: dict[str, str] = {}  # agent → the call they were last connected to

    async def record(self, event: dict[str, Any]) -> None:
        kind, agent = event.get("event"), event.get("agent")
        if not agent:
            return
        if kind == "connected" and event.get("call"):
            self._talking[str(agent)] = str(event["call"])
            return
        if kind != "agent":
            return
        at_ms = event.get("at_ms")
        at = datetime.fromtimestamp(int(at_ms) / 1000, UTC) if at_ms else datetime.now(UTC)
        state = str(event.get("state") or "")
        call = self._talking.get(str(agent)) if state in ("on_call", "wrap_up") else None
        ended = await self.change(str(agent), state, str(event.get("reason") or "")[:64], call, at)
        if ended is not None and ended.state == "wrap_up" and ended.call_id and ended.ended_at:
            with contextlib.suppress(CallNotFound):
                await self._calls.wrapped_up(ended.call_id, (ended.ended_at - ended.started_at).total_seconds())

    async def change(self, agent: str, state: str, reason: str, call_id: str | None,
                     at: datetime) -> AgentStateInterval | None:
        """Close the agent's open interval at `at` and open one in `state`; the closed one, if any."""
        async with self._sessions.begin() as s:
            open_ = await s.scalar(select(AgentStateInterval).where(
                AgentStateInterval.agent == agent, AgentStateInterval.ended_at.is_(None))
                .order_by(AgentStateInterval.started_at.desc()).limit(1))
            if open_ is not None:
                await s.execute(update(AgentStateInterval).where(
                    AgentStateInterval.agent == agent, AgentStateInterval.ended_at.is_(None))
                    .values(ended_at=at))
                open_.ended_at = at
            if state != "signed_out":
                s.add(AgentStateInterval(agent=agent, state=state, reason=reason, call_id=call_id, started_at=at))
            return open_


class AgentStateFollower:
    """Follows the live feed and writes the log (a Worker: started once Asterisk is up)."""

    name = "acd-state-log"

    def __init__(self, log_: AgentStateLog, events: Events) -> None:
        self._log, self._events = log_, events
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while True:
            try:
                async with self._events() as events:
                    async for event in events:
                        await self._log.record(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("agent state log: following the feed failed; again in 1 s")
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
