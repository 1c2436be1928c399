"""Routing policy as data: which agents may take a skill's calls, and after how long (widening).

A call carries its pools as `skill:min_level:after_ms` entries; the reservation script offers it to
the longest-idle ready agent of any pool it has waited long enough for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dialplans.model import Skill

log = logging.getLogger(__name__)

FALLBACK_SKILL = "general"


@dataclass(frozen=True)
class Pool:
    skill: str
    min_level: int
    after_ms: int

    def encode(self) -> str:
        return f"{self.skill}:{self.min_level}:{self.after_ms}"


class RoutingPolicy:
    """Pools per skill from the dialplan file; an unknown skill routes as the general one (never stranded)."""

    def __init__(self, skills: tuple[Skill, ...]) -> None:
        self._pools = {
            s.id: (Pool(s.id, s.min_level, 0), *(Pool(w.to, w.min_level, w.after_s * 1000) for w in s.widen))
            for s in skills
        }

    def knows(self, skill: str) -> bool:
        return skill in self._pools

    def route_skill(self, skill: str) -> str:
        """The skill a call queues under: itself if known, else the general skill."""
        if skill in self._pools:
            return skill
        log.warning("unknown skill %r: the call is routed as %s", skill, FALLBACK_SKILL)
        return FALLBACK_SKILL if FALLBACK_SKILL in self._pools else next(iter(self._pools), skill)

    def pools(self, skill: str) -> str:
        """Encoded pools for a skill's calls."""
        return ",".join(p.encode() for p in self._pools.get(skill, (Pool(skill, 1, 0),)))
