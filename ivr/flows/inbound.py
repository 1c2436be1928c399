"""The first seconds of every call: transition prompt, greeting, route, queue (R-ACC-2…5).

Reached from `[hotline-inbound]` as `agi://…/ivr/inbound?number=&mode=&skill=&failsafe=`, with the
call answered and MixMonitor already running. The caller hears a short greeting with the recording
notice and is in the queue within 5 s (GB/T 33358: no menu trees); a key pressed during a prompt
interrupts it (barge-in) and is written on the call record. A number may have one short menu
(R-ACC-3): a key picks the skill; no key, or a wrong key twice, goes to the number's own skill.
Sub-centre numbers overflow to the 12345 seats when their department's seats are closed or full.
Over capacity, a queued caller may leave a voice message instead (`ivr/flows/voice_message.py`).

Priorities (R-ACD-1 "priorities (emergencies, repeat callers, elderly lines)"): the caller's labels
(vip, elderly, repeat caller; `emergency` for a number the dialplan lists, a menu key marked emergency, or
a caller an agent flagged, `acd.emergency`) give the queue priority, the highest label counting.
The emergency hint (R-ACC-5, 004 "逐步建立12345热线与110、119、120、122等紧急热线的联动机制"; the hotline takes
"非紧急诉求"; 001 5.3 d) does not take "属于110、119、120、122等紧急热线电话受理范围的诉求") is the number's
`emergency_hint` prompt, played once the caller is queued: it tells them to dial the emergency line
without delaying their place in the queue (GB/T 33358: in the queue within 5 s).

Hot-issue announcements (热点播报, `ivr/announcements/`) in force for the line dialled play right after the
greeting, each once, as part of it: a key skips them (and counts as a barge-in key), and the call's path
notes each (`announcement` with its id). They are read while the greeting plays; a database that fails never
delays or stops the call (`ActiveAnnouncements`), and one whose audio file is gone is passed over.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from acd.emergency import EmergencyFlags
from acd.store import SkillLoad
from dialplans.model import Dialplan, Menu, Number
from dialplans.render import QUEUE_CONTEXT
from hotline.calls.caller_lists import NUMBER, CallerLists, CallerStanding
from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCall, AgiCommandError, AgiHangup
from hotline.core.clock import china_day, china_today
from hotline.core.privacy import mask_number
from ivr.announcements.active import Playing
from ivr.flows.voice_message import VoiceMessages

log = logging.getLogger(__name__)

KEYS = "0123456789*#"
ANNOUNCEMENT = "announcement:"  # a hot-issue announcement among the prompts heard: announcement:<id>


class Queue(Protocol):
    """Where callers wait for an agent (the ACD)."""

    async def enqueue(self, call_id: str, *, channel: str, skill: str, caller: str, priority: int = 0,
                      flags: str = "") -> None: ...

    async def skill_load(self, skill: str) -> SkillLoad: ...

    async def queued_skill(self, call_id: str) -> str | None:
        """The skill a caller the queue already holds (waiting, offered, with an agent) is queued for."""


class Announced(Protocol):
    """The hot-issue announcements in force (ivr.announcements.active.ActiveAnnouncements); never raises."""

    async def for_line(self, line: str, now: datetime) -> list[Playing]: ...


def measure_detail(standing: CallerStanding) -> dict[str, object]:
    """The measure in force on the caller, as written on the call record (the agent's call view shows it)."""
    m = standing.measure
    assert m is not None
    return {"measure": m.measure, "decision": m.id, "until": m.ends_at.isoformat() if m.ends_at else None}


@dataclass(frozen=True)
class InboundFlow:
    """Call flow for citizens' inbound calls; one instance serves every call."""

    calls: CallRecords
    sounds_dir: str
    dialplan: Dialplan
    queue: Queue
    lists: CallerLists
    messages: VoiceMessages | None = None  # over capacity: a voice message instead of the wait
    emergencies: EmergencyFlags | None = None  # callers agents flagged as emergencies
    announcements: Announced | None = None  # hot-issue announcements, after the greeting

    async def _resume(self, call: AgiCall, call_id: str, skill: str) -> None:
        """The call's flow broke on another service instance after it was queued (the dialplan ran it again
        here): back to the queue at once, keeping the caller's place, their record and what they chose."""
        log.info("call %s resumed on this instance: back to its place in the queue for %s", call_id, skill)
        await call.set_variable("HOTLINE_SKILL", skill)
        await call.set_variable("HOTLINE_NEXT", QUEUE_CONTEXT)
        await self.calls.step(call_id, "resumed", {"skill": skill})

    def _prompt(self, key: str) -> str:
        return f"{self.sounds_dir}/{key}"

    async def __call__(self, call: AgiCall) -> None:
        call_id = call.env.get("agi_uniqueid", "")
        caller = call.env.get("agi_callerid", "") or "anonymous"
        dialled = call.params.get("number") or call.env.get("agi_extension", "")
        number = self.dialplan.number(dialled)
        now = datetime.now(UTC)
        first_prompt = self._first_prompt(number, now)
        # Only a flow run again on this instance (`retry`: the one before broke) may find its caller queued; a
        # first run touches Redis only after the greeting (a stalled Redis must not silence it, issue 15).
        if call.params.get("retry") and (held := await self.queue.queued_skill(call_id)) is not None:
            await self._resume(call, call_id, held)
            return
        log.info("call %s from %s to %s", call_id, mask_number(caller), dialled)
        sip_call_id = await call.get_full_variable("${CHANNEL(pjsip,call-id)}") or None
        # The record is written while the first prompt plays: the caller never waits for the database.
        opened = asyncio.create_task(self._open_record(call, call_id, sip_call_id, caller, dialled, first_prompt, now))
        news = asyncio.create_task(self._announced(dialled, now))  # read while the greeting plays
        try:
            standing = await self._standing(caller, call_id, now)
            if standing.blocked or standing.refused:
                news.cancel()
                await self._refuse(call, call_id, opened, standing)
                return
            keys = await self._greet(call, number, first_prompt, warn=standing.watched, news=news)
            await opened
            await self._record_prompts(call_id, first_prompt, keys, news.result())
            labels = standing.labels()
            if await self._emergency_caller(caller):
                labels = sorted({*labels, "emergency"})
            if labels:
                await self.calls.step(call_id, "caller_lists", {"labels": labels})
                await call.set_variable("HOTLINE_CALLER_FLAGS", ",".join(labels))
            if standing.measure is not None:
                await self.calls.step(call_id, "measure", measure_detail(standing))
            skill = call.params.get("skill") or "general"
            if number is not None and number.menu is not None:
                picked, key = await self._menu(call, call_id, number.menu, keys)
                skill = picked or skill
                if key in number.menu.emergency and "emergency" not in labels:
                    labels = sorted({*labels, "emergency"})
                    await self.calls.step(call_id, "emergency_key", {"key": key})
            skill = await self._route(call_id, number, skill)
            priority = self.dialplan.priorities.of(labels)
            await self.queue.enqueue(call_id, channel=call.env.get("agi_channel", ""), skill=skill, caller=caller,
                                     priority=priority, flags=",".join(labels))
            await call.set_variable("HOTLINE_SKILL", skill)
            await call.set_variable("HOTLINE_NEXT", QUEUE_CONTEXT)
            await self.calls.step(call_id, "queued", {"skill": skill, "priority": priority})
            await self.calls.set_outcome(call_id, "queued")
            try:
                if number is not None and number.emergency_hint:
                    await self._hint(call, call_id, number.emergency_hint)
                if self.messages is not None:
                    await self.messages.offer(call, call_id, caller, skill)
            except AgiHangup:
                return  # an agent's bridge took the queued caller mid-prompt, or they hung up: both are recorded
        except AgiHangup:
            news.cancel()
            await opened
            await self.calls.end(call_id, "abandoned", datetime.now(UTC))
            raise
        except Exception as exc:
            news.cancel()
            if not opened.done():
                opened.cancel()
            await self.calls.end(call_id, "failsafe", datetime.now(UTC), failsafe_reason=type(exc).__name__)
            raise

    async def _emergency_caller(self, caller: str) -> bool:
        """A number the dialplan lists as an emergency line, or a caller an agent flagged (R-ACD-1)."""
        if not NUMBER.match(caller):
            return False
        if self.dialplan.priorities.emergency_caller(caller):
            return True
        return self.emergencies is not None and await self.emergencies.flagged(caller)

    async def _hint(self, call: AgiCall, call_id: str, prompt: str) -> None:
        """The emergency hint (R-ACC-5), heard in the queue: an agent's bridge may take the caller mid-way."""
        await self.calls.step(call_id, "emergency_hint", {"prompt": prompt})
        await call.stream_file(self._prompt(prompt))

    async def _standing(self, caller: str, call_id: str, now: datetime) -> CallerStanding:
        if not NUMBER.match(caller):
            return CallerStanding(frozenset(), repeat_caller=False)
        return await self.lists.standing(caller, exclude_call=call_id, now=now)

    async def _refuse(self, call: AgiCall, call_id: str, opened: asyncio.Task[None], standing: CallerStanding) -> None:
        """A blocked number, or one under a pause / stop / suspension of service while it lasts, hears a polite
        refusal and the call ends (R-ACC-7: "可启动对应的“暂停/停止/中止”等程序")."""
        await opened
        if standing.blocked or standing.measure is None:
            await self.calls.step(call_id, "blocked", {"prompt": "blocked"})
            await self.calls.set_outcome(call_id, "blocked")
            prompt = "blocked"
        else:
            await self.calls.step(call_id, "measure", {"prompt": "service_suspended", **measure_detail(standing)})
            await self.calls.set_outcome(call_id, f"measure_{standing.measure.measure}")
            prompt = "service_suspended"
        await call.stream_file(self._prompt(prompt))
        await call.hangup()

    async def _open_record(self, call: AgiCall, call_id: str, sip_call_id: str | None, caller: str, dialled: str,
                           prompt: str, now: datetime) -> None:
        await self.calls.start(call_id, sip_call_id=sip_call_id, caller=caller, dialled=dialled, started_at=now)
        await self.calls.answered(call_id, now)
        await self.calls.route(call_id, call.params.get("mode", "main"), call.params.get("skill") or None, prompt)

    def _first_prompt(self, number: Number | None, now: datetime) -> str:
        """Transition prompt for a whole-merge number in its window, else the (holiday) greeting."""
        today = china_day(now)
        if number is not None and number.transition is not None and number.transition.contains(today):
            return "transition"
        return self._greeting(today)

    def _greeting(self, today: date) -> str:
        holiday = self.dialplan.holiday_on(today)
        if holiday is not None and holiday.greeting != "none":
            return f"greeting_{holiday.greeting}"
        return "greeting"

    async def _announced(self, line: str, now: datetime) -> list[Playing]:
        if self.announcements is None:
            return []
        try:
            return await self.announcements.for_line(line, now)
        except Exception:  # never a reason to drop a call
            log.exception("announcements for %s not read; the call goes on without them", line)
            return []

    async def _greet(self, call: AgiCall, number: Number | None, first_prompt: str, *, warn: bool,
                     news: asyncio.Task[list[Playing]]) -> list[tuple[str, str | None]]:
        """Play the prompts, then the announcements in force; each can be interrupted by a key (a key during
        an announcement skips the others). Returns (prompt, key) in order; an announcement's prompt is
        `announcement:<id>`."""
        greeting = [first_prompt]
        if first_prompt == "transition":
            greeting.append(self._greeting(china_today()))
        heard: list[tuple[str, str | None]] = []
        for prompt in greeting:
            key = await call.stream_file(self._prompt(prompt), escape_digits=KEYS)
            heard.append((prompt, key))
        for playing in await news:
            try:
                key = await call.stream_file(playing.sound, escape_digits=KEYS)
            except AgiCommandError:  # its audio is gone: the caller goes on without it
                log.warning("announcement %s not played (%s missing?)", playing.id, playing.sound)
                continue
            heard.append((f"{ANNOUNCEMENT}{playing.id}", key))
            if key:
                break
        if warn:
            key = await call.stream_file(self._prompt("watch_warning"), escape_digits=KEYS)
            heard.append(("watch_warning", key))
        return heard

    async def _record_prompts(self, call_id: str, first_prompt: str, heard: list[tuple[str, str | None]],
                              news: list[Playing]) -> None:
        told = {f"{ANNOUNCEMENT}{p.id}": p for p in news}
        for prompt, key in heard:
            if (playing := told.get(prompt)) is not None:
                await self.calls.step(call_id, "announcement", {"id": playing.id, "title": playing.title,
                                                                "audio": playing.audio, "key": key})
                continue
            step = "transition" if prompt == "transition" else "greeting" if prompt.startswith("greeting") else prompt
            await self.calls.step(call_id, step, {"prompt": prompt, "key": key})
        keys = "".join(k for _, k in heard if k)
        if keys:
            # Keys are noted (the caller may be impatient); a number's menu may use the first one.
            await self.calls.step(call_id, "digit", {"digit": keys[0], "keys": keys, "barge_in": True})

    async def _menu(self, call: AgiCall, call_id: str, menu: Menu,
                    heard: list[tuple[str, str | None]]) -> tuple[str | None, str | None]:
        """(The skill the caller picked, its key); (None, None), the number's own skill, after no key or two
        wrong ones."""
        early = next((k for _, k in heard if k), None)
        if menu.skill_for(early) is not None:  # keyed during the greeting: barge-in counts
            await self.calls.step(call_id, "menu_key", {"key": early, "valid": True, "barge_in": True})
            return menu.skill_for(early), early
        for attempt in (1, 2):
            await self.calls.step(call_id, "menu", {"prompt": menu.prompt, "attempt": attempt})
            key = await call.stream_file(self._prompt(menu.prompt), escape_digits=KEYS)
            if key is None:
                key = await call.wait_for_digit(menu.timeout_s * 1000)
            chosen = menu.skill_for(key)
            await self.calls.step(call_id, "menu_key", {"key": key, "valid": chosen is not None})
            if chosen is not None or key is None:
                return chosen, key if chosen is not None else None  # no key: straight to the queue
            if attempt == 1:
                await call.stream_file(self._prompt("menu_invalid"))
        return None, None

    async def _route(self, call_id: str, number: Number | None, skill: str) -> str:
        """The skill the caller queues for; sub-centre calls overflow to 12345 when closed or full."""
        if number is None or number.mode != "sub_centre":
            return skill
        load = await self.queue.skill_load(skill)
        reason = "closed" if load.staffed == 0 else "full" if load.waiting >= number.full_at else None
        if reason is None:
            return skill
        main = self.dialplan.number(number.overflow or self.dialplan.centre.main_number)
        target = main.skill if main is not None else "general"
        await self.calls.overflow(call_id, target, reason)
        await self.calls.step(call_id, "overflow", {"from": skill, "to": target, "reason": reason})
        log.info("call %s overflows from %s to %s (%s)", call_id, skill, target, reason)
        return target
