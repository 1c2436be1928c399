"""`python -m bench revisit`: the revisit robot's capacity, first-prompt latency and inbound-first yield.

A whole stack (hotline + world Asterisk, AGI, Redis, SQLite, the recording worker) on loopback, with
the dialer allowed at any hour. Keys:
- `concurrent_calls`: the most revisit calls up at once (answered, recorded, in the survey) while a
  campaign of `TASKS` petitioners, who listen for ~15 s each, is dialled as fast as the pacing allows;
  `recorded` says how many of them ended with a stored recording.
- `answer_to_prompt_p95_s`: from the petitioner's answer to the first sound of the opening reaching
  them (the world marks both; the second includes WaitForNoise's 200 ms). Baseline in the same run:
  the same measure for inbound 12345 calls (answer → greeting heard), `baseline.inbound_p95_s`.
- `opening_s`: from the petitioner's answer to the end of the first question (B.4.1 "请问您是…吗？"), as
  the p95 answer-to-first-sound latency on the wire (`answer_to_prompt_p95_s`) plus the rendered opening's
  length for the longest salutation the bench uses (`opening_rendered_s`, each salutation's; the consent
  keys follow right after it, so the question's end is not a silence the world could mark). Target ≤ 8.
- `yield_s`: from a caller starting to wait for an agent to the dialer refusing new calls, with
  more tasks due; `calls_started_after_yield` (in the 2 s after) must be 0.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

from bench.common import percentile, progress, publish
from bench.headlines import Headline
from bench.loopback import loopback_stack
from callback.dialer import RevisitPrompts, petitioner_texts
from callback.tasks import DueTask
from hotline.app.settings import Settings, default_cache_dir
from hotline.app.stack import Stack
from hotline.core.asterisk.ami import AmiMessage
from hotline.core.audio.prompts import PromptRenderer
from integration.world.call import WorldCaller

TASKS = 40
SALUTATIONS = ("张女士", "")  # the campaign's, and the yield phase's tasks that name nobody
INBOUND = 10

HEADLINES = (
    Headline("answer_to_prompt_p95_s", baseline="baseline.inbound_p95_s", target="<= 1"),
    Headline("opening_s", target="<= 8"),
    Headline("yield_s", target="<= 1"),
    Headline("concurrent_calls"),
)
BUDGET_S = 480
LISTEN = "script:mark:answered/noise/mark:heard/wait:15/hangup"
REVISIT = """revisit:
  hours: ["00:00-24:00"]
  on_holidays: true
  max_attempts: 1
  retry_after_s: 60
  quiet_s: 0
  calls_per_second: 10
  max_concurrent: 60
  yield_waiting: 1
  skill: revisit
  ring_timeout_s: 10
"""


def _dialplan(home: Path) -> Path:
    shipped = Settings().core.dialplan_file.read_text()
    start = shipped.index("revisit:\n")
    path = home / "bench-revisit.yaml"
    path.write_text(shipped[:start] + REVISIT.rstrip("\n") + shipped[shipped.index("\n\n", start):])
    return path


class Marks:
    """World-side timings: when each channel answered and first heard the hotline, and how many are up."""

    def __init__(self) -> None:
        self.answered: dict[str, float] = {}
        self.heard: dict[str, float] = {}
        self.live: set[str] = set()
        self.peak = 0

    def on_event(self, event: AmiMessage) -> None:
        channel = str(event.get("WorldChannel") or event.get("Uniqueid") or "")
        if event.get("Event") == "Hangup":
            self.live.discard(channel)
        elif event.get("UserEvent") == "WorldMark":
            mark = event.get("Mark")
            if mark == "answered":
                self.answered[channel] = time.monotonic()
                self.live.add(channel)
                self.peak = max(self.peak, len(self.live))
            elif mark == "heard":
                self.heard[channel] = time.monotonic()

    def latencies(self, channels: set[str]) -> list[float]:
        return [self.heard[c] - self.answered[c] for c in channels if c in self.heard and c in self.answered]


async def run() -> dict[str, Any]:
    async with loopback_stack("revisit", _dialplan, revisit_dialer=True) as stack:
        return await _measure(stack)


async def _measure(stack: Stack) -> dict[str, Any]:
    assert stack.world_ami is not None and stack.revisits is not None and stack.dialer is not None
    assert stack.acd is not None and stack.calls is not None and stack.data is not None
    marks = Marks()
    stack.world_ami.subscribe("UserEvent", marks.on_event)
    stack.world_ami.subscribe("Hangup", marks.on_event)

    progress(f"revisit: baseline, {INBOUND} inbound calls to 12345 (answer → greeting heard)")
    for agent in await stack.acd.agents():
        await stack.acd.set_agent_state(agent, "paused", reason="bench")
    caller = WorldCaller(stack.world_ami, stack.data.inner_of("heard"), stack.data.host, stack.calls)
    before = set(marks.answered)
    for i in range(INBOUND):
        call = await caller.start("12345", f"1360000{i:04d}", script="mark:answered/noise/mark:heard/hangup")
        await call.outcome()
    inbound = marks.latencies(set(marks.answered) - before)

    progress(f"revisit: a campaign of {TASKS} petitioners who listen ~15 s each")
    numbers = [f"1370001{i:04d}" for i in range(TASKS)]
    for number in numbers:
        await stack.world_ami.action("Setvar", {"Variable": f"WORLD_PETITIONER_{number}", "Value": LISTEN})
    marks.peak, before = 0, set(marks.answered)
    started = time.monotonic()
    await stack.revisits.add([{"number": n, "salutation": SALUTATIONS[0], "topic": "噪音扰民", "reason": "bench"}
                              for n in numbers])
    while time.monotonic() - started < 120:
        if (await stack.revisits.progress())["pending"] == 0:
            break
        await asyncio.sleep(0.5)
    robot = marks.latencies(set(marks.answered) - before)
    peak = marks.peak
    recorded = await _recorded(stack, numbers)

    progress("revisit: yield — a caller starts waiting while more tasks are due")
    more = [f"1370002{i:04d}" for i in range(TASKS)]
    for number in more:
        await stack.world_ami.action("Setvar", {"Variable": f"WORLD_PETITIONER_{number}", "Value": "script:wait:3"})
    await stack.revisits.add([{"number": n, "salutation": SALUTATIONS[1], "topic": "", "reason": "bench"}
                              for n in more])
    await asyncio.sleep(1.0)  # the dialer is busy with the new tasks
    call = await caller.start("12345", "13600009999", script="wait:10")
    waiting_at = yielded_at = None
    attempts_then = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and yielded_at is None:
        now = time.monotonic()
        if waiting_at is None and await stack.acd.waiting():
            waiting_at = now
        if waiting_at is not None and stack.dialer.status()["state"] == "yielding":
            yielded_at, attempts_then = now, await _attempts(stack)
        await asyncio.sleep(0.01)
    await asyncio.sleep(2)
    started_after_yield = await _attempts(stack) - attempts_then if await stack.acd.waiting() else -1
    await call.hangup()
    await call.outcome()

    to_prompt = round(percentile(robot, 95), 3) if robot else None
    rendered = await _openings(stack)
    return publish("revisit", {
        "tasks": TASKS,
        "concurrent_calls": peak,
        "recorded": recorded,
        "answer_to_prompt_p95_s": to_prompt,
        "opening_s": round(to_prompt + max(rendered.values()), 3) if to_prompt is not None else None,
        "opening_rendered_s": rendered,
        "answer_to_prompt_samples": len(robot),
        "yield_s": round(yielded_at - waiting_at, 3) if yielded_at and waiting_at else None,
        "calls_started_after_yield": started_after_yield,
        "baseline": {"what": "inbound 12345 calls in the same run: answer → greeting heard",
                     "inbound_p95_s": round(percentile(inbound, 95), 3) if inbound else None,
                     "samples": len(inbound)},
        "targets": {"answer_to_prompt_p95_s": "<= 1", "opening_s": "<= 8", "yield_s": "<= 1"},
    })


async def _openings(stack: Stack) -> dict[str, float]:
    """Seconds of the opening as the dialer renders it (same text, synthesiser and trimming), per salutation."""
    assert stack.root is not None and stack.dialplan is not None
    renderer = PromptRenderer(stack.root, default_cache_dir() / "prompts")
    lengths: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as out:
        for salutation in SALUTATIONS:
            task = DueTask(0, "", salutation, "", 0)
            texts = {k: v for k, v in petitioner_texts(stack.dialplan, task, "bench").items()
                     if k == RevisitPrompts.name("bench", "opening")}
            for path in (await renderer.render_all(texts, Path(out), cache=False)).values():
                with wave.open(str(path)) as w:
                    lengths[salutation or "(unnamed)"] = round(w.getnframes() / w.getframerate(), 3)
    return lengths


async def _attempts(stack: Stack) -> int:
    assert stack.revisits is not None
    return sum(t["attempts"] for t in await stack.revisits.listing(limit=1000))


async def _recorded(stack: Stack, numbers: list[str], wait_s: float = 60) -> int:
    """How many of the campaign's answered calls ended with a stored recording."""
    assert stack.calls is not None
    deadline = time.monotonic() + wait_s
    while True:
        stored = 0
        for number in numbers:
            for record in await stack.calls.list(caller=number, limit=3):
                stored += any(r["status"] == "stored" for r in record.recordings)
        if stored >= len(numbers) or time.monotonic() > deadline:
            return stored
        await asyncio.sleep(2)
