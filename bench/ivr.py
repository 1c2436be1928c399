"""`python -m bench ivr`: time from answer to queue entry for callers who press nothing.

A whole stack (hotline + world Asterisk, AGI, Redis, SQLite) on loopback; citizens from the world
call 12345 in waves and stay silent; every agent is paused so each caller is still waiting when
measured. Answer and queue entry come from each call's record (answered_at, the `queued` step).
Baseline, measured in the same run: the length of the greeting audio itself, the floor any IVR
that plays it must pay; `overhead_p95_s` is what our flow adds on top.
"""

from __future__ import annotations

import asyncio
import wave
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import median, percentile, progress, publish
from bench.headlines import Headline
from bench.loopback import loopback_stack
from hotline.calls.records import CallView
from integration.world.call import WorldCaller

CALLS = 40
WAVE = 5  # callers arriving together
TARGET_P95_S = 5.0

HEADLINES = (
    Headline("answer_to_queue_p95_s", baseline="baseline_greeting_audio_s", target=f"<= {TARGET_P95_S}"),
    Headline("overhead_p95_s"),
)
BUDGET_S = 300


def _answer_to_queue_s(record: CallView | None) -> float | None:
    if record is None or record.answered_at is None:
        return None
    queued = next((s for s in record.steps if s["step"] == "queued"), None)
    return (datetime.fromisoformat(queued["at"]) - record.answered_at).total_seconds() if queued else None


def _audio_s(path: Path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


async def run() -> dict[str, Any]:
    async with loopback_stack("ivr") as stack:
        assert stack.acd is not None and stack.world_ami is not None and stack.data is not None
        assert stack.calls is not None
        for agent in await stack.acd.agents():
            await stack.acd.set_agent_state(agent, "paused", reason="bench: callers stay queued")
        caller = WorldCaller(stack.world_ami, stack.data.inner_of("heard"), stack.data.host, stack.calls)
        greeting_s = _audio_s(stack.data.host(f"{stack.data.inner}/sounds/greeting.wav"))
        times: list[float] = []
        failed = 0
        for first in range(0, CALLS, WAVE):
            batch = range(first, min(first + WAVE, CALLS))
            outcomes = await asyncio.gather(*(
                caller.call("12345", f"1390000{i:04d}", script="wait:7") for i in batch))
            for outcome in outcomes:
                t = _answer_to_queue_s(outcome.record)
                if t is None:
                    failed += 1
                else:
                    times.append(t)
            progress(f"{first + len(batch)}/{CALLS} calls, answer→queue p50 {median(times):.2f} s")
    p95 = percentile(times, 95)
    return publish("ivr", {
        "answer_to_queue_p50_s": round(median(times), 3),
        "answer_to_queue_p95_s": round(p95, 3),
        "answer_to_queue_max_s": round(max(times, default=0.0), 3),
        "target_p95_s": TARGET_P95_S,
        "meets_target": p95 <= TARGET_P95_S,
        "baseline_greeting_audio_s": round(greeting_s, 3),
        "overhead_p95_s": round(p95 - greeting_s, 3),
        "baseline": "length of the default greeting audio (the floor for any IVR playing it), same run",
        "calls": CALLS, "arriving_together": WAVE, "calls_not_measured": failed,
    })
