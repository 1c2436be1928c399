"""FastAGI through real Asterisk: new sessions per second and command round trips, beside a dialplan-only baseline.

Both legs originate the same number of short calls (Local channels, no audio) into an extension that does the
same small amount of work — three variable operations — once as a FastAGI flow served by our server, once in
the dialplan alone — and signal completion with a UserEvent. The ratio shows what our server costs per call.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from bench.common import median, percentile, progress, publish
from hotline.core.asterisk.agi import AgiCall, AgiServer, Router
from hotline.core.asterisk.ami import AmiClient
from hotline.core.asterisk.root import find_root
from hotline.core.asterisk.sandbox import AsteriskInstance
from hotline.core.netutil import free_port

CALLS = 600
IN_FLIGHT = 40
RTT_SESSIONS = 20
RTT_COMMANDS = 99
TIME_LIMIT_S = 45.0


def _extensions(agi_port: int, key: str) -> str:
    return f"""[general]
static=yes
[bench]
exten => agi,1,AGI(agi://127.0.0.1:{agi_port}/bench?leg=agi&hotline_key={key})
 same => n,UserEvent(BenchDone,Leg: agi)
 same => n,Hangup()
exten => rtt,1,AGI(agi://127.0.0.1:{agi_port}/bench?leg=rtt&hotline_key={key})
 same => n,UserEvent(BenchDone,Leg: rtt)
 same => n,Hangup()
exten => plan,1,Set(A=${{CHANNEL(name)}})
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
        commands = ("GET FULL VARIABLE \"${CHANNEL(name)}\"", "SET VARIABLE B \"x\"", "GET VARIABLE B")
        for command in commands * (RTT_COMMANDS // 3 if rtt_leg else 1):
            start = time.perf_counter()
            await call.command(command)
            (self.rtts_ms if rtt_leg else self.loaded_rtts_ms).append((time.perf_counter() - start) * 1000)


async def _leg(ami: AmiClient, exten: str, calls: int = CALLS, in_flight: int = IN_FLIGHT) -> dict[str, Any]:
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


async def run() -> dict[str, Any]:
    root = find_root()
    router = Router()
    flow = Flow()
    router.add("bench", flow)
    key = secrets.token_urlsafe(24)
    agi = AgiServer("127.0.0.1", 0, router, key=key)
    await agi.start()
    ami_port, secret = free_port(), secrets.token_urlsafe(12)
    manager = (f"[general]\nenabled=yes\nbindaddr=127.0.0.1\nport={ami_port}\n\n[bench]\nsecret={secret}\n"
               "deny=0.0.0.0/0.0.0.0\npermit=127.0.0.0/255.0.0.0\nread=all\nwrite=all\n")
    inst = AsteriskInstance(root, "bench", {"manager.conf": manager, "extensions.conf": _extensions(agi.port, key)})
    await inst.start()
    ami = AmiClient("127.0.0.1", ami_port, "bench", secret, action_timeout=10)
    try:
        await ami.connect()
        progress("warm-up")
        await _leg(ami, "agi")
        flow.loaded_rtts_ms.clear()
        progress(f"command round trips: {RTT_SESSIONS} concurrent sessions x {RTT_COMMANDS} commands")
        await _leg(ami, "rtt", RTT_SESSIONS, RTT_SESSIONS)
        progress(f"FastAGI leg: {CALLS} calls, {IN_FLIGHT} in flight")
        agi_leg = await _leg(ami, "agi")
        progress(f"dialplan-only baseline: {CALLS} calls, {IN_FLIGHT} in flight")
        plan_leg = await _leg(ami, "plan")
        version = root.version()
    finally:
        await ami.close()
        await inst.stop()
        await agi.close()
    return publish("agi", {
        "rtt_p50_ms": round(median(flow.rtts_ms), 3),
        "rtt_p99_ms": round(percentile(flow.rtts_ms, 99), 3),
        "sessions_per_s": agi_leg["sessions_per_s"],
        "baseline_sessions_per_s": plan_leg["sessions_per_s"],
        "rtt_under_originate_storm_p50_ms": round(median(flow.loaded_rtts_ms), 3),
        "rtt_under_originate_storm_p99_ms": round(percentile(flow.loaded_rtts_ms, 99), 3),
        "rtt_sessions": RTT_SESSIONS, "rtt_commands": len(flow.rtts_ms),
        "baseline": "the same calls running a dialplan-only script (3 Set + UserEvent), same run",
        "calls": CALLS, "in_flight": IN_FLIGHT, "commands_per_call": 3,
        "agi_leg": agi_leg, "baseline_leg": plan_leg, "asterisk": version,
    })
