"""`python -m bench acd`: our ACD against Asterisk's app_queue — the same callers on the same Asterisk pair
and the same agents' phones, one side after the other, in one run.

The scenario (bench/acd_scenario.py): 8 seats, three skills that overlap (experts may take general calls
after 10 s, senior general seats expert calls after 20 s, one expert holds two expert skills), a seeded
Poisson arrival list with talk times and patience, offering about as much work as the eight seats can do
(more than the general seats alone can). app_queue is configured the usual way from the same description
(one queue per skill, penalties, `penaltychange` rules) and its callers enter Queue() straight from the
carrier; ours dial the skill's number and queue after the greeting. Both sides' waits are counted from
queue entry (bench/acd_watch.py), and a caller whose patience runs out first hangs up. app_queue runs
first, so the recording worker transcoding our calls only ever loads our own side.

Then ours once more with one seat short: the same arrivals (same seed) with 7 seats against app_queue's 8
(the weakest general seat, `SHORT_SEAT`, stays paused): `ours_one_seat_short_sl_15s` beside `ours.sl_15s` and
`app_queue.sl_15s` (the aim: app_queue's service level with a seat fewer), the whole side in `ours_one_seat_short`.

Each side: `sl_15s` (answered within 15 s of queue entry / entered the queue), `wait_avg_s` and
`wait_p95_s` (every queued caller's time in the queue, until answered or until they gave up;
`answered_wait_*` over answered callers only), `abandon_rate`, `free_to_offer_p99_ms` (an agent becomes
free while a caller they may take waits → that caller's offer rings on the phone), per-skill figures.
`BENCH_ACD_DURATION_S` (default 120: 48 callers a side) sizes the arrivals.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acd.settings import AcdSettings
from bench.acd_scenario import (
    APP_QUEUE_WRAP_UP_S,
    OUR_WRAP_UP_S,
    PLANS,
    SEATS,
    SKILLS,
    Arrival,
    agents_yaml,
    app_queue_context,
    app_queue_free_at,
    arrivals,
    our_free_at,
    queuerules_conf,
    queues_conf,
    replace_section,
    skills_yaml,
)
from bench.acd_watch import Caller, Seen, Watch, summarize
from bench.common import progress, publish
from bench.headlines import Headline
from bench.loopback import loopback_stack
from dialplans.loader import load_dialplan
from dialplans.render import render
from hotline.app.settings import Settings
from hotline.app.stack import Stack
from hotline.core.asterisk.ami import AmiClient, AmiError

SEED = 12345
RATE_PER_S = 0.4
DURATION_S = float(os.environ.get("BENCH_ACD_DURATION_S", "120"))
RING_TIMEOUT_S = 15.0
DRAIN_S = 150.0  # after the last arrival, for every caller to be answered or give up
SCRATCH = "bench-acd"
SHORT_SEAT = "8004"  # the one-seat-short side: the lowest-level general seat stays paused

HEADLINES = (
    Headline("ours.sl_15s", baseline="app_queue.sl_15s", target=">= baseline"),
    Headline("ours_one_seat_short_sl_15s", baseline="app_queue.sl_15s", target=">= baseline"),
    Headline("ours.wait_avg_s", baseline="app_queue.wait_avg_s", target="<= baseline"),
    Headline("ours.abandon_rate", baseline="app_queue.abandon_rate", target="<= baseline"),
)
ALL_ENV = {"BENCH_ACD_DURATION_S": "90"}  # 36 callers a side instead of 48
BUDGET_S = 900


def _dialplan(home: Path) -> Path:
    """The shipped dialplan file with the scenario's skills policy and seats."""
    shipped = Settings().core.dialplan_file
    text = replace_section(shipped.read_text(), "skills", skills_yaml(load_dialplan(shipped).skills))
    path = home / "bench-acd.yaml"
    path.write_text(replace_section(text, "agents", agents_yaml()))
    return path


async def run() -> dict[str, Any]:
    plan = arrivals(SEED, RATE_PER_S, DURATION_S)
    timing = AcdSettings(wrap_up_s=OUR_WRAP_UP_S, ring_timeout_s=RING_TIMEOUT_S)
    async with loopback_stack("acd", _dialplan, acd=timing) as stack:
        app_queue, ours, short = await _compare(stack, plan)
    return publish("acd", {
        "ours": ours,
        "app_queue": app_queue,
        "ours_one_seat_short": short,
        "ours_one_seat_short_sl_15s": short["sl_15s"],
        "one_seat_short": {"seats": len(SEATS) - 1, "paused_seat": SHORT_SEAT,
                           "meets_app_queue_sl_15s": short["sl_15s"] >= app_queue["sl_15s"]},
        "ours_ahead": {"sl_15s": ours["sl_15s"] > app_queue["sl_15s"],
                       "wait_avg_s": ours["wait_avg_s"] < app_queue["wait_avg_s"]},
        "scenario": {
            "seed": SEED, "callers": len(plan), "arrivals_per_s": RATE_PER_S, "arrivals_for_s": DURATION_S,
            "seats": {s.agent: s.skills for s in SEATS},
            "skills": {p.skill: {"share": p.share, "min_level": p.min_level,
                                 "widen": f"after {p.widen_after_s} s to {p.widen_to} level >= {p.widen_min_level}"}
                       for p in SKILLS},
            "talk_s": "drawn 3-20 s (mean ~6) after the phone's 5.5 s opening words",
            "patience_s": "exponential, mean 45 s, 8-90 s, counted from queue entry",
            "wrap_up_s": {"ours": OUR_WRAP_UP_S,
                          "app_queue": f"wrapuptime={APP_QUEUE_WRAP_UP_S}, counted in whole seconds: free 2-3 s "
                                       "after a call, 2.5 s on average"},
            "ring_timeout_s": RING_TIMEOUT_S,
            "app_queue": "one queue per skill, own seats penalty 0, widened seats penalty 1, QUEUE_MAX_PENALTY=0 "
                         "and penaltychange to 1 after the widening wait, leastrecent, ringinuse=no, autofill, "
                         "shared_lastcall, retry=5 and weight=0 (defaults; weight=1 on the expert queues served "
                         "it worse)",
            "wait": "wait_*: every queued caller's time in the queue, until answered or until they gave up; "
                    "answered_wait_*: answered callers only",
            "wait_counted_from": "queue entry: app_queue QueueCallerJoin; ours the ACD's queued event (after "
                                 "the greeting, see pre_queue_avg_s)",
        },
        "baseline": "app_queue on the same Asterisk, phones and arrivals, same run",
    })


async def _compare(stack: Stack, plan: list[Arrival]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    assert stack.data is not None and stack.acd is not None
    await _install_app_queue(stack, stack.data.inner_of(f"{SCRATCH}/app_queue"))
    for agent in await stack.acd.agents():
        await stack.acd.set_agent_state(agent, "paused", reason="bench: app_queue's turn")
    progress(f"app_queue: {len(plan)} callers over {DURATION_S:.0f} s")
    app_queue = await _side(stack, "app_queue", plan, lambda a: PLANS[a.skill].queue, "1390001",
                            app_queue_free_at)
    for seat in SEATS:
        await stack.acd.set_agent_state(seat.agent, "ready", reason="bench: our turn")
    progress(f"ours: the same {len(plan)} callers")
    ours = await _side(stack, "ours", plan, lambda a: PLANS[a.skill].number, "1390002", our_free_at)
    await stack.acd.set_agent_state(SHORT_SEAT, "paused", reason="bench: one seat short")
    progress(f"ours one seat short ({len(SEATS) - 1} seats, {SHORT_SEAT} paused): the same {len(plan)} callers")
    short = await _side(stack, "ours-short", plan, lambda a: PLANS[a.skill].number, "1390003", our_free_at,
                        seats=frozenset(s.agent for s in SEATS if s.agent != SHORT_SEAT))
    return app_queue, ours, short


async def _install_app_queue(stack: Stack, recordings: str) -> None:
    """queues.conf, queuerules.conf and the bench context added to the running hotline Asterisk."""
    assert stack.hotline is not None and stack.dialplan is not None and stack.render_context is not None
    extensions = render(stack.dialplan, stack.render_context)["extensions.conf"] + app_queue_context(recordings)
    stack.hotline.write_configs({"extensions.conf": extensions, "queuerules.conf": queuerules_conf(),
                                 "queues.conf": queues_conf(RING_TIMEOUT_S)})
    await stack.hotline.cli("dialplan reload")
    await stack.hotline.cli("module reload app_queue.so")
    shown = await stack.hotline.cli("queue show")
    missing = [p.queue for p in SKILLS if f"{p.queue} has" not in shown]
    if missing:
        raise RuntimeError(f"app_queue did not load queues {missing}:\n{shown}")


async def _side(stack: Stack, name: str, plan: list[Arrival], dial: Callable[[Arrival], str], prefix: str,
                free_at: Callable[[float], float], seats: frozenset[str] | None = None) -> dict[str, Any]:
    """Play the arrivals against one side (all SEATS unless `seats` says) and return its figures."""
    assert stack.world_ami is not None and stack.ami is not None and stack.acd is not None
    assert stack.data is not None
    world = stack.world_ami
    watch = Watch(world, stack.ami, stack.acd, seats or frozenset(s.agent for s in SEATS))
    watch.start()
    heard = stack.data.inner_of(f"{SCRATCH}/heard-{name}")
    citizens: list[asyncio.Task[None]] = []
    reported = time.time()

    def report(stage: str, every_s: float = 20) -> None:
        nonlocal reported
        if time.time() - reported >= every_s:
            reported = time.time()
            progress(f"{name}: {stage}{_state(watch.seen)}")

    try:
        started = time.time()
        for i, arrival in enumerate(plan):
            await asyncio.sleep(max(0.0, started + arrival.at_s - time.time()))
            caller = watch.expect(f"{prefix}{i:04d}", arrival)
            citizens.append(asyncio.create_task(_citizen(world, dial(arrival), caller, f"{heard}/{caller.number}.wav")))
            report("")
        deadline = time.time() + DRAIN_S
        while time.time() < deadline and (watch.seen.waiting() or watch.seen.busy()):
            await asyncio.sleep(1)
            report("draining, ")
        report("done, ", every_s=0)
        await _hang_up_all(world, watch.seen, citizens)
        await asyncio.sleep(APP_QUEUE_WRAP_UP_S + 1)  # the last agents through wrap-up before the other side starts
    finally:
        await watch.close()
        for task in citizens:
            task.cancel()
    return summarize(watch.seen, free_at)


async def _citizen(world: AmiClient, dial: str, caller: Caller, heard: str) -> None:
    """A citizen calls through the carrier and stays on the line until the hotline or the bench hangs up;
    a call that cannot be placed shows in the figures as `not_queued`."""
    try:
        origination = await world.originate(
            f"PJSIP/{dial}@hotline", context="world-caller", exten="s", timeout_s=30,
            caller_id=f'"{caller.number}" <{caller.number}>',
            variables={"WORLD_HEARD": heard, "WORLD_SCRIPT": "wait:300"})
        result = await origination.result(timeout=40)
        if result.answered:
            caller.world_channel, caller.reached = result.channel, time.time()
            await origination.hangup(timeout=600)
    except (AmiError, TimeoutError) as exc:
        progress(f"caller {caller.number} ({dial}) failed: {exc}")


def _state(seen: Seen) -> str:
    callers = seen.callers.values()
    return (f"{len(callers)} called, {seen.waiting()} waiting, {sum(1 for c in callers if c.answered)} answered, "
            f"{sum(1 for c in callers if c.abandoned)} gave up")


async def _hang_up_all(world: AmiClient, seen: Seen, citizens: list[asyncio.Task[None]]) -> None:
    """End what is left of the side's calls (callers rating the call, or stuck), so the next side starts clean."""
    for caller in seen.callers.values():
        if caller.world_channel:
            with contextlib.suppress(AmiError):  # already gone
                await world.action("Hangup", {"Channel": caller.world_channel})
    if citizens:
        await asyncio.wait(citizens, timeout=10)
