"""`bench acd`: both ACDs are configured from one description, and the figures are counted as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from acd.policy import RoutingPolicy
from bench.acd import _dialplan
from bench.acd_scenario import (
    SEATS,
    SKILLS,
    Arrival,
    app_queue_free_at,
    arrivals,
    eligible_after_s,
    our_free_at,
    queuerules_conf,
    queues_conf,
)
from bench.acd_watch import Caller, Leg, Seen, summarize
from dialplans.loader import load_dialplan


def _ours_after_s(policy: RoutingPolicy, skill: str, levels: dict[str, int]) -> float | None:
    """When our ACD lets a seat with `levels` take a `skill` call, read from the pools it queues with."""
    afters = [int(after) / 1000 for pool in policy.pools(skill).split(",")
              for name, min_level, after in [pool.split(":")] if levels.get(name, 0) >= int(min_level)]
    return min(afters, default=None)


def _app_queue_after_s(conf: str, rules: str, queue: str, agent: str) -> float | None:
    """When app_queue lets the member ring for a caller of `queue`: penalty 0 at once, 1 after the rule."""
    section = conf.split(f"[{queue}]\n", 1)[1].split("\n\n", 1)[0]
    member = re.search(rf"^member => PJSIP/{agent},(\d+),", section, re.M)
    if member is None:
        return None
    if member.group(1) == "0":
        return 0.0
    rule = re.search(r"^defaultrule=(\w+)$", section, re.M)
    assert rule is not None
    change = re.search(r"^penaltychange => (\d+),1$", rules.split(f"[{rule.group(1)}]\n", 1)[1], re.M)
    assert change is not None
    return float(change.group(1))


def test_ours_and_app_queue_let_the_same_seats_take_each_skill_after_the_same_wait(tmp_path: Path) -> None:
    plan = load_dialplan(_dialplan(tmp_path))
    assert {a.id: dict(a.skills) for a in plan.agents} == {s.agent: s.skills for s in SEATS}
    policy = RoutingPolicy(plan.skills)
    conf, rules = queues_conf(15), queuerules_conf()
    assert "weight=" not in conf and "ringinuse=no" in conf and "wrapuptime=3" in conf
    for skill in SKILLS:
        for seat in SEATS:
            expected = eligible_after_s(skill.skill, seat.agent)
            assert _ours_after_s(policy, skill.skill, seat.skills) == expected, (skill.skill, seat.agent)
            assert _app_queue_after_s(conf, rules, skill.queue, seat.agent) == expected, (skill.skill, seat.agent)
    assert eligible_after_s("general", "8005") == 10 and eligible_after_s("social_security", "8001") == 20
    assert eligible_after_s("medical_insurance", "8003") is None


def test_both_sides_wrap_up_as_long_on_average() -> None:
    # app_queue's wrapuptime=3 compares whole seconds: a seat is free again 2 to 3 s after its call
    assert [app_queue_free_at(10 + f) - (10 + f) for f in (0.0, 0.5, 0.99)] == pytest.approx([3, 2.5, 2.01])
    assert our_free_at(10) == 12.5


def test_the_arrivals_are_the_same_for_a_seed_and_within_their_bounds() -> None:
    first = arrivals(7, 0.4, 120)
    assert first == arrivals(7, 0.4, 120) and first != arrivals(8, 0.4, 120)
    assert all(0 <= a.at_s < 120 and 3 <= a.talk_s <= 20 and 8 <= a.patience_s <= 90 for a in first)
    assert {a.skill for a in first} == {p.skill for p in SKILLS}


def _caller(seen: Seen, number: str, skill: str, entered: float, *, answered: float | None = None,
            agent: str | None = None, abandoned: float | None = None) -> None:
    seen.callers[number] = Caller(number, Arrival(0, skill, 5, 30), world_channel=f"PJSIP/{number}",
                                  reached=entered - 4, entered=entered, answered=answered, agent=agent,
                                  abandoned=abandoned)


def test_figures_count_every_queued_caller_and_free_to_offer_only_when_a_caller_already_waited() -> None:
    seen = Seen()
    _caller(seen, "a", "general", 0, answered=1, agent="8001")
    _caller(seen, "b", "general", 2, answered=14.25, agent="8001")  # waited while 8001 talked to a
    _caller(seen, "c", "social_security", 3, abandoned=13)
    _caller(seen, "d", "general", 20, answered=40, agent="8005")  # an expert, widened to after 10 s
    seen.legs = {
        "1": Leg("8001", "a", rang=0, answered=1, talked=True, ended=10),  # free at 13 after 3 s wrap-up
        "2": Leg("8001", "b", rang=13.25, answered=14.25, talked=True, ended=30),
        "3": Leg("8005", "x", rang=5, answered=6, talked=False, ended=25),  # not answered: free at 25
        "4": Leg("8005", "d", rang=39, answered=40, talked=True, ended=50),  # d allowed to 8005 only at 30
    }
    figures = summarize(seen, lambda ended: ended + 3)
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (4, 3, 1)
    assert figures["sl_15s"] == 0.5 and figures["abandon_rate"] == 0.25
    assert figures["wait_avg_s"] == pytest.approx((1 + 12.25 + 10 + 20) / 4, abs=0.01)
    assert figures["answered_wait_avg_s"] == pytest.approx((1 + 12.25 + 20) / 3, abs=0.01)
    assert figures["free_to_offer_samples"] == 1 and figures["free_to_offer_p99_ms"] == 250
    assert figures["answered_by_widened_seat"] == 1 and figures["pre_queue_avg_s"] == 4
    assert figures["per_skill"]["social_security"]["abandon_rate"] == 1.0
    assert not seen.busy() and seen.waiting() == 0
