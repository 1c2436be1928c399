"""Where an agent may send a caller: skills by seat type (blind transfer), expert and sub-centre seats by name
(consult, three-way), handling units' duty numbers, and the one-key linkage numbers (R-ACC-5, R-ACD-3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acd.directory.service import AgentEntry
from desk.lines import SEATS
from dialplans.model import LINKAGE_NUMBERS, Dialplan

LINKAGE_LABELS = {"110": "公安 110", "119": "消防 119", "120": "急救 120", "122": "交警 122"}


def transfer_targets(plan: Dialplan, agents: Sequence[AgentEntry], *, me: str | None = None) -> dict[str, Any]:
    """What the call-control panel offers: the expert and sub-centre seats among `agents` (the directory's active
    ones), but not `me` (the agent asking)."""
    departments = {n.skill: n.department for n in plan.numbers if n.department and n.skill}
    return {
        "skills": [{"id": s.id, "label": s.label, "seat": s.seat, "seat_label": SEATS.get(s.seat, s.seat),
                    "department": departments.get(s.id, "")} for s in plan.skills if s.id != plan.revisit.skill],
        "seats": [{"agent": a.id, "name": a.name, "seat": a.seat, "seat_label": SEATS.get(a.seat, a.seat),
                   "skills": list(a.skills)} for a in agents if a.id != me and a.seat != "general"],
        "units": [{"name": u.name, "number": u.duty_number} for u in plan.units],
        "linkage": [{"number": n, "label": LINKAGE_LABELS.get(n, n)} for n in LINKAGE_NUMBERS],
    }
