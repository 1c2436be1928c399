"""`python -m bench capacity [--quick]`: how many concurrent calls one hotline Asterisk node holds on this
machine with everything a real call does (greeting from our FastAGI, our ACD, an agent's phone, the bridge,
MixMonitor recording, the recording worker storing it), against raw Asterisk bridged+recorded calls (no AGI,
no ACD) ramped the same way in the same run (bench/capacity_calls.py describes both sides' calls).

Steps of concurrent calls (full: 10, 30, 60, 100, 150, 200), each held `hold_s` once every call is up; raw
then ours at each size. A side stops at its first step where a call was not answered, not bridged or dropped,
or fewer than 99 % of the recordings are complete (bench/capacity_check.py); its last good step is its
figure. Keys: `ours_concurrent_calls`, `raw_concurrent_calls`, `ratio` (target >= 0.8), `audio_complete`
(complete recordings at ours' reported step, target >= 0.99), `steps` (per step and side: calls, failures,
CPU % of one core for Asterisk, the world's Asterisk, this process (the service and the bench's load
generator), the recording worker and Redis, the machine's busy %), and what the capacity plan
(docs/capacity.md) needs: Redis bytes per held call, database rows and bytes per call, WAV and stored bytes
per minute. Bounded by a call cap (the last step) and a time cap; when the time cap stops the ramp before a
side failed, `capped_by_time` says so and the figures are lower bounds. Loopback only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from acd.settings import AcdSettings
from bench.acd_scenario import replace_section
from bench.capacity_calls import WORLD_CITIZEN, Call, Step, hold_step, judge, raw_contexts, until
from bench.capacity_check import StepTally, last_good
from bench.capacity_probe import CpuWindow, database_rows, processes, redis_memory
from bench.common import progress, publish
from bench.headlines import Headline
from bench.loopback import loopback_stack
from dialplans.render import render
from hotline.app.settings import Settings
from hotline.app.stack import Stack
from hotline.calls.models import Recording
from recordings.worker import recording_backlog

SIDES = ("raw", "ours")
SCRATCH = "bench-capacity"

HEADLINES = (
    Headline("ours_concurrent_calls", baseline="raw_concurrent_calls", target=">= 0.8 * baseline"),
    Headline("ratio", target=">= 0.8"),
    Headline("audio_complete", target=">= 0.99"),
)
ALL_ARGS = ("--quick",)  # `make bench` stays under 30 minutes; `python -m bench capacity` ramps in full
BUDGET_S = 300


@dataclass(frozen=True)
class Size:
    steps: tuple[int, ...]
    hold_s: float
    time_cap_s: float

    @property
    def agents(self) -> list[str]:
        return [str(8001 + i) for i in range(max(self.steps))]


FULL = Size((10, 30, 60, 100, 150, 200), hold_s=30.0, time_cap_s=1200.0)
QUICK = Size((5, 15), hold_s=10.0, time_cap_s=180.0)


def _dialplan(size: Size) -> Any:
    def write(home: Path) -> Path:
        shipped = Settings().core.dialplan_file
        agents = ["agents:"] + [f'  - {{id: "{a}", name: 坐席{a}, seat: general, group: 一组, skills: {{general: 4}}}}'
                                for a in size.agents]
        path = home / "bench-capacity.yaml"
        path.write_text(replace_section(shipped.read_text(), "agents", "\n".join(agents)))
        return path
    return write


async def run(size: Size | None = None, name: str = "capacity") -> dict[str, Any]:
    """The ramp at `size` (default: full, or quick with `--quick`), published as bench/results/`name`.json."""
    size = size or (QUICK if "--quick" in sys.argv else FULL)
    began = time.time()
    async with loopback_stack(name, _dialplan(size), acd=AcdSettings(wrap_up_s=1.0)) as stack:
        result = await _ramp(stack, size, began)
    return publish(name, result)


async def _ramp(stack: Stack, size: Size, began: float) -> dict[str, Any]:
    assert stack.data is not None
    raw_dir = stack.data.inner_of(f"{SCRATCH}/raw")
    kept = stack.data.host(stack.data.inner_of(f"{SCRATCH}/kept"))
    await _install(stack, size, raw_dir)
    await _agents_ready(stack, size.agents, timeout_s=90)
    pids = await processes(stack)
    tallies: dict[str, list[StepTally]] = {s: [] for s in SIDES}
    details: list[dict[str, Any]] = []
    plan: dict[str, Any] = {}
    capped = False
    last: tuple[int, float] | None = None  # the step before: calls and seconds both sides took

    async def run(side: str, index: int, n: int, refined: bool = False) -> StepTally:
        """One step of one side: its detail kept and shown, the plan's facts from ours' latest step that held."""
        nonlocal plan
        step = _step(stack, side, index, n, size, raw_dir)
        detail, facts = await _run_step(stack, side, step, size, pids, kept)
        tally = step.tally()
        details.append({**detail, "refined": True} if refined else detail)
        if side == "ours" and tally.held:
            plan = facts
        between = " (between its last good step and its first failed one)" if refined else ""
        progress(f"{side} {n}{between}: {_line(detail)}")
        return tally

    for index, n in enumerate(size.steps):
        if last is not None and time.time() - began + _estimate_s(n, last) > size.time_cap_s:
            capped = True
            progress(f"time cap: no time left for {n} calls")
            break
        step_began = time.time()
        for side in SIDES:
            if not tallies[side] or tallies[side][-1].held:
                tallies[side].append(await run(side, index, n))
        if all(tallies[s] and not tallies[s][-1].held for s in SIDES):
            break
        last = (n, time.time() - step_began)
    refined: dict[str, StepTally] = {}
    if not capped:
        for side in SIDES:
            between = _between(tallies[side])
            if between is None or last is None or time.time() - began + _estimate_s(between, last) > size.time_cap_s:
                continue
            refined[side] = await run(side, len(size.steps), between, refined=True)
    return _result(tallies, refined, details, plan, size, capped, time.time() - began)


def _step(stack: Stack, side: str, index: int, n: int, size: Size, raw_dir: str) -> Step:
    """The step's calls: ours dial 12345; raw ones dial `raw<agent>`, one agent each, recorded in `raw_dir`."""
    assert stack.data is not None
    calls = {}
    for i in range(n):
        number = f"1390{SIDES.index(side) + 1}{index:02d}{i:04d}"
        if side == "ours":
            calls[number] = Call(number, "12345")
        else:
            calls[number] = Call(number, f"raw{size.agents[i]}", recording=stack.data.host(f"{raw_dir}/{number}.wav"))
    return Step(calls)


def _between(steps: list[StepTally]) -> int | None:
    """Calls halfway between a side's last good step and its first failed one (rounded to 5), when they are at
    least 20 apart: one more step halves the ramp's coarseness where the figure is decided."""
    if not steps or steps[-1].held:
        return None
    good = last_good(steps)
    low, high = (good.calls if good else 0), steps[-1].calls
    return 5 * round((low + high) / 10) if high - low >= 20 else None


def _estimate_s(n: int, last: tuple[int, float]) -> float:
    """A guess of the next step from the one before (`last`: its calls and seconds): filling, reaching agents and
    storing grow with the calls, holding and clearing do not (about half each); the first step always runs."""
    calls, seconds = last
    return seconds * (0.5 + 0.5 * n / max(calls, 1)) * 1.1


async def _install(stack: Stack, size: Size, raw_dir: str) -> None:
    """The raw baseline's context in the hotline and the talking citizen in the world."""
    assert stack.hotline is not None and stack.dialplan is not None and stack.render_context is not None
    assert stack.world is not None and stack.world_ami is not None
    extensions = render(stack.dialplan, stack.render_context)["extensions.conf"] + raw_contexts(size.agents, raw_dir)
    stack.hotline.write_configs({"extensions.conf": extensions})
    await stack.hotline.cli("dialplan reload")
    world = stack.world.asterisk
    world.write_configs({"extensions.conf": (world.etc_dir / "extensions.conf").read_text() + WORLD_CITIZEN})
    await stack.world_ami.action("Command", {"Command": "dialplan reload"})


async def _agents_ready(stack: Stack, agents: list[str], timeout_s: float) -> None:
    """Until every agent's phone has registered and the agent is ready in our ACD."""
    assert stack.acd is not None and stack.hotline is not None
    deadline = time.time() + timeout_s
    missing = set(agents)
    while missing and time.time() < deadline:
        contacts = await stack.hotline.cli("pjsip show contacts", timeout=30)
        states = await stack.acd.agents()
        for agent in list(missing):
            if f"{agent}/sip:" in contacts:
                if states.get(agent, {}).get("state") != "ready":
                    await stack.acd.set_agent_state(agent, "ready", reason="bench capacity")
                else:
                    missing.discard(agent)
        if missing:
            await asyncio.sleep(0.5)
    if missing:
        raise RuntimeError(f"{len(missing)} agents' phones did not register: {sorted(missing)[:5]} …")
    progress(f"{len(agents)} agents' phones registered and ready")


async def _run_step(stack: Stack, side: str, step: Step, size: Size, pids: dict[str, int],
                    kept: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """One step of one side; its detail line, and (ours) what the capacity plan needs from it."""
    assert stack.sessions is not None and stack.acd is not None
    n = len(step.calls)
    progress(f"{side}: {n} concurrent calls, held {size.hold_s:.0f} s")
    cpu = CpuWindow(pids)
    before_redis = await redis_memory(stack)
    before_rows = await database_rows(stack) if side == "ours" else {}
    held: dict[str, Any] = {}

    async def on_hold() -> None:
        held["redis"] = await redis_memory(stack)
        cpu.start()

    await hold_step(stack, step, size.hold_s, kept, on_hold)
    usage = cpu.stop() if "redis" in held else {}
    figures = judge(step)
    tally = step.tally()
    detail: dict[str, Any] = {"side": side, "calls": n, **dataclasses.asdict(tally), "failures": tally.failures,
                              "complete_share": round(tally.complete_share, 4), "held": tally.held, **usage,
                              **figures}
    facts: dict[str, Any] = {}
    if side == "ours":
        await _drained(stack, timeout_s=60)
        after_rows = await database_rows(stack)
        calls = max(1, tally.answered)
        facts = {"calls": n,
                 "redis_bytes_per_held_call": round(held.get("redis", before_redis)["call_bytes"] / n),
                 "redis_keys_per_held_call": round((held.get("redis", before_redis)["keys"]
                                                    - before_redis["keys"]) / n, 2),
                 "db_rows_per_call": {t: round((after_rows[t] - before_rows.get(t, 0)) / calls, 2)
                                      for t in sorted(after_rows) if t != "_bytes"
                                      and after_rows[t] != before_rows.get(t, 0)},
                 "db_bytes_per_call": round((after_rows["_bytes"] - before_rows["_bytes"]) / calls),
                 **await _stored(stack, step)}
        await _agents_ready(stack, size.agents, timeout_s=30)  # through wrap-up, for the next step
    _forget(step, kept)
    return detail, facts


async def _drained(stack: Stack, timeout_s: float) -> None:
    """Until the recording worker has stored every recording (so one step's storing does not load the next)."""
    assert stack.sessions is not None
    sessions = stack.sessions

    async def stored() -> bool:
        return (await recording_backlog(sessions))["waiting"] == 0

    await until(stored, timeout_s, 1.0)


async def _stored(stack: Stack, step: Step) -> dict[str, Any]:
    """The stored recordings' bytes per minute of audio (what the product keeps: see recordings.transcode)."""
    assert stack.sessions is not None
    ids = list(step.call_ids)
    async with stack.sessions() as s:
        size, seconds, count = (await s.execute(select(
            func.sum(Recording.size_bytes), func.sum(Recording.duration_s), func.count()).where(
            Recording.call_id.in_(ids), Recording.status == "stored"))).one()
    return {"stored_recordings": int(count or 0),
            "stored_bytes_per_min": round(float(size or 0) / (float(seconds) / 60)) if seconds else 0}


def _forget(step: Step, kept: Path) -> None:
    """Remove the step's kept WAVs (and the raw side's files) so the disk holds one step at a time."""
    for call in step.calls.values():
        if call.kept is not None:
            for path in (call.kept, call.kept.with_name(f"{call.number}-caller.wav")):  # (see _caller_side)
                path.unlink(missing_ok=True)
    raw = kept.parent / "raw"
    if raw.is_dir():
        shutil.rmtree(raw, ignore_errors=True)
        raw.mkdir()


def _line(detail: dict[str, Any]) -> str:
    return (f"{detail['bridged']}/{detail['calls']} bridged, {detail['dropped']} dropped, "
            f"{detail['complete']} complete recordings, {detail['late']} behind real time "
            f"(sent p5 {detail.get('sent_share_p5', '?')}); asterisk {detail.get('asterisk_cpu_pct', '?')} %, "
            f"service {detail.get('service_and_bench_cpu_pct', '?')} %, "
            f"machine {detail.get('machine_busy_pct', '?')} %")


def _node_cpu(details: list[dict[str, Any]]) -> dict[str, Any]:
    """The hotline Asterisk's CPU per held call on each side, at the largest size both held: with the service on
    its own host (issue 18's layout) this, not the shared machine, bounds what one node holds."""
    held = {(d["side"], d["calls"]): d for d in details if d.get("held") and "asterisk_cpu_pct" in d}
    common = [n for (side, n) in held if side == "ours" and ("raw", n) in held]
    if not common:
        return {}
    n = max(common)
    per_call = {s: round(held[(s, n)]["asterisk_cpu_pct"] / n, 3) for s in SIDES}
    return {"node_cpu_pct_per_call": {"calls": n, **per_call},
            "node_cpu_ratio": round(per_call["raw"] / per_call["ours"], 3) if per_call["ours"] else 0.0}


def _figure(ramp: list[StepTally], refined: StepTally | None) -> StepTally | None:
    """A side's figure: the refined step when it held, else the ramp's last good step."""
    return refined if refined is not None and refined.held else last_good(ramp)


def _result(tallies: dict[str, list[StepTally]], refined: dict[str, StepTally], details: list[dict[str, Any]],
            plan: dict[str, Any], size: Size, capped: bool, elapsed_s: float) -> dict[str, Any]:
    ours, raw = _figure(tallies["ours"], refined.get("ours")), _figure(tallies["raw"], refined.get("raw"))
    ours_n, raw_n = (ours.calls if ours else 0), (raw.calls if raw else 0)
    return {
        "ours_concurrent_calls": ours_n,
        "raw_concurrent_calls": raw_n,
        "ratio": round(ours_n / raw_n, 3) if raw_n else 0.0,
        "audio_complete": round(ours.complete_share, 4) if ours else 0.0,
        "capped_by_time": capped,
        "capped_by_calls": {s: bool(tallies[s]) and tallies[s][-1].held and tallies[s][-1].calls == max(size.steps)
                            for s in SIDES},
        **_node_cpu(details),
        "steps": details,
        "plan": plan,
        "size": {"steps": list(size.steps), "hold_s": size.hold_s, "time_cap_s": size.time_cap_s,
                 "agents": len(size.agents), "calls_per_s_while_filling": 10},
        "elapsed_s": round(elapsed_s),
        "targets": {"ratio": ">= 0.8", "audio_complete": ">= 0.99"},
        "baseline": "raw Asterisk: answer, MixMonitor (mix + both sides), Dial the same agents' phones; no AGI, "
                    "no ACD; same Asterisk pair, same steps, same run",
        "machine": f"{os.cpu_count()} cores, shared; CPU % is of one core",
    }


