"""The day's figures per skill on the real Redis: a caller who leaves the queue for a callback or a voice
message is deflected, neither answered nor abandoned, and does not count against the service level."""

from __future__ import annotations

from acd.store import AcdStore, now_ms, today


async def test_a_deflected_caller_is_neither_abandoned_nor_against_the_service_level(store: AcdStore) -> None:
    await store.add_agent("8001", {"general": 3})
    await store.set_agent_state("8001", "ready")
    for call in ("c1", "c2", "c3"):
        await store.enqueue(call, channel=f"PJSIP/x-{call}", skill="general", caller="13800000000")
    reservation = await store.reserve()
    assert reservation is not None and reservation.call_id == "c1"
    assert await store.connected(reservation)
    assert await store.forget_call("c2", deflected=True) == "waiting"  # chose a callback
    assert await store.forget_call("c3") == "waiting"  # hung up while waiting

    figures = (await store.stats(today()))["general"]
    assert (figures["offered"], figures["answered"], figures["abandoned"], figures["deflected"]) == (3, 1, 1, 1)
    assert figures["sl_15s"] == 0.5 and figures["abandon_rate"] == 0.5  # of the two who wanted an agent now


async def test_the_average_wait_is_of_the_answered_callers_from_entering_the_queue(store: AcdStore) -> None:
    for agent in ("8001", "8002"):
        await store.add_agent(agent, {"general": 3})
    for call, waited_s in (("w1", 20), ("w2", 4)):
        await store.enqueue(call, channel=f"PJSIP/x-{call}", skill="general", caller="13800000000")
        await store.redis.hset(f"acd:call:{call}", "entered", now_ms() - waited_s * 1000)  # as if queued then
    await store.enqueue("w3", channel="PJSIP/x-w3", skill="general", caller="13800000000")
    for agent in ("8001", "8002"):
        await store.set_agent_state(agent, "ready")
        reservation = await store.reserve()
        assert reservation is not None and await store.connected(reservation)
    assert await store.forget_call("w3") == "waiting"  # abandoned: not in the average

    figures = (await store.stats(today()))["general"]
    assert (figures["answered"], figures["answered_15s"], figures["abandoned"]) == (2, 1, 1)
    assert 11.9 <= figures["wait_avg_s"] <= 12.5, figures  # (20 + 4) / 2
