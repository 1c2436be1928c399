"""A citizen's test call from the simulated world into the hotline, and what came of it.

Used by `hotline call` and by the end-to-end tests: originate from the world instance into the
hotline trunk, follow a citizen's script (hear, wait, press keys, hang up), record what the
citizen heard, then read the hotline's call record for the same SIP Call-ID.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hotline.calls.records import CallRecords, CallView
from hotline.core.asterisk.ami import AmiClient, AmiMessage
from hotline.core.audio.speech import SpeechReport, detect_speech


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
            "path": describe_path(record),
            "recordings": record["recordings"] if record else [],
            "record": record,
            "events": self.events,
        }


def describe_path(record: dict[str, Any] | None) -> list[str]:
    """The call's path for a person: seconds after answer, step, what was heard or pressed."""
    if not record or not record.get("answered_at"):
        return []
    answered = datetime.fromisoformat(record["answered_at"])
    lines = []
    for step in record["steps"]:
        offset = (datetime.fromisoformat(step["at"]) - answered).total_seconds()
        detail = ", ".join(f"{k} {v}" for k, v in step.get("detail", {}).items() if v not in (None, "", False))
        lines.append(f"+{offset:.1f}s  {step['step']}" + (f"  ({detail})" if detail else ""))
    return lines


def _digit(record: dict[str, Any] | None) -> str | None:
    for step in (record or {}).get("steps", []):
        if step["step"] == "digit":
            return step.get("detail", {}).get("digit")
    return None


def citizen_script(dtmf: str = "", listen_s: int = 20) -> str:
    """The usual citizen: hears the greeting start, presses `dtmf` a second in (barge-in), listens on."""
    if not dtmf:
        return f"wait:{listen_s}"
    return f"noise/wait:1/dtmf:{dtmf}/wait:{listen_s}"


class WorldCall:
    """A citizen's call in progress; keys can be pressed while it runs."""

    def __init__(self, caller: WorldCaller, number: str, citizen: str, channel_id: str, heard_inner: str) -> None:
        self._caller = caller
        self.number = number
        self.citizen = citizen
        self.channel_id = channel_id
        self.heard_inner = heard_inner
        self.events: list[str] = []
        self.dtmf_sent: list[str] = []
        self._answered: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[tuple[bool, str]] | None = None

    def on_user_event(self, event: AmiMessage) -> None:
        if event.get("WorldChannel") != self.channel_id:
            return
        name = event.get("UserEvent", "")
        self.events.append(name)
        if name == "WorldCallAnswered" and not self._answered.done():
            self._answered.set_result((event.get("Name", ""), event.get("SipCallId", "")))
        elif name == "WorldDtmfSent":
            self.dtmf_sent.append(event.get("Digits", ""))

    async def answered(self, timeout: float = 30.0) -> str:
        """Wait until the hotline answered; the SIP Call-ID of the call."""
        return (await asyncio.wait_for(asyncio.shield(self._answered), timeout))[1]

    async def press(self, keys: str) -> None:
        """The citizen presses keys now (RFC 4733 from the world's side)."""
        name = (await asyncio.wait_for(asyncio.shield(self._answered), 30))[0]
        for key in keys:
            await self._caller.ami.action("PlayDTMF", {"Channel": name, "Digit": key, "Duration": "200"})
            self.dtmf_sent.append(key)
            await asyncio.sleep(0.3)

    async def hangup(self) -> None:
        """The citizen hangs up."""
        name = (await asyncio.wait_for(asyncio.shield(self._answered), 30))[0]
        await self._caller.ami.action("Hangup", {"Channel": name})

    async def outcome(self) -> CallOutcome:
        """Wait for the end of the call and collect what happened."""
        assert self._task is not None
        answered, reason = await self._task
        sip = self._answered.result()[1] if self._answered.done() else None
        record = await self._caller.find_record(sip) if sip else None
        heard = self._caller.host(self.heard_inner)
        speech = detect_speech(heard) if heard.exists() else None
        return CallOutcome(
            number=self.number, caller=self.citizen, answered=answered, originate_result=reason,
            world_channel_id=self.channel_id, sip_call_id=sip, heard_audio=heard,
            dtmf_sent="".join(self.dtmf_sent) or None, speech=speech, record=record, events=self.events,
        )


class WorldCaller:
    """Places citizens' calls from the world instance."""

    def __init__(self, ami: AmiClient, heard_dir_inner: str, to_host_path: Callable[[str], Path],
                 calls: CallRecords) -> None:
        self.ami = ami
        self._heard_dir = heard_dir_inner
        self.host = to_host_path
        self._calls = calls

    async def call(self, number: str, caller: str, *, dtmf: str = "", listen_s: int = 20,
                   script: str | None = None, timeout_s: float = 60.0) -> CallOutcome:
        """Call `number` as `caller`, follow the script (default: press `dtmf` during the greeting)."""
        call = await self.start(number, caller, script=script or citizen_script(dtmf, listen_s), timeout_s=timeout_s)
        return await call.outcome()

    async def start(self, number: str, caller: str, *, script: str, timeout_s: float = 60.0,
                    via: str = "hotline") -> WorldCall:
        """Place the call and return at once; the citizen follows `script` (see the world's dialplan).
        `via` is the world's endpoint it goes out on: the carrier trunk, or an agent's phone (`phone-8001`)."""
        channel_id = uuid.uuid4().hex
        call = WorldCall(self, number, caller, channel_id, f"{self._heard_dir}/{channel_id}.wav")
        sub = self.ami.subscribe("UserEvent", call.on_user_event)
        origination = await self.ami.originate(
            f"PJSIP/{number}@{via}", context="world-caller", exten="s", priority=1,
            caller_id=f'"{caller}" <{caller}>', channel_id=channel_id, timeout_s=30,
            variables={"WORLD_HEARD": call.heard_inner, "WORLD_SCRIPT": script},
        )

        async def run() -> tuple[bool, str]:
            try:
                result = await origination.result(timeout=timeout_s)
                if result.answered:
                    await origination.hangup(timeout=timeout_s)
                return result.answered, result.reason.name
            finally:
                sub.cancel()

        call._task = asyncio.create_task(run(), name=f"world-call-{channel_id[:8]}")
        return call

    async def find_record(self, sip_call_id: str, wait_s: float = 5.0) -> CallView | None:
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
