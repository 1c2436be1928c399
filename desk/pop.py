"""The screen pop: everything an agent sees when a call is offered, read in one go (the offer → caller visible
path, `pop_p95_ms`): the number, the line dialled, route and keys, time waited, the caller's flags with the
recorded-line warning, and the caller's earlier calls with their agents, ratings and tickets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from acd.directory.models import DirectoryAgent
from desk.lines import Lines
from desk.words import FLAGS, OUTCOMES, TICKET_STATUSES
from hotline.calls.models import CallRecord
from hotline.core.db.engine import SessionFactory
from tickets.models import Ticket, TicketCall

HISTORY = 10  # earlier calls shown
KEY_STEPS = ("menu_key", "self_service")  # a key during the greeting is recorded again as its menu key
LIVE = ("offered", "connected")
OUTBOUND = ("callback", "revisit")  # calls the hotline placed: the line is the display number it called from


class LiveCalls(Protocol):
    """The ACD's live view of a call (acd.store.AcdStore): state, agent, entered (ms), flags."""

    async def call(self, call_id: str) -> dict[str, str]: ...


class NoSuchCall(LookupError):
    """Neither the ACD nor the call records know the call."""


@dataclass(frozen=True)
class PopWords:
    """What the pop says in the dialplan's words: rating labels, the recorded-line warning."""

    rating_labels: tuple[str, ...]
    watch_warning: str


def _at(step: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(step.get("at")))
    except ValueError:
        return None


def _first(steps: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((s for s in steps if s.get("step") == name), None)


def _waited_ms(steps: list[dict[str, Any]], live: Mapping[str, str], now: datetime) -> int | None:
    """From entering the queue to now (still ringing) or to the answer."""
    if live.get("entered", "").isdigit() and live.get("state") == "offered":
        return max(0, int(now.timestamp() * 1000) - int(live["entered"]))
    queued, answered = _first(steps, "queued"), _first(steps, "agent")
    start = _at(queued) if queued else None
    end = (_at(answered) if answered else None) or (now if live.get("state") in LIVE else None)
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds() * 1000))


class ScreenPop:
    """Builds the pop of a call from the ACD's live state and the database (one session, three queries)."""

    def __init__(self, sessions: SessionFactory, live: LiveCalls, lines: Lines, words: PopWords) -> None:
        self._sessions, self._live, self._lines, self._words = sessions, live, lines, words

    async def agent_of(self, call_id: str) -> tuple[str | None, dict[str, str], CallRecord | None]:
        """Who the call is with (offered to, talking with, or last answered by), its live state and record."""
        live = await self._live.call(call_id)
        async with self._sessions() as s:  # the record without its recordings (not shown in the pop)
            row = await s.scalar(select(CallRecord).options(raiseload(CallRecord.recordings))
                                 .where(CallRecord.call_id == call_id))
        if row is None and not live:
            raise NoSuchCall(call_id)
        agent = live.get("agent") if live.get("state") in LIVE else None
        return agent or (row.agent if row is not None else None), live, row

    async def build(self, call_id: str, live: dict[str, str], row: CallRecord | None, *,
                    confidential: bool) -> dict[str, Any]:
        """The pop; `confidential`: whether confidential tickets' titles may be shown."""
        now = datetime.now(UTC)
        if row is None:  # offered before the record was written: what the ACD knows
            return {"call_id": call_id, "caller": live.get("caller", ""), "state": live.get("state", ""),
                    "agent": live.get("agent"), "line": None, "route": {"skill": live.get("skill")}, "keys": [],
                    "waited_ms": _waited_ms([], live, now), "started_at": None,
                    "flags": self._flags(live.get("flags", "").split(","), None), "history": [], "tickets": []}
        async with self._sessions() as s:
            history = await self._history(s, row, confidential)
        skill = live.get("skill") or row.route_skill
        detail = next((st.get("detail") or {} for st in row.steps if st.get("step") == "caller_lists"), {})
        labels = [*detail.get("labels", []), *[f for f in live.get("flags", "").split(",") if f]]
        measure = next((st.get("detail") for st in row.steps if st.get("step") == "measure"), None)
        return {
            "call_id": row.call_id, "caller": row.caller, "state": live.get("state") or ("ended" if row.ended_at
                                                                                        else "connected"),
            "agent": live.get("agent") or row.agent, "started_at": row.started_at.isoformat(),
            "direction": "outbound" if row.route_mode in OUTBOUND else "inbound",
            "line": self._lines.of(row.dialled).to_json(),
            "route": {"mode": row.route_mode, "skill": skill, "skill_label": self._lines.skill_label(skill),
                      "prompt": row.route_prompt, "overflow": row.route_overflow,
                      "transferred_from": next((st["detail"].get("from_agent") for st in row.steps
                                                if st.get("step") == "transferred"), None)},
            "keys": [{"step": st["step"], "key": (st.get("detail") or {}).get("key")
                      or (st.get("detail") or {}).get("digit"), "at": st.get("at")}
                     for st in row.steps if st.get("step") in KEY_STEPS],
            "waited_ms": _waited_ms(row.steps, live, now),
            "flags": self._flags(labels, measure),
            **history,
        }

    def _flags(self, labels: list[str], measure: Mapping[str, Any] | None) -> dict[str, Any]:
        """The caller's labels (VIP, elderly, watch …) and, for a watched or warned caller, the warning."""
        kinds = sorted({label for label in labels if label})
        watch = "watch" in kinds or (measure is not None and measure.get("measure") == "warning")
        if watch and "watch" not in kinds:
            kinds.append("watch")
        return {"labels": [{"kind": k, "label": FLAGS.get(k, k)} for k in kinds], "watch": watch,
                "warning": self._words.watch_warning if watch else None, "measure": dict(measure) if measure else None}

    async def _history(self, s: AsyncSession, row: CallRecord, confidential: bool) -> dict[str, Any]:
        """The caller's earlier calls, each with its tickets; and their tickets by phone linked to none of those."""
        earlier = (await s.scalars(select(CallRecord).options(raiseload(CallRecord.recordings))
                                   .where(CallRecord.caller == row.caller,
                                                            CallRecord.call_id != row.call_id)
                                   .order_by(CallRecord.started_at.desc()).limit(HISTORY))).all()
        ids = [c.call_id for c in earlier]
        linked = (await s.execute(select(TicketCall.call_id, Ticket).join(Ticket, Ticket.id == TicketCall.ticket_id)
                                  .where(TicketCall.call_id.in_(ids)))).all() if ids else []
        by_phone = (await s.scalars(select(Ticket).where(Ticket.petitioner_phone == row.caller)
                                    .order_by(Ticket.created_at.desc()).limit(HISTORY))).all()
        per_call: dict[str, list[dict[str, Any]]] = {}
        shown: set[int] = set()
        for call_id, ticket in linked:
            per_call.setdefault(call_id, []).append(self._ticket(ticket, confidential))
            shown.add(ticket.id)
        agents = {c.agent for c in earlier if c.agent}
        rows = (await s.execute(select(DirectoryAgent.id, DirectoryAgent.name)
                                .where(DirectoryAgent.id.in_(agents)))).all() if agents else []
        names = {agent: name for agent, name in rows}
        labels = self._words.rating_labels
        calls = [{"call_id": c.call_id, "started_at": c.started_at.isoformat(), "dialled": c.dialled,
                  "agent": c.agent, "agent_name": names.get(c.agent or ""), "outcome": c.outcome,
                  "outcome_label": OUTCOMES.get(c.outcome or "", c.outcome or ""), "rating": c.rating,
                  "rating_label": labels[c.rating - 1] if c.rating and 0 < c.rating <= len(labels) else None,
                  "tickets": per_call.get(c.call_id, [])} for c in earlier]
        return {"history": calls,
                "tickets": [self._ticket(t, confidential) for t in by_phone if t.id not in shown]}

    @staticmethod
    def _ticket(t: Ticket, confidential: bool) -> dict[str, Any]:
        hidden = t.confidential and not confidential
        return {"id": t.id, "number": t.number, "status": t.status,
                "status_label": TICKET_STATUSES.get(t.status, t.status), "request_type": t.request_type,
                "title": "（保密工单）" if hidden else t.title, "confidential": t.confidential,
                "created_at": t.created_at.isoformat()}
