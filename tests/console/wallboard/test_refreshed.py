"""A value read in the background: the first reading is waited for, later ones never (the last is returned and a
new one started when it is old), one reading at a time, and a failed reading keeps the last value."""

from __future__ import annotations

import asyncio

from console.wallboard.refreshed import Refreshed


async def test_only_the_first_reading_is_waited_for() -> None:
    readings: list[int] = []
    gate = asyncio.Event()

    async def read() -> int:
        if readings:
            await gate.wait()  # a slow database
        readings.append(len(readings) + 1)
        if len(readings) == 3:
            raise RuntimeError("the database went away")
        return readings[-1]

    kept = Refreshed(read, every_s=0.0)
    assert await kept.get() == 1
    assert [await kept.get() for _ in range(3)] == [1, 1, 1]  # old: one reading started, nobody waits for it
    gate.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert readings == [1, 2] and await kept.get() == 2
    for _ in range(20):
        await asyncio.sleep(0)
    assert await kept.get() == 2  # the third reading failed: the last value stays
