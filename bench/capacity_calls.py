"""The calls of one `bench capacity` ramp step: `n` citizens call, each is answered, bridged to an agent's phone
in the world and recorded; all are held together, then hung up, and what became of each is tallied.

Two sides go through the same steps on the same Asterisk pair and the same agents' phones:
- ours: the citizen dials 12345, hears the greeting from our FastAGI, queues in our ACD and is offered to
  an agent, recorded by the hotline's own dialplan (MixMonitor with the caller's and the heard side);
- raw: the citizen dials `raw<agent>`, a plain context answers, starts the same MixMonitor and Dials the
  agent's phone: no AGI, no ACD, no service in the call.
The citizen (world context below) sends a steady tone for the whole call, the agent's phone answers after one
ring, plays a short greeting and echoes what it hears: media flows both ways on both legs, G.711 (ulaw) only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.capacity_check import StepTally, WavFacts, closed, kept_real_time, recording_complete, wav_facts
from bench.common import percentile, progress
from hotline.app.stack import Stack
from hotline.core.asterisk.ami import AmiClient, AmiError, AmiMessage, Origination, Subscription

CITIZEN_CONTEXT = "bench-capacity-citizen"
RAW_CONTEXT = "bench-capacity-raw"
PHONE_CONTEXT = "world-from-hotline"
PACE_PER_S = 10.0  # new calls per second while a step fills
BRIDGE_WAIT_S = 45.0  # after the last call started, for every call to reach an agent
CLEAR_WAIT_S = 30.0  # after hanging up, for the hotline's channels to end
PACKET_S = 0.02  # the world's phones send one G.711 packet every 20 ms

WORLD_CITIZEN = f"""
; bench capacity: a citizen who talks all through the call (a steady tone stands in for speech)
[{CITIZEN_CONTEXT}]
exten => s,1,UserEvent(CapacityCitizen,WorldChannel: ${{UNIQUEID}})
 same => n,Playtones(440)
 same => n,Wait(900)
 same => n,Hangup()
"""


def raw_contexts(agents: list[str], recordings: str) -> str:
    """The hotline's plain baseline: `raw<agent>` from the carrier → answer, record as ours does, dial the phone."""
    out = ["", "; bench capacity: raw Asterisk calls (no AGI, no ACD) from the carrier as raw<agent>", "[from-carrier]"]
    out += [f"exten => raw{a},1,Goto({RAW_CONTEXT},{a},1)" for a in agents]
    out += ["", f"[{RAW_CONTEXT}]",
            "exten => _8XXX,1,Answer()",
            f" same => n,Set(REC={recordings}/${{CALLERID(num)}})",
            " same => n,MixMonitor(${REC}.wav,r(${REC}-caller.wav)t(${REC}-heard.wav))",
            " same => n,Dial(PJSIP/${EXTEN},30)",
            " same => n,Hangup()"]
    return "\n".join(out) + "\n"


@dataclass
class Call:
    number: str
    dial: str  # the extension the citizen dials at the hotline
    started: float = 0.0
    channel: str = ""  # the citizen's channel in the world
    connected: float | None = None  # the hotline answered
    bridged: float | None = None  # the agent's phone answered
    hung_up: float | None = None  # the bench hung up the citizen
    sent_s: float | None = None  # audio the citizen's phone sent, from its RTP packet count at the hang-up
    sent_at: float | None = None  # when the bench asked for that count (the clock it is judged against)
    dropped: bool = False  # a leg ended before the bench hung up
    recording: Path | None = None  # the hotline's mix (host path)
    kept: Path | None = None  # the bench's hard link to it (the recording worker deletes the WAV once stored)
    complete: bool = False
    late: bool = False  # the citizen sent less audio than the call lasted: the machine fell behind real time
    seconds: float = 0.0


@dataclass
class Step:
    """One step's calls and the events that concern them."""

    calls: dict[str, Call]
    legs: dict[str, str] = field(default_factory=dict)  # agent leg uniqueid -> citizen's number
    call_ids: dict[str, str] = field(default_factory=dict)  # our call id -> citizen's number

    def tally(self) -> StepTally:
        calls = self.calls.values()
        return StepTally(calls=len(self.calls), answered=sum(1 for c in calls if c.connected is not None),
                         bridged=sum(1 for c in calls if c.bridged is not None),
                         dropped=sum(1 for c in calls if c.dropped), complete=sum(1 for c in calls if c.complete),
                         late=sum(1 for c in calls if c.late))


class StepWatch:
    """Follows the step's calls through both Asterisks' events."""

    def __init__(self, stack: Stack, step: Step) -> None:
        assert stack.world_ami is not None and stack.ami is not None and stack.data is not None
        self.stack, self.step, self.world, self.hotline = stack, step, stack.world_ami, stack.ami
        self._subs: list[Subscription] = []

    def __enter__(self) -> StepWatch:
        self._subs = [self.world.subscribe("Newchannel", self._on_ring),
                      self.world.subscribe("UserEvent", self._on_phone),
                      self.world.subscribe("Hangup", self._on_hangup),
                      self.hotline.subscribe("UserEvent", self._on_hotline)]
        return self

    def __exit__(self, *exc: object) -> None:
        for sub in self._subs:
            sub.cancel()

    def _on_ring(self, event: AmiMessage) -> None:
        number = str(event.get("CallerIDNum", ""))
        if event.get("Context") == PHONE_CONTEXT and number in self.step.calls:
            self.step.legs[str(event.get("Uniqueid", ""))] = number

    def _on_phone(self, event: AmiMessage) -> None:
        if event.get("UserEvent") != "WorldAgentAnswered":
            return
        call = self.step.calls.get(self.step.legs.get(str(event.get("WorldChannel", "")), ""))
        if call is not None and call.bridged is None:
            call.bridged = time.time()

    def _on_hangup(self, event: AmiMessage) -> None:
        number = self.step.legs.get(str(event.get("Uniqueid", "")))
        call = self.step.calls.get(number or "")
        if call is not None and call.bridged is not None and call.hung_up is None:
            call.dropped = True  # the agent's leg went while the call was held

    def _on_hotline(self, event: AmiMessage) -> None:
        kind = event.get("UserEvent")
        if kind == "HotlineCallStart":
            self.step.call_ids[str(event.get("CallId", ""))] = str(event.get("Caller", ""))
        elif kind == "HotlineRecording":
            call = self.step.calls.get(self.step.call_ids.get(str(event.get("CallId", "")), ""))
            if call is not None:
                assert self.stack.data is not None
                call.recording = self.stack.data.host(str(event.get("Path", "")))


async def _citizen(world: AmiClient, call: Call) -> None:
    """Place the citizen's call and wait for its end; an end before the bench hangs up is a drop."""
    call.started = time.time()
    try:
        origination: Origination = await world.originate(
            f"PJSIP/{call.dial}@hotline", context=CITIZEN_CONTEXT, exten="s", timeout_s=30,
            caller_id=f'"{call.number}" <{call.number}>')
        result = await origination.result(timeout=40)
        if not result.answered:
            return
        call.channel, call.connected = result.channel, time.time()
        await origination.hangup(timeout=3600)
        if call.hung_up is None:
            call.dropped = True
    except (AmiError, TimeoutError) as exc:
        progress(f"citizen {call.number} ({call.dial}) failed: {exc}")


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float, every_s: float) -> bool:
    """Poll `check` every `every_s` until it holds (True) or `timeout_s` passed (False)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(every_s)
    return True


async def _channels(stack: Stack) -> int:
    assert stack.hotline is not None
    shown = await stack.hotline.cli("core show channels count")
    found = re.search(r"(\d+) active channel", shown)
    return int(found.group(1)) if found else 0


async def hold_step(stack: Stack, step: Step, hold_s: float, kept_dir: Path,
                    on_hold: Callable[[], Awaitable[None]] | None = None) -> None:
    """Fill the step (calls paced at PACE_PER_S), wait until all are bridged, hold `hold_s`, hang up, wait for
    the hotline's channels to end. `on_hold()` runs once all calls are up, before the hold."""
    world = stack.world_ami
    assert world is not None
    tasks: dict[str, asyncio.Task[None]] = {}
    with StepWatch(stack, step):
        try:
            first = time.time()
            for i, call in enumerate(step.calls.values()):
                await asyncio.sleep(max(0.0, first + i / PACE_PER_S - time.time()))
                tasks[call.number] = asyncio.create_task(_citizen(world, call))

            async def settled() -> bool:  # every call reached an agent or ended without one
                return all(c.bridged is not None or tasks[c.number].done() for c in step.calls.values())

            await until(settled, BRIDGE_WAIT_S, 0.2)
            if on_hold is not None:
                await on_hold()
            await asyncio.sleep(hold_s)
            for call in step.calls.values():
                _keep(call, kept_dir)
            for call in step.calls.values():
                if call.channel and not tasks[call.number].done():
                    call.sent_at = time.time()
                    call.sent_s = await _sent_s(world, call.channel)
                    call.hung_up = time.time()
                    with contextlib.suppress(AmiError):
                        await world.action("Hangup", {"Channel": call.channel})

            async def cleared() -> bool:
                return await _channels(stack) == 0

            await until(cleared, CLEAR_WAIT_S, 0.3)

            async def written() -> bool:  # MixMonitor closes its files after the channel has gone
                return all(closed(c.kept) and closed(_caller_side(c)) for c in step.calls.values() if c.kept)

            await until(written, CLEAR_WAIT_S, 0.3)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)


async def _sent_s(world: AmiClient, channel: str) -> float | None:
    """Seconds of audio the citizen's phone has sent so far (its RTP packets × the 20 ms packet time); None when
    the world cannot tell."""
    with contextlib.suppress(AmiError, TimeoutError):
        reply = await world.action("Getvar", {"Channel": channel, "Variable": "CHANNEL(rtcp,txcount)"})
        value = str(reply.get("Value", ""))
        if value.isdigit():
            return int(value) * PACKET_S
    return None


def _keep(call: Call, kept_dir: Path) -> None:
    """Hard-link the call's mix and caller-side WAVs before the hang-up, so the worker deleting them once stored
    leaves the bench its own link to the finished file."""
    if call.recording is None:
        return
    try:
        for suffix in ("", "-caller"):
            os.link(call.recording.with_name(f"{call.recording.stem}{suffix}.wav"),
                    kept_dir / f"{call.number}{suffix}.wav")
    except OSError as exc:
        progress(f"recording of {call.number}: {exc}")
        return
    call.kept = kept_dir / f"{call.number}.wav"


def _caller_side(call: Call) -> Path:
    assert call.kept is not None
    return call.kept.with_name(f"{call.number}-caller.wav")


def judge(step: Step) -> dict[str, float]:
    """Check every call's recording against what its citizen sent, and what was sent against the clock; return
    the step's recording figures."""
    seconds, sizes, waits, sent_shares = [], [], [], []
    incomplete: list[str] = []
    for call in step.calls.values():
        if call.bridged is not None and call.connected is not None:
            waits.append(call.bridged - call.connected)
        if call.kept is None or call.connected is None or call.hung_up is None:
            continue
        connected_s = call.hung_up - call.connected
        sent_s = connected_s if call.sent_s is None else call.sent_s  # the world could not tell: the clock
        asked_s = (call.sent_at or call.hung_up) - call.connected  # the count is at least as late as the asking
        sent_shares.append(sent_s / asked_s if asked_s > 0 else 0.0)
        call.late = not kept_real_time(sent_s, asked_s)
        mix = _facts(call.kept)
        caller = _facts(_caller_side(call))
        call.complete = not call.dropped and recording_complete(mix, caller, sent_s)
        if not call.complete and len(incomplete) < 3:
            incomplete.append(f"{call.number}: connected {connected_s:.2f} s, sent {sent_s:.2f} s, mix {_said(mix)}, "
                              f"caller side {_said(caller)}")
        if mix is not None:
            call.seconds = mix.seconds
            seconds.append(mix.seconds)
            sizes.append(call.kept.stat().st_size)
    for line in incomplete:
        progress(f"incomplete recording {line}")
    minutes = sum(seconds) / 60
    return {"answer_to_agent_p50_s": round(percentile(waits, 50), 2),
            "answer_to_agent_p95_s": round(percentile(waits, 95), 2),
            "recording_s_avg": round(sum(seconds) / len(seconds), 1) if seconds else 0.0,
            "wav_bytes_per_min": round(sum(sizes) / minutes) if minutes else 0,
            # how much of the call the citizens' phones really sent: under 1 the machine fell behind real time
            "sent_share_p5": round(percentile(sent_shares, 5), 3),
            "sent_share_p50": round(percentile(sent_shares, 50), 3)}


def _said(facts: WavFacts | None) -> str:
    return "missing" if facts is None else f"{facts.seconds:.2f} s, {facts.silent_share:.1%} silent"


def _facts(path: Path) -> WavFacts | None:
    try:
        return wav_facts(path)
    except (OSError, ValueError) as exc:  # missing or broken file: incomplete
        progress(f"recording {path.name}: {exc}")
        return None
