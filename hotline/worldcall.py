"""A citizen's test call from the simulated world into the hotline, and what came of it.

Used by `hotline call` and by the end-to-end tests: originate from the world instance into the
hotline trunk, press keys once the first prompt has finished, record what the citizen heard,
then read the hotline's call record for the same SIP Call-ID.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.asterisk.ami import AmiClient, AmiMessage
from hotline.db.calls import CallRecords, CallView
from hotline.speech import SpeechReport, detect_speech


@dataclass
class CallOutcome:
    """What happened on one test call, from the citizen's side and the hotline's record."""

    number: str
    caller: str
    answered: bool
    originate_result: str
    world_channel_id: str
    sip_call_id: str | None
    heard_audio: Path
    dtmf_sent: str | None
    speech: SpeechReport | None
    record: CallView | None
    events: list[str] = field(default_factory=list)

    @property
    def call_id(self) -> str | None:
        return self.record.call_id if self.record else None

    def to_json(self) -> dict[str, Any]:
        record = self.record.to_json() if self.record else None
        return {
            "call_id": self.call_id,
            "number": self.number,
            "caller": self.caller,
            "answered": self.answered,
            "originate_result": self.originate_result,
            "sip_call_id": self.sip_call_id,
            "heard_audio": str(self.heard_audio),
            "heard": self.speech.to_json() if self.speech else None,
            "dtmf_sent": self.dtmf_sent,
            "digit_received": _digit(record),
            "steps": [s["step"] for s in record["steps"]] if record else [],
            "recordings": record["recordings"] if record else [],
            "record": record,
            "events": self.events,
        }


def _digit(record: dict[str, Any] | None) -> str | None:
    for step in (record or {}).get("steps", []):
        if step["step"] == "digit":
            return step.get("detail", {}).get("digit")
    return None


class WorldCaller:
    """Places citizens' calls from the world instance."""

    def __init__(self, ami: AmiClient, heard_dir_inner: str, to_host_path: Callable[[str], Path],
                 calls: CallRecords) -> None:
        self._ami = ami
        self._heard_dir = heard_dir_inner
        self._host = to_host_path
        self._calls = calls

    async def call(self, number: str, caller: str, *, dtmf: str = "", listen_s: int = 20,
                   timeout_s: float = 60.0) -> CallOutcome:
        """Call `number` as `caller`; press `dtmf` after the first prompt; wait for the end."""
        channel_id = uuid.uuid4().hex
        heard_inner = f"{self._heard_dir}/{channel_id}.wav"
        events: list[str] = []
        sip_call_id: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        dtmf_sent: list[str] = []

        def on_user_event(event: AmiMessage) -> None:
            if event.get("WorldChannel") != channel_id:
                return
            name = event.get("UserEvent", "")
            events.append(name)
            if name == "WorldCallAnswered" and not sip_call_id.done():
                sip_call_id.set_result(event.get("SipCallId", ""))
            elif name == "WorldDtmfSent":
                dtmf_sent.append(event.get("Digits", ""))

        sub = self._ami.subscribe("UserEvent", on_user_event)
        try:
            origination = await self._ami.originate(
                f"PJSIP/{number}@hotline", context="world-caller", exten="s", priority=1,
                caller_id=f'"{caller}" <{caller}>', channel_id=channel_id, timeout_s=30,
                variables={"WORLD_HEARD": heard_inner, "WORLD_DTMF": dtmf, "WORLD_LISTEN": str(listen_s)},
            )
            result = await origination.result(timeout=timeout_s)
            answered = result.answered
            if answered:
                await origination.hangup(timeout=timeout_s)
        finally:
            sub.cancel()
        sip = sip_call_id.result() if sip_call_id.done() else None
        record = await self._find_record(sip) if sip else None
        heard = self._host(heard_inner)
        speech = detect_speech(heard) if heard.exists() else None
        return CallOutcome(
            number=number, caller=caller, answered=answered, originate_result=result.reason.name,
            world_channel_id=channel_id, sip_call_id=sip, heard_audio=heard,
            dtmf_sent=dtmf_sent[0] if dtmf_sent else None, speech=speech, record=record, events=events,
        )

    async def _find_record(self, sip_call_id: str, wait_s: float = 5.0) -> CallView | None:
        """The hotline's record for this SIP call, once its end has been written."""
        deadline = asyncio.get_running_loop().time() + wait_s
        found: CallView | None = None
        while asyncio.get_running_loop().time() < deadline:
            rows = await self._calls.list(sip_call_id=sip_call_id, limit=1)
            found = rows[0] if rows else None
            if found is not None and found.ended_at is not None:
                return found
            await asyncio.sleep(0.1)
        return found
