"""FastAGI through real Asterisk: new sessions per second and command round trips, beside two baselines.

Every leg originates the same number of short calls (Local channels, no audio) into an extension that does the
same small amount of work — three variable operations — and signals completion with a UserEvent:
- `sessions_per_s`: as a FastAGI flow served by our server;
- `floor_sessions_per_s`: the same three commands sent by a bare asyncio responder (bench/agi_floor.py), the
  floor any FastAGI server pays; `ratio_to_floor` = ours / floor, target >= 0.9. The two legs alternate in
  rounds (ours, floor, floor, ours, …) so that load drift on the machine hits both alike;
- `baseline_sessions_per_s`: the three operations in the dialplan alone (no FastAGI at all).
`BENCH_AGI_CALLS` (default 2000 per leg: a leg takes a second or two) sizes it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from typing import Any

from bench.agi_floor import FloorResponder
from bench.common import median, percentile, progress, publish
from bench.headlines import Headline
from hotline.core.asterisk.agi import STATUS_VAR, AgiCall, AgiServer, Router
from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.root import find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.netutil import free_port

CALLS = int(os.environ.get("BENCH_AGI_CALLS", "2000"))
ROUNDS = 8  # per FastAGI leg, alternating ours and the floor: ABBA ABBA…
IN_FLIGHT = 40
RTT_SESSIONS = 20
RTT_COMMANDS = 99
TIME_LIMIT_S = 45.0
TARGET_RATIO_TO_FLOOR = 0.9
COMMANDS = ("GET FULL VARIABLE \"${CHANNEL(name)}\"", "SET VARIABLE B \"x\"", "GET VARIABLE B")
# what our server adds to every session: the flow's status for the dialplan (its fail-safe and instance failover)
STATUS_COMMAND = f'SET VARIABLE {STATUS_VAR} "ok"'
FASTAGI_LEGS = ("agi", "floor", "floor_status")

HEADLINES = (
    Headline("sessions_per_s", baseline="floor_sessions_per_s", target=f">= {TARGET_RATIO_TO_FLOOR} * baseline"),
    Headline("ratio_to_floor", target=f">= {TARGET_RATIO_TO_FLOOR}"),
    Headline("sessions_per_s", baseline="baseline_sessions_per_s"),
    Headline("rtt_p99_ms"),
)
BUDGET_S = 300


def _extensions(agi_port: int, floor_port: int, status_port: int, key: str) -> str:
    ports = {"floor": floor_port, "floor_status": status_port, "agi": agi_port, "rtt": agi_port}
    legs = "".join(f"""exten => {leg},1,AGI(agi://127.0.0.1:{port}/bench?leg={leg}&hotline_key={key})
 same => n,UserEvent(BenchDone,Leg: {leg})
 same => n,Hangup()
""" for leg, port in ports.items())
    return f"""[general]
static=yes
[bench]
{legs}exten => plan,1,Set(A=${{CHANNEL(name)}})
 same => n,Set(B=${{A}})
 same => n,Set(C=${{B}})
 same => n,UserEvent(BenchDone,Leg: plan)
 same => n,Hangup()
"""


class Flow:
    """Three commands per call, each round trip timed."""

    def __init__(self) -> None:
        self.rtts_ms: list[float] = []
        self.loaded_rtts_ms: list[float] = []

    async def __call__(self, call: AgiCall) -> None:
        rtt_leg = call.params.get("leg") == "rtt"
        for command in COMMANDS * (RTT_COMMANDS // 3 if rtt_leg else 1):
            start = time.perf_counter()
            await call.command(command)
            (self.rtts_ms if rtt_leg else self.loaded_rtts_ms).append((time.perf_counter() - start) * 1000)


async def _leg(ami: AmiClient, exten: str, calls: int, in_flight: int = IN_FLIGHT) -> dict[str, Any]:
    done = asyncio.Semaphore(0)
    finished = 0

    def on_done(event: Any) -> None:
        nonlocal finished
        if event.get("UserEvent") == "BenchDone" and event.get("Leg") == exten:
            finished += 1
            done.release()

    sub = ami.subscribe("UserEvent", on_done)
    slots = asyncio.Semaphore(in_flight)
    errors = 0
    start = time.perf_counter()

    async def one() -> None:
        nonlocal errors
        await slots.acquire()
        try:
            await ami.originate(f"Local/{exten}@bench/n", application="Wait", data="5", timeout_s=10)
        except Exception:
            errors += 1
            slots.release()
            return
        await done.acquire()
        slots.release()

    tasks = [asyncio.create_task(one()) for _ in range(calls)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), TIME_LIMIT_S)
    except TimeoutError:
        for t in tasks:
            t.cancel()
    elapsed = time.perf_counter() - start
    sub.cancel()
    return {"calls": finished, "errors": calls - finished, "seconds": round(elapsed, 3),
            "sessions_per_s": round(finished / elapsed, 1)}


async def _alternating(ami: AmiClient) -> dict[str, dict[str, Any]]:
    """Every FastAGI leg in ROUNDS rounds, in ABC CBA order, summed per leg."""
    sizes = [CALLS // ROUNDS + (1 if i < CALLS % ROUNDS else 0) for i in range(ROUNDS)]
    legs: dict[str, list[dict[str, Any]]] = {name: [] for name in FASTAGI_LEGS}
    for i, size in enumerate(sizes):
        for exten in FASTAGI_LEGS if i % 2 == 0 else tuple(reversed(FASTAGI_LEGS)):
            legs[exten].append(await _leg(ami, exten, size))
        progress(f"round {i + 1}/{ROUNDS}: " + ", ".join(f"{name} {legs[name][-1]['sessions_per_s']}/s"
                                                          for name in FASTAGI_LEGS))
    return {name: _summed(rounds) for name, rounds in legs.items()}


def _summed(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    calls = sum(r["calls"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    return {"calls": calls, "errors": sum(r["errors"] for r in rounds), "seconds": round(seconds, 3),
            "sessions_per_s": round(calls / seconds, 1) if seconds else 0.0,
            "rounds": [r["sessions_per_s"] for r in rounds]}


async def run() -> dict[str, Any]:
    root = find_root()
    router = Router()
    flow = Flow()
    router.add("bench", flow)
    key = secrets.token_urlsafe(24)
    agi = AgiServer("127.0.0.1", 0, router, key=key)
    await agi.start()
    floor = FloorResponder(COMMANDS)
    floor_port = await floor.start()
    floor_status = FloorResponder((*COMMANDS, STATUS_COMMAND))
    status_port = await floor_status.start()
    ami_port, secret = free_port(), secrets.token_urlsafe(12)
    manager = (f"[general]\nenabled=yes\nbindaddr=127.0.0.1\nport={ami_port}\n\n[bench]\nsecret={secret}\n"
               "deny=0.0.0.0/0.0.0.0\npermit=127.0.0.0/255.0.0.0\nread=all\nwrite=all\n")
    configs = {"manager.conf": manager, "extensions.conf": _extensions(agi.port, floor_port, status_port, key)}
    inst = AsteriskInstance(root, "bench", configs)
    await inst.start()
    ami = AmiClient("127.0.0.1", ami_port, "bench", secret, action_timeout=10)
    try:
        await ami.connect()
        progress("warm-up")
        await _leg(ami, "agi", min(CALLS, 200))
        await _leg(ami, "floor", min(CALLS, 200))
        flow.loaded_rtts_ms.clear()
        progress(f"command round trips: {RTT_SESSIONS} concurrent sessions x {RTT_COMMANDS} commands")
        await _leg(ami, "rtt", RTT_SESSIONS, RTT_SESSIONS)
        progress(f"FastAGI legs, ours and the floor: {CALLS} calls each in {ROUNDS} alternating rounds, "
                 f"{IN_FLIGHT} in flight")
        summed = await _alternating(ami)
        agi_leg, floor_leg, status_leg = summed["agi"], summed["floor"], summed["floor_status"]
        progress(f"dialplan-only baseline: {CALLS} calls, {IN_FLIGHT} in flight")
        plan_leg = await _leg(ami, "plan", CALLS)
        version = root.version()
    finally:
        await ami.close()
        await inst.stop()
        await agi.close()
        await floor.close()
        await floor_status.close()
    ratio = agi_leg["sessions_per_s"] / floor_leg["sessions_per_s"] if floor_leg["sessions_per_s"] else 0.0
    return publish("agi", {
        "rtt_p50_ms": round(median(flow.rtts_ms), 3),
        "rtt_p99_ms": round(percentile(flow.rtts_ms, 99), 3),
        "sessions_per_s": agi_leg["sessions_per_s"],
        "floor_sessions_per_s": floor_leg["sessions_per_s"],
        "ratio_to_floor": round(ratio, 3),
        # the floor also sending the status variable ours sends: how much of the gap is that one command
        "floor_with_status_sessions_per_s": status_leg["sessions_per_s"],
        "ratio_to_floor_with_status": round(agi_leg["sessions_per_s"] / status_leg["sessions_per_s"], 3)
        if status_leg["sessions_per_s"] else 0.0,
        "target_ratio_to_floor": TARGET_RATIO_TO_FLOOR,
        "meets_target": ratio >= TARGET_RATIO_TO_FLOOR,
        "baseline_sessions_per_s": plan_leg["sessions_per_s"],
        "rtt_under_originate_storm_p50_ms": round(median(flow.loaded_rtts_ms), 3),
        "rtt_under_originate_storm_p99_ms": round(percentile(flow.loaded_rtts_ms, 99), 3),
        "rtt_sessions": RTT_SESSIONS, "rtt_commands": len(flow.rtts_ms),
        "baseline": "the same calls running a dialplan-only script (3 Set + UserEvent), same run",
        "floor": "the same calls and commands served by a bare asyncio FastAGI responder (no routing, key check, "
                 "timeouts or status variable), alternating with ours in rounds, same run",
        "calls": CALLS, "in_flight": IN_FLIGHT, "commands_per_call": 3,
        "agi_leg": agi_leg, "floor_leg": floor_leg,
        "floor_with_status_leg": status_leg, "baseline_leg": plan_leg, "asterisk": version,
    })
