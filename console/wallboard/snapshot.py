"""One wallboard snapshot: the live queue and agents from the ACD's Redis state, the figures from the stored
call records (`console.wallboard.stored`), and the alerts they raise (`console.wallboard.alerts`).

Lines are the dialplan's inbound numbers (and any other number a caller waits on); a waiting caller's line is
the `dialled` of their call record. `longest_wait_s` is the longest current wait. An agent's `caller_wait_s` is
how long their caller waited before the agent answered (while ringing: how long they have waited so far).
A team supervisor sees their team's agents, their states and the alerts about them; the queue, the figures and
the backlogs are the centre's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from acd.store import now_ms
from console.settings import WallboardSettings
from console.wallboard.alerts import agent_alerts, backlog_alerts, health_alerts, ordered, queue_alerts
from console.wallboard.figures import Figures, Tally
from console.wallboard.live import LiveQueue
from console.wallboard.stored import Stored, StoredFigures
from dialplans.model import Dialplan
from hotline.core.web.health import PartHealth
from hotline.core.web.policy import Teams

STATES = ("ready", "offered", "on_call", "wrap_up", "paused", "signed_out")
TALKING = ("offered", "on_call", "wrap_up")


@dataclass(frozen=True)
class Waiting:
    """A caller waiting now."""

    call_id: str
    skill: str
    entered_ms: int


class Wallboard:
    """Builds snapshots for whoever asks; see the module's docstring."""

    def __init__(self, live: LiveQueue, stored: StoredFigures, dialplan: Dialplan, settings: WallboardSettings) -> None:
        self.live, self.stored, self.settings = live, stored, settings
        self._numbers = {n.number: n for n in dialplan.numbers}
        self._centre = dialplan.centre
        self._skills = {s.id: s.label for s in dialplan.skills}
        self.supervisor_phones = [{"phone": s.id, "name": s.name} for s in dialplan.supervisors]

    async def waiting(self) -> list[Waiting]:
        """Every caller waiting now, in routing order."""
        return [Waiting(h["call_id"], h.get("skill", ""), int(h.get("entered") or now_ms()))
                for h in await self.live.waiting() if h.get("state", "waiting") == "waiting"]

    async def snapshot(self, reach: frozenset[str] | None, teams: Teams,
                       health: Mapping[str, PartHealth]) -> dict[str, Any]:
        """The board for a viewer reaching `reach` (None: every agent)."""
        stored = await self.stored.get()
        waiting = await self.waiting()
        lines_of = await self.stored.lines_of([w.call_id for w in waiting])
        now = now_ms()
        agents = await self._agents(reach, teams, stored, now)
        lines = self._queue_rows("line", self._line_keys(lines_of.values()), stored,
                                 [(lines_of.get(w.call_id, ""), w) for w in waiting], now)
        skills = self._queue_rows("skill", list(self._skills), stored, [(w.skill, w) for w in waiting], now)
        counted = Counter(a["state"] for a in agents)
        s = self.settings
        alerts = [*queue_alerts(lines, "line", s), *queue_alerts(skills, "skill", s), *agent_alerts(agents, s),
                  *backlog_alerts(stored.recordings, stored.outbox, s), *health_alerts(health)]
        return {
            "at": datetime.fromtimestamp(now / 1000, UTC).isoformat(), "figures_at": stored.at.isoformat(),
            "lines": lines, "skills": skills, "agents": agents,
            "states": {state: counted.get(state, 0) for state in STATES},
            "waiting": len(waiting), "callbacks": stored.callbacks, "revisits": stored.revisits,
            "alerts": [a.to_json() for a in ordered(alerts)],
            "backlog": {"recordings": stored.recordings, "case_outbox": stored.outbox},
            "thresholds": {"sl_target": self.settings.sl_target, "wait_alert_s": self.settings.wait_alert_s,
                           "pause_alert_s": self.settings.pause_alert_s},
            "supervisor_phones": self.supervisor_phones,
        }

    def _line_keys(self, seen: Collection[str]) -> list[str]:
        """The dialplan's inbound numbers, main number first, then any other number callers wait on."""
        main = self._centre.main_number
        known = sorted(self._numbers, key=lambda n: (n != main, n))
        return known + sorted({s for s in seen if s and s not in self._numbers})

    def _name(self, kind: str, key: str) -> str:
        if kind == "skill":
            return self._skills.get(key, key)
        number = self._numbers.get(key)
        if key == self._centre.main_number:
            return self._centre.name
        return (number.department if number is not None else "") or key

    def _queue_rows(self, kind: str, keys: list[str], stored: Stored, waiting: list[tuple[str, Waiting]],
                    now: int) -> list[dict[str, Any]]:
        """One row per line or skill: the callers waiting now and the stored figures."""
        by_key: dict[str, list[Waiting]] = {}
        for of, w in waiting:
            by_key.setdefault(of, []).append(w)
        rows = []
        for key in keys:
            here = by_key.get(key, [])
            today, recent = _of(stored.today, kind, key), _of(stored.last_30min, kind, key)
            rows.append({
                kind: key, "name": self._name(kind, key), "waiting": len(here),
                "longest_wait_s": round(max(((now - w.entered_ms) / 1000 for w in here), default=0.0), 1),
                "sl_15s_today": today.sl_15s, "sl_15s_30min": recent.sl_15s,
                "abandoned_today": today.abandoned, "offered_today": today.offered, "answered_today": today.answered,
                "answered_15s_today": today.answered_15s, "offered_30min": recent.offered,
                "answered_15s_30min": recent.answered_15s, "decided_30min": recent.offered - recent.undecided,
            })
        return rows

    async def _agents(self, reach: frozenset[str] | None, teams: Teams, stored: Stored,
                      now: int) -> list[dict[str, Any]]:
        everyone = await self.live.agents()
        shown = {a: h for a, h in everyone.items() if reach is None or a in reach}
        calls = {a: h["call"] for a, h in shown.items() if h.get("call") and h.get("state") in TALKING}
        entered = {c: h.get("entered") for c, h in (await self.live.calls(set(calls.values()))).items()}
        out = []
        for agent, h in sorted(shown.items()):
            state, since = h.get("state", "signed_out"), int(h.get("since") or now)
            call = calls.get(agent)
            came = entered.get(call) if call and state in ("offered", "on_call") else None
            answered_at = now if state == "offered" else since
            out.append({
                "agent": agent, "name": stored.names.get(agent, ""), "team": teams.of(agent), "state": state,
                "since_s": round(max(0, now - since) / 1000, 1), "reason": h.get("reason", ""),
                "call_id": call, "caller_wait_s": round(max(0, answered_at - int(came)) / 1000, 1) if came else None,
                "skills": [s for s in h.get("skills", "").split(",") if s],
            })
        return out


def _of(figures: Figures, kind: str, key: str) -> Tally:
    return (figures.lines if kind == "line" else figures.skills).get(key, Tally())
