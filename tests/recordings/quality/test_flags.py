"""Why a call is flagged: dead air, talk-over, a short answer by the agent, the two worst ratings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dialplans.model import RATING_LABELS
from hotline.calls.models import CallRecord
from recordings.quality.flags import FlagRules, flags_of, talk_seconds
from recordings.settings import RecordingSettings

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
RULES = FlagRules.of(RecordingSettings(), RATING_LABELS)


def call(*steps: tuple[str, float], ended_s: float | None = 120, rating: int | None = None) -> CallRecord:
    return CallRecord(call_id="c", caller="1", dialled="12345", started_at=T0, agent="8001", rating=rating,
                      ended_at=None if ended_s is None else T0 + timedelta(seconds=ended_s),
                      steps=[{"at": (T0 + timedelta(seconds=s)).isoformat(), "step": n, "detail": {}}
                             for n, s in steps])


def analysis(silence: float = 2.0, over: float | None = 1.0) -> dict[str, Any]:
    return {"longest_silence_s": silence, "talk_over_s": over}


def test_the_two_worst_rating_levels_of_the_dialplan_are_bad() -> None:
    assert RATING_LABELS[3:] == ("不满意", "非常不满意") and RULES.bad_ratings == {4, 5}
    for rating, flagged in ((1, False), (3, False), (4, True), (5, True)):
        assert ("bad_rating" in flags_of(call(("agent", 5), rating=rating), analysis(), RULES)) is flagged


def test_thresholds_of_the_settings_decide_silence_and_talk_over() -> None:
    rules = FlagRules(silence_s=30, talk_over_s=10, short_s=30, bad_ratings=frozenset({4, 5}))
    long_call = call(("agent", 5))
    assert flags_of(long_call, analysis(silence=29.9, over=9.9), rules) == []
    assert flags_of(long_call, analysis(silence=30, over=10), rules) == ["silence", "talk_over"]
    assert flags_of(long_call, analysis(over=None), rules) == []  # a mixed-only recording: no talk-over figure
    assert flags_of(long_call, None, rules) == []  # not analysed yet


def test_a_short_call_is_the_agents_part_under_the_threshold() -> None:
    # the agent's part ends at the rating prompt (the agent hung up), not when the caller finished rating
    rated = call(("greeting", 0), ("agent", 10), ("rating_prompt", 22), ended_s=40)
    assert talk_seconds(rated) == 12 and "short" in flags_of(rated, analysis(), RULES)
    long_talk = call(("agent", 10), ended_s=100)  # the caller hung up on the agent after 90 s
    assert talk_seconds(long_talk) == 90 and "short" not in flags_of(long_talk, analysis(), RULES)
    assert talk_seconds(call(("greeting", 0), ended_s=8)) is None  # no agent: not an agent's short call
    assert talk_seconds(call(("agent", 10), ended_s=None)) is None  # still going
    callback = call(("agent_answered", 1), ("citizen_answered", 12), ended_s=20)  # a callback reached the citizen
    assert talk_seconds(callback) == 8
