"""The revisit dialer: places the robot's calls with pacing, within calling hours, inbound first.

Each tick it reads the inbound pressure (`callback.pressure`) and checks, in order: paused by an
operator (the master switch; campaigns have their own pause, kept by `RevisitTasks.due`); outside
calling hours or on a public holiday (China time, from the dialplan's calendar); inbound first
(R-ACC-8): callers waiting for an agent, or the inbound service level of the last minutes below
`revisit.service_level`, stop new calls until the pressure is off (read every 0.2 s and again before
each call, so it yields within a second); room under `max_concurrent`. Due tasks are then called at
most `calls_per_second`, each with its petitioner's opening words synthesised first (so the first
prompt plays as soon as they answer). A call that is not answered is classified from the Originate
result and the carrier's hang-up cause (`callback.outcome`); an answered one is the survey's
(`callback.flow`).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callback.early_media import NOTHING_HEARD, early_media_in_growing_wav
from callback.outcome import classify, classify_dial
from callback.pressure import Pressure
from callback.tasks import DueTask, RevisitTasks
from dialplans.dialout import DialOutGuard, DialOutRefused, DialRateExceeded
from dialplans.model import Dialplan
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient, AmiError, AmiMessage, OriginateReason
from hotline.core.audio.prompts import PromptRenderer
from hotline.core.clock import CHINA
from hotline.core.logged import logged
from hotline.core.web.health import PartHealth
from hotline.core.workers import LoopWorker

log = logging.getLogger(__name__)
CONTEXT = "hotline-revisit"
DIAL_CONTEXT = "hotline-revisit-dial"
TICK_S = 0.2
UNKNOWN = "pressure_unknown"
RATE_PAUSE_S = 60.0  # past the hour's limit of calls out: look again after this long, not every tick


@dataclass(frozen=True)
class RevisitPrompts:
    """Where a petitioner's own prompts are written (host) and played from (inside Asterisk)."""

    host: Path
    inner: str

    @staticmethod
    def name(call_id: str, part: str) -> str:
        """One call's own prompts (a retry of the same task gets new ones: calls may overlap in time)."""
        return f"{call_id}-{part}"


OPENING = "您好，我是12345市民服务热线回访人员，请问您是{name}吗？"
UNNAMED = "诉求人"  # whom the opening asks for when the task names nobody


def petitioner_texts(plan: Dialplan, task: DueTask, call_id: str) -> dict[str, str]:
    """The opening (B.4.1's greeting and "are you X?", short enough to be heard within 8 s of the answer;
    consent is asked by the shared `revisit_consent` right after it) and the contact question (which issue),
    filled in for this task."""
    name = task.salutation or UNNAMED
    topic = task.topic or "您反映的"
    opening = plan.prompts.get("revisit_opening", OPENING)
    contacted = plan.prompts.get("revisit_contacted", "针对您之前反映的{topic}问题，承办单位是否联系或尝试与您联系？")
    return {RevisitPrompts.name(call_id, "opening"): opening.replace("{name}", name),
            RevisitPrompts.name(call_id, "contacted"): contacted.replace("{topic}", topic)}


class Dialer(LoopWorker):
    """The robot's loop: a `tick()` every `TICK_S`; the calls it places run beside it."""

    name = "revisit-dialer"

    def __init__(self, tasks: RevisitTasks, ami: AmiClient, calls: CallRecords, renderer: PromptRenderer,
                 plan: Dialplan, prompts: RevisitPrompts, pressure: Callable[[], Awaitable[Pressure]],
                 to_host: Callable[[str], Path] = Path,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *, dialout: DialOutGuard) -> None:
        super().__init__()
        self._dialout = dialout
        self._tasks, self._ami, self._calls, self._renderer = tasks, ami, calls, renderer
        self._plan, self._prompts, self._pressure, self._clock = plan, prompts, pressure, clock
        self._to_host = to_host
        self.settings = plan.revisit
        self.paused = False
        self.state = "starting"
        self.yielding_to: str | None = None  # callers_waiting | service_level | pressure_unknown, while yielding
        self.pressure = Pressure()  # as last read
        self._active: set[asyncio.Task[None]] = set()
        self._next_slot = 0.0
        self._limited_until = 0.0  # past the hourly dial-out limit: no new call before this (monotonic)
        self._recovered = False

    async def close(self, grace_s: float = 15.0) -> None:
        """Stop dialling; calls still going on are cut (a restart tries their tasks again). A call that does
        not end within `grace_s` of being cut is logged with where it waits, and left behind."""
        await super().close()
        legs = list(self._active)
        for leg in legs:
            leg.cancel()
        if not legs:
            return
        _, stuck = await asyncio.wait(legs, timeout=grace_s)
        for leg in stuck:
            where = io.StringIO()
            leg.print_stack(file=where)
            log.warning("revisit call %s did not end when cut:\n%s", leg.get_name(), where.getvalue())

    async def step(self) -> float:
        if not self._recovered:
            recovered = await self._tasks.recover()
            self._recovered = True
            if recovered:
                log.warning("revisit: %d call(s) cut by a restart will be tried again", recovered)
        await self.tick()
        return TICK_S

    def health(self) -> PartHealth:
        loop = super().health()
        if not loop.ok:
            return loop
        yielding = f", yielding to {self.yielding_to}" if self.yielding_to else ""
        return PartHealth(True, f"{self.state}, {len(self._active)} call(s) going on{yielding}")

    def open_now(self) -> bool:
        """Within calling hours, and not on a public holiday unless allowed."""
        local = self._clock().astimezone(CHINA)
        if not self.settings.on_holidays and self._plan.holiday_on(local.date()) is not None:
            return False
        return self.settings.open_at(local.time())

    async def _dial_outcome(self, reason: OriginateReason, dialled: asyncio.Future[AmiMessage],
                            rang_s: float) -> tuple[str, int | None]:
        """Not answered: why, from the dial's end and the speech and tones in its early media (or, without the dial's
        report, from the Originate result alone)."""
        if not dialled.done():
            return classify(reason, 0, rang_s, self.settings.ring_timeout_s), None
        event = dialled.result()
        raw = str(event.get("Cause", "") or "0")
        cause = int(raw) if raw.isdigit() else 0
        early = self._to_host(str(event.get("Early", "")))
        try:
            heard = await asyncio.to_thread(early_media_in_growing_wav, early) if early.is_file() else NOTHING_HEARD
        except (OSError, ValueError):
            heard = NOTHING_HEARD
        status = str(event.get("Status", ""))
        return classify_dial(status, cause, heard.speech_s, rang_s, self.settings.ring_timeout_s,
                             tones=heard.tones), cause

    def status(self) -> dict[str, Any]:
        return {"state": self.state, "paused": self.paused, "active_calls": len(self._active),
                "yielding_to": self.yielding_to, "pressure": self.pressure.as_json()}

    async def _held_back(self) -> str | None:
        """Why inbound callers hold new calls back now (None: they do not); a pressure that cannot be read
        (Redis away) holds them back too: inbound first, even blind."""
        try:
            self.pressure = await self._pressure()
        except Exception:
            if self.yielding_to != UNKNOWN:
                log.warning("revisit dialer: the inbound pressure cannot be read; no new calls", exc_info=True)
            self.yielding_to = UNKNOWN
            return UNKNOWN
        self.yielding_to = self.pressure.holds_back(self.settings)
        return self.yielding_to

    async def tick(self) -> int:
        """One pass: place what may be placed now; returns how many calls were started."""
        held_back = await self._held_back()  # read even when idle: the status shows it, the window keeps up
        if self.paused:
            self.state = "paused"
            return 0
        if not self.open_now():
            self.state = "closed"
            return 0
        if held_back:
            self.state = "yielding"  # inbound first (R-ACC-8)
            return 0
        if time.monotonic() < self._limited_until:
            self.state = "rate_limited"  # the hour's calls out are spent (dial_out.per_hour.revisit)
            return 0
        self.state = "running"
        room = self.settings.max_concurrent - len(self._active)
        if room <= 0:
            return 0
        started = 0
        for task in await self._tasks.due(self._clock(), room):
            delay = self._next_slot - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.paused or await self._held_back():
                break
            if not await self._may_dial(task):
                if self.state == "rate_limited":
                    break
                continue
            self._next_slot = time.monotonic() + 1.0 / self.settings.calls_per_second
            call_id = f"revisit-{uuid.uuid4().hex[:16]}"
            if not await self._tasks.begin(task.id, call_id):
                continue
            leg = asyncio.create_task(self._call(task, call_id), name=f"revisit-{task.id}")
            self._active.add(leg)
            leg.add_done_callback(self._active.discard)
            started += 1
        return started

    def dialable(self, number: str) -> str | None:
        """Why the robot may not dial `number` (None: it may); for checking uploads before they are stored."""
        return self._dialout.policy.refusal("revisit", number)

    async def _may_dial(self, task: DueTask) -> bool:
        """The dial-out check (toll fraud): a number that may not be dialled fails its task, never rung; past
        the hour's limit the robot waits (state `rate_limited`) and the task stays due."""
        try:
            await self._dialout.check("revisit", task.number)
        except DialRateExceeded:
            self.state, self._limited_until = "rate_limited", time.monotonic() + RATE_PAUSE_S
            return False
        except DialOutRefused as exc:
            await self._tasks.refuse(task.id, exc.id)
            return False
        return True

    async def _call(self, task: DueTask, call_id: str) -> None:
        display = self._plan.centre.display_number
        dialled: asyncio.Future[AmiMessage] = asyncio.get_running_loop().create_future()
        sub = self._ami.subscribe("UserEvent", _dial_end_of(call_id, dialled))
        outcome, cause_seen = "failed", None
        spoken: dict[str, Path] = {}
        try:
            spoken = await self._renderer.render_all(petitioner_texts(self._plan, task, call_id), self._prompts.host,
                                                     cache=False)
            await self._calls.start(call_id, sip_call_id=None, caller=task.number, dialled=display,
                                    started_at=self._clock(), route_mode="revisit")
            ring = self.settings.ring_timeout_s
            origination = await self._ami.originate(
                f"Local/{task.number}@{DIAL_CONTEXT}/n", context=CONTEXT, exten="s",
                caller_id=f'"12345" <{display}>', timeout_s=ring + 10, channel_id=call_id,
                variables={"_HOTLINE_CALL_ID": call_id, "HOTLINE_REVISIT_TASK": str(task.id),
                           "_HOTLINE_RING_S": str(ring)})
            dialled_at = time.monotonic()
            result = await origination.result(timeout=ring + 25)
            rang_s = time.monotonic() - dialled_at
            if result.answered:
                await origination.hangup(timeout=3 * 3600)
                outcome = "answered"  # the survey has written what happened; if it could not, try again later
                with contextlib.suppress(TimeoutError):  # the dial's report names the early-media file to remove
                    await asyncio.wait_for(asyncio.shield(dialled), 3)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(dialled), 5)
                outcome, cause_seen = await self._dial_outcome(result.reason, dialled, rang_s)
        except (AmiError, TimeoutError) as exc:
            log.warning("revisit call %s to task %s failed: %s", call_id, task.id, exc)
            outcome = classify(OriginateReason.FAILED, 0)
        except Exception:
            log.exception("revisit call %s to task %s broke; it will be tried again", call_id, task.id)
        finally:
            sub.cancel()
            for path in spoken.values():
                path.unlink(missing_ok=True)
            if dialled.done() and not dialled.cancelled():
                self._to_host(str(dialled.result().get("Early", ""))).unlink(missing_ok=True)
            got = cause_seen
            status = await self._tasks.ended(call_id, outcome, got)
            if outcome != "answered":
                with logged(log, "writing the end of revisit call %s", call_id):
                    await self._calls.end(call_id, outcome, self._clock())
            log.info("revisit task %s, call %s: %s (cause %s) → %s", task.id, call_id, outcome, got, status)


def _dial_end_of(call_id: str, dialled: asyncio.Future[AmiMessage]) -> Callable[[AmiMessage], None]:
    def on_event(event: AmiMessage) -> None:
        if (event.get("UserEvent") == "HotlineRevisitDial" and event.get("CallId") == call_id
                and not dialled.done()):
            dialled.set_result(event)
    return on_event
