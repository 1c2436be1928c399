"""Why a recorded call deserves a reviewer's ear: dead air, talk-over, a short answer, a bad rating.

The thresholds are the recordings' settings (`HOTLINE_QUALITY_*`); the bad ratings are the two worst levels
of the dialplan's rating labels (the keypad's order is best first: 1 非常满意 … 5 非常不满意).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.calls.models import CallRecord
from recordings.settings import RecordingSettings

FLAGS = ("silence", "talk_over", "short", "bad_rating")
TALK_STARTS = frozenset({"agent", "citizen_answered"})  # an agent took the call; a callback reached the citizen
# the agent's part of the call ends at the first of these (else when the call ends)
TALK_ENDS = frozenset({"rating_prompt", "agent_left", "transferred", "requeued", "linkage", "consult_completed"})


@dataclass(frozen=True)
class FlagRules:
    silence_s: float
    talk_over_s: float
    short_s: float
    bad_ratings: frozenset[int]

    @classmethod
    def of(cls, settings: RecordingSettings, rating_labels: Sequence[str]) -> FlagRules:
        n = len(rating_labels)
        return cls(settings.quality_silence_s, settings.quality_talk_over_s, settings.quality_short_s,
                   frozenset({n - 1, n}) if n >= 2 else frozenset())


def talk_seconds(call: CallRecord) -> float | None:
    """How long the agent was on the call (from the step that connected them to the one that ended their part,
    or the call's end); None when no agent was connected or the call is not over."""
    started: datetime | None = None
    for step in call.steps:
        at = datetime.fromisoformat(step["at"])
        if started is None and step["step"] in TALK_STARTS:
            started = at
        elif started is not None and step["step"] in TALK_ENDS:
            return max(0.0, (at - started).total_seconds())
    if started is None or call.ended_at is None:
        return None
    return max(0.0, (call.ended_at - started).total_seconds())


def flags_of(call: CallRecord, analysis: dict[str, Any] | None, rules: FlagRules) -> list[str]:
    """The call's flags, in the order of FLAGS."""
    found: list[str] = []
    a = analysis or {}
    if (a.get("longest_silence_s") or 0) >= rules.silence_s:
        found.append("silence")
    if (a.get("talk_over_s") or 0) >= rules.talk_over_s:
        found.append("talk_over")
    talk = talk_seconds(call)
    if talk is not None and talk < rules.short_s:
        found.append("short")
    if call.rating in rules.bad_ratings:
        found.append("bad_rating")
    return found
