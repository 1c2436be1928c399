"""The silent-caller procedure (R-ACC-6, 000 D.4.1), so an agent need not spend a minute on dead air.

An agent who hears nothing hands the caller over (`POST /api/calls/{id}/silent`); the caller is
redirected to `[hotline-silent]`, which runs `agi://…/ivr/silent?call=<call id>`: "您好，请问有什么可以
帮您？" and a few seconds of listening, three times. Speech (webrtcvad on the caller's recorded audio)
or any key sends the caller back to the front of the queue; three silent rounds end with the
"cannot hear you" goodbye and a hang-up.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCall
from hotline.core.audio.speech import detect_speech
from ivr.flows.inbound import KEYS, Queue
from ivr.flows.requeue import back_to_queue

log = logging.getLogger(__name__)

ROUNDS = 3
LISTEN_MS = 4000

@dataclass(frozen=True)
class SilentCallerFlow:
    """Asks a silent caller three times, listening in between."""

    calls: CallRecords
    sounds_dir: str
    listen_dir: str  # inside the Asterisk root
    to_host_path: Callable[[str], Path]
    queue: Queue

    async def __call__(self, call: AgiCall) -> None:
        call_id = call.params.get("call") or call.env.get("agi_uniqueid", "")
        for attempt in range(1, ROUNDS + 1):
            await self.calls.step(call_id, "silent_prompt", {"attempt": attempt})
            key = await call.stream_file(f"{self.sounds_dir}/silent_prompt", escape_digits=KEYS)
            heard = key or await self._listen(call)
            if heard:
                await self.calls.step(call_id, "silent_check_passed", {"attempt": attempt, "heard": heard})
                await back_to_queue(call, self.queue, call_id, call.params.get("skill") or "general")
                return
        await self.calls.step(call_id, "silent_goodbye", {"rounds": ROUNDS})
        await self.calls.set_outcome(call_id, "silent_caller")
        await call.stream_file(f"{self.sounds_dir}/silent_goodbye")
        await call.hangup()

    async def _listen(self, call: AgiCall) -> str | None:
        """'speech' or the key pressed while listening, or None for silence."""
        name = f"{self.listen_dir}/{uuid.uuid4().hex}"
        key = await call.record_file(name, LISTEN_MS, escape_digits=KEYS)
        if key:
            return key
        host = self.to_host_path(f"{name}.wav")
        try:
            return "speech" if detect_speech(host).has_speech else None
        except (OSError, ValueError) as exc:  # no audio at all: treat as silence, never as a crash
            log.warning("cannot analyse the caller's audio %s: %s", host, exc)
            return None
        finally:
            with contextlib.suppress(FileNotFoundError):
                host.unlink()
