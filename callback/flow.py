"""The revisit robot's conversation (R-REV-3, Beijing draft B.4), by keypad, in Chinese.

Reached from `[hotline-revisit]` as `agi://…/ivr/revisit?call=<call id>` once the petitioner answers.
Opening (B.4.1, "您好，我是12345市民服务热线回访人员，请问您是XX先生/女士吗？", heard within 8 s of the
answer) and at once the consent keys ("本次联系您是为了做回访调查。是本人并同意请按1…"; a key during either
counts), then: did the unit contact you (1/2), is it solved (1/2), how satisfied
(1–5, the rating's labels), and for 4–5 which aspect (efficiency / attitude / quality); closing words.
Neutral wording, every option read out (5.5.4). A question is asked again once on silence or a wrong
key; 0 at any point hands the petitioner to a person (the ACD's revisit skill). Each answer is stored
as it is given, so a hang-up mid-survey keeps what was said.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from callback.dialer import RevisitPrompts
from callback.tasks import RevisitTasks
from dialplans.render import QUEUE_CONTEXT
from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCall, AgiHangup
from hotline.core.audio.speech import speech_in_growing_wav

log = logging.getLogger(__name__)

KEY_WAIT_MS = 6000
MACHINE_SPEECH_S = 4.0  # a person says 喂 and waits; a recorded greeting talks on
TO_PERSON = "0"
ASPECTS = {"1": "efficiency", "2": "attitude", "3": "quality"}


class RevisitQueue(Protocol):
    async def enqueue(self, call_id: str, *, channel: str, skill: str, caller: str, priority: int = 0) -> None: ...


class WantsPerson(Exception):
    """The petitioner pressed 0."""


class NoAnswer(Exception):
    """Twice nothing (or nothing valid)."""


@dataclass(frozen=True)
class RevisitFlow:
    calls: CallRecords
    tasks: RevisitTasks
    queue: RevisitQueue
    sounds_dir: str
    prompts: RevisitPrompts
    labels: tuple[str, ...]  # satisfaction 1..5, the same as the post-call rating
    to_host: Callable[[str], Path]  # recordings are written inside the Asterisk root
    skill: str = "revisit"

    async def __call__(self, call: AgiCall) -> None:
        call_id = call.params.get("call") or call.env.get("agi_uniqueid", "")
        task = await self.tasks.for_call(call_id)
        if task is None:
            log.error("revisit call %s has no task; hanging up politely", call_id)
            await call.stream_file(f"{self.sounds_dir}/revisit_closing")
            return
        outcome = "hung_up"
        try:
            outcome = await self._survey(call, call_id)
            if outcome == "human":
                outcome = "hung_up"  # until the petitioner is in the queue
                await self._to_person(call, call_id, task.number)
                outcome = "human"
        except AgiHangup:
            log.info("petitioner hung up during revisit %s", call_id)
        finally:
            await self.calls.step(call_id, "revisit_outcome", {"outcome": outcome})
            await self.tasks.ended(call_id, outcome)

    async def _survey(self, call: AgiCall, call_id: str) -> str:
        try:
            opening = f"{self.prompts.inner}/{RevisitPrompts.name(call_id, 'opening')}"
            consent = await self._ask(call, call_id, "consent", opening, "12",
                                      then=f"{self.sounds_dir}/revisit_consent")
            if consent == "2":
                await self.tasks.answer(call_id, "consent", False)
                await call.stream_file(f"{self.sounds_dir}/revisit_declined")
                return "refused"
            await self.tasks.answer(call_id, "consent", True)
            contacted = await self._ask(call, call_id, "contacted", f"{self.prompts.inner}/"
                                        f"{RevisitPrompts.name(call_id, 'contacted')}", "12")
            await self.tasks.answer(call_id, "contacted", contacted == "1")
            solved = await self._ask(call, call_id, "solved", f"{self.sounds_dir}/revisit_solved", "12")
            await self.tasks.answer(call_id, "solved", solved == "1")
            level = int(await self._ask(call, call_id, "satisfaction", f"{self.sounds_dir}/revisit_satisfaction",
                                        "12345"))
            await self.tasks.answer(call_id, "satisfaction", {"level": level, "label": self.labels[level - 1]})
            if level >= 4:
                aspect = await self._ask(call, call_id, "aspect", f"{self.sounds_dir}/revisit_aspect", "123")
                await self.tasks.answer(call_id, "aspect", ASPECTS[aspect])
        except WantsPerson:
            return "human"
        except NoAnswer:
            if await self._machine_answered(call, call_id):
                return "machine"
            await call.stream_file(f"{self.sounds_dir}/revisit_closing")
            return "no_input"
        await call.stream_file(f"{self.sounds_dir}/revisit_closing")
        return "completed"

    async def _ask(self, call: AgiCall, call_id: str, question: str, prompt: str, valid: str,
                   then: str | None = None) -> str:
        """A valid key for `question`; asked at most twice. WantsPerson on 0, NoAnswer after two misses. With
        `then` (the keys to press) the first asking plays `prompt` and `then`, the second `then` alone; a key
        during either counts."""
        for attempt in (1, 2):
            await self.calls.step(call_id, "revisit_ask", {"question": question, "attempt": attempt})
            key = None
            for part in ([prompt] if then is None else [prompt, then] if attempt == 1 else [then]):
                key = await call.stream_file(part, escape_digits=valid + TO_PERSON)
                if key is not None:
                    break
            if key is None:
                key = await call.wait_for_digit(KEY_WAIT_MS)
            await self.calls.step(call_id, "revisit_key", {"question": question, "key": key})
            if key == TO_PERSON:
                raise WantsPerson
            if key is not None and key in valid:
                return key
            if attempt == 1:
                await call.stream_file(f"{self.sounds_dir}/revisit_repeat")
        raise NoAnswer

    async def _machine_answered(self, call: AgiCall, call_id: str) -> bool:
        """No key at all, but the far end kept talking: a voicemail greeting or an operator's announcement
        rather than a person (webrtcvad on the petitioner's side of the recording made so far)."""
        base = await call.get_variable("HOTLINE_REC_BASE")
        if not base:
            return False
        try:
            speech = await asyncio.to_thread(speech_in_growing_wav, self.to_host(f"{base}-caller.wav"))
        except (OSError, ValueError) as exc:
            log.warning("revisit %s: petitioner audio unreadable (%s)", call_id, exc)
            return False
        await self.calls.step(call_id, "revisit_far_end", {"speech_s": round(speech, 1)})
        return speech >= MACHINE_SPEECH_S

    async def _to_person(self, call: AgiCall, call_id: str, number: str) -> None:
        """Queue the petitioner for a revisit agent; the dialplan takes them to the waiting room."""
        await call.stream_file(f"{self.sounds_dir}/revisit_to_person")
        await self.queue.enqueue(call_id, channel=call.env.get("agi_channel", ""), skill=self.skill, caller=number,
                                 priority=1)
        await call.set_variable("HOTLINE_SKILL", self.skill)
        await call.set_variable("HOTLINE_NEXT", QUEUE_CONTEXT)
