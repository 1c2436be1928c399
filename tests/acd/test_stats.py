"""The day's figures per skill on the real Redis: a caller who leaves the queue for a callback or a voice
message is deflected, neither answered nor abandoned, and does not count against the service level."""

from __future__ import annotations

from acd.store import AcdStore, today


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
