"""The revisit dialer's inbound pressure on a real redis-server: callers waiting now, and the service level of
the last minutes' inbound callers (the robot's own hand-offs left out)."""

from __future__ import annotations

import time

from acd.store import AcdStore, today
from callback.pressure import InboundPressure, Pressure
from dialplans.model import RevisitSettings, ServiceLevelYield

SETTINGS = RevisitSettings(service_level=ServiceLevelYield(below=0.8, window_s=900, min_offered=5))


class Clock:
    def __init__(self) -> None:
        self.at = time.time()

    def __call__(self) -> float:
        return self.at


async def queued(store: AcdStore, call: str, skill: str = "general") -> None:
    await store.enqueue(call, channel=f"PJSIP/c-{call}", skill=skill, caller="13800000000")


async def answered(store: AcdStore, call: str) -> None:
    """A caller answered at once by agent 8001, then hanging up."""
    await queued(store, call)
    await store.set_agent_state("8001", "ready")
    reservation = await store.reserve()
    assert reservation is not None and reservation.call_id == call
    assert await store.connected(reservation)
    await store.forget_call(call)


async def abandoned(store: AcdStore, call: str, skill: str = "general") -> None:
    await queued(store, call, skill)
    await store.forget_call(call)


async def test_the_service_level_of_the_last_minutes_holds_the_dialer_back(store: AcdStore) -> None:
    await store.add_agent("8001", {"general": 3})
    clock = Clock()
    pressure = InboundPressure(store, SETTINGS, clock)
    assert await pressure() == Pressure(), "the window starts with the dialer"
    for i in range(4):
        await answered(store, f"in-{i}")
    await abandoned(store, "gave-up")
    for i in range(3):
        await abandoned(store, f"robot-{i}", skill="revisit")  # petitioners handed to a person: the robot's own
    clock.at += 1
    now = await pressure()
    assert (now.offered, now.answered_in_time, now.service_level) == (5, 4, 0.8)
    assert now.holds_back(SETTINGS) is None, "80 % answered within 15 s is enough"

    await queued(store, "waiting")
    await queued(store, "robot-waiting", skill="revisit")
    clock.at += 1
    now = await pressure()
    assert (now.waiting, now.offered) == (1, 5), "a caller waiting less than 15 s has not missed yet"
    assert now.holds_back(SETTINGS) == "callers_waiting"
    clock.at += 15
    await store.forget_call("waiting")
    now = await pressure()
    assert (now.waiting, now.offered, now.answered_in_time) == (0, 6, 4)
    assert now.holds_back(SETTINGS) == "service_level"

    for _ in range(180):  # the dialer reads it all along; fifteen minutes later those callers left the window
        clock.at += 5
        await pressure()
    await answered(store, "later")
    clock.at += 1
    now = await pressure()
    assert (now.offered, now.answered_in_time) == (1, 1) and now.holds_back(SETTINGS) is None


async def test_a_new_day_starts_a_new_window_and_0_never_looks(store: AcdStore) -> None:
    clock, day = Clock(), [today()]
    pressure = InboundPressure(store, SETTINGS, clock, day=lambda: day[0])
    unwatched = InboundPressure(store, RevisitSettings(service_level=ServiceLevelYield(below=0)), clock)
    await pressure()
    await unwatched()
    for i in range(6):
        await abandoned(store, f"gone-{i}")
    clock.at += 1
    assert (await pressure()).holds_back(SETTINGS) == "service_level"
    assert (await unwatched()) == Pressure(), "below: 0 reads no service level"
    day[0] = "2099-01-01"  # past midnight the ACD counts afresh
    clock.at += 1
    assert (await pressure()) == Pressure()
