"""The expected wait a queued caller is told (R-ACC-9): from the answered waits of the last half hour and the
agents able to take the caller now — a fixed history for the formula, a scripted queue on a real redis-server."""

from __future__ import annotations

from acd.store import AcdStore, now_ms
from acd.waits import WINDOW_S, AnsweredWait, able_agents, expected_wait_s, pace_s, pool_skills
from ivr.flows.position import expand_position_prompts, wait_prompt
from tests.acd.test_routing import POLICY, enqueue

NOW = 10_000_000_000
MIN = 60_000


def answered(minutes_ago: float, waited_s: float, places: int = 1, agents: int = 1) -> AnsweredWait:
    return AnsweredWait(NOW - int(minutes_ago * MIN), int(waited_s * 1000), places, agents)


def test_the_pace_is_the_mean_time_per_place_per_agent_of_the_last_half_hour() -> None:
    history = [answered(2, 120), answered(10, 360, places=3), answered(20, 90, places=2, agents=4),
               answered(31, 5), answered(300, 5)]  # the last two are older than the window
    assert pace_s(history, NOW) == (120 + 120 + 180) / 3
    assert pace_s([answered(31, 5)], NOW) is None, "nothing answered lately: nothing is promised"
    assert pace_s([answered(0, 60), answered(-1, 999)], NOW) == 60, "a sample from the future is not counted"


def test_the_wait_grows_with_the_place_in_line_and_shrinks_with_the_agents_now() -> None:
    history = [answered(1, 100), answered(29, 300)]  # 200 s per place for one agent
    assert expected_wait_s(history, ahead=0, agents_now=1, now_ms=NOW) == 200
    assert expected_wait_s(history, ahead=3, agents_now=1, now_ms=NOW) == 800
    assert expected_wait_s(history, ahead=3, agents_now=4, now_ms=NOW) == 200
    assert expected_wait_s(history, ahead=3, agents_now=0, now_ms=NOW) == 800, "nobody now: the window's staffing"
    assert expected_wait_s(history, ahead=3, agents_now=1, now_ms=NOW + WINDOW_S * 1000) is None


def test_widened_pools_count_their_agents_at_their_level_and_paused_agents_do_not() -> None:
    pools = pool_skills(POLICY.pools("social_security"))
    assert pools == {"social_security": 2, "general": 3}
    agents = [{"state": "ready", "lvl:social_security": "2"}, {"state": "on_call", "lvl:general": "3"},
              {"state": "wrap_up", "lvl:general": "2"}, {"state": "paused", "lvl:social_security": "5"},
              {"state": "signed_out", "lvl:general": "5"}, {"state": "offered", "lvl:social_security": "1"}]
    assert able_agents(agents, pools) == 2


async def test_a_scripted_queue_is_told_the_pace_its_answered_callers_set(store: AcdStore) -> None:
    await store.add_agent("8001", {"general": 3})
    await store.add_agent("8002", {"general": 3})
    await store.set_agent_state("8001", "ready")
    await store.set_agent_state("8002", "paused")
    for call in ("a", "b", "c", "d"):
        await enqueue(store, call, "general")
    assert await store.expected_wait_s("d") is None, "nothing answered yet: nothing is promised"
    await store.talked("general", 6_000_000)  # the day's talk times no longer count
    assert await store.expected_wait_s("d") is None

    reservation = await store.reserve()
    assert reservation is not None and reservation.call_id == "a"
    assert await store.connected(reservation)  # answered at once: a sample of (almost) no wait, 1 place, 1 agent
    [first] = await store.answered_waits("general")
    assert (first.places, first.agents) == (1, 1) and first.waited_ms < 5_000
    assert (await store.call("c"))["places"] == "3"

    at = now_ms()
    await store.redis.delete("acd:answered:general")
    await store.note_answered_wait("old", AnsweredWait(at - 40 * MIN, 10_000, 1, 1), "general")
    await store.note_answered_wait("x", AnsweredWait(at - 5 * MIN, 240_000, 2, 1), "general")  # 120 s a place
    await store.note_answered_wait("y", AnsweredWait(at - 1 * MIN, 180_000, 1, 1), "general")  # 180 s a place
    assert [w.waited_ms for w in await store.answered_waits("general", at)] == [240_000, 180_000], "old dropped"
    # b, c, d wait; 8001 is talking to a (able), 8002 paused: (2 ahead of d + 1) × 150 s ÷ 1
    assert await store.expected_wait_s("d", now=at) == 450
    await store.set_agent_state("8002", "ready")
    assert await store.expected_wait_s("d", now=at) == 225, "a second agent ready halves it"
    assert await store.expected_wait_s("b", now=at) == 75
    assert await store.expected_wait_s("a", now=at) is None, "no longer waiting"
    assert await store.expected_wait_s("nobody") is None


def test_the_prompt_says_whole_minutes_up_to_nine_then_long() -> None:
    assert wait_prompt(None) is None and wait_prompt(59) is None
    assert wait_prompt(61) == "queue_wait_2" and wait_prompt(540) == "queue_wait_9"
    assert wait_prompt(541) == "queue_wait_long"
    expanded = expand_position_prompts({"queue_wait": "预计还需等待约{m}分钟。"})
    assert expanded["queue_wait_2"] == "预计还需等待约两分钟。" and "queue_wait" not in expanded
