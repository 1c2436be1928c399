"""Urgent tickets ring the handling unit (R-TKT-4; Beijing 5.3.2.1.5 and B.2).

The agent's own phone rings first (they are paused in the ACD meanwhile, so no citizen is offered to
them), then the unit's duty phone, which hears the opening words with the agent's work number and the
ticket's title before the agent speaks. The call is recorded; its start and outcome go on the
ticket's timeline. The agent's state is restored afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from dialplans.calendar import CHINA
from dialplans.dialout import DialOutGuard
from dialplans.model import Dialplan
from hotline.calls.records import CallRecords
from hotline.core.asterisk.ami import AmiClient, AmiMessage
from hotline.core.audio.prompts import PromptRenderer
from hotline.core.errors import Conflict
from hotline.core.logged import logged
from tickets.alerts import URGENT
from tickets.service import Tickets, TicketView

log = logging.getLogger(__name__)

FREE_STATES = frozenset({"ready", "wrap_up", "paused"})
CONTEXT = "hotline-duty-call"


class DutyCallRefused(Conflict):
    """The ticket is not urgent or not submitted, its unit has no duty phone, or the phone is busy."""

    error_id = "duty_call_refused"


class AgentStates(Protocol):
    async def agents(self) -> dict[str, dict[str, str]]: ...

    async def set_agent_state(self, agent: str, state: str, reason: str = "") -> bool: ...


@dataclass(frozen=True)
class DutyCallPlaces:
    """Where the opening words are written (host path) and played / recorded from (inside Asterisk)."""

    prompts_host: Path
    prompts_inner: str
    recordings_inner: str
    recordings_host: Path  # the same folder seen from the host (where the recording worker reads)


class DutyCaller:
    def __init__(self, ami: AmiClient, agents: AgentStates, tickets: Tickets, renderer: PromptRenderer,
                 plan: Dialplan, places: DutyCallPlaces, calls: CallRecords, dialout: DialOutGuard) -> None:
        self._ami, self._agents, self._tickets, self._renderer = ami, agents, tickets, renderer
        self._dialout = dialout
        self._calls = calls
        self._plan, self._places = plan, places
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, ticket: TicketView, phone: str, by: str) -> dict[str, str]:
        """Check and begin the call; it goes on in the background. Returns the unit and its number."""
        row = ticket.row
        if row.status in ("draft", "closed") or row.urgency not in URGENT:
            raise DutyCallRefused(f"ticket {row.number} is {row.status} / {row.urgency}: only submitted urgent "
                                  "tickets ring the handling unit")
        unit = self._plan.unit(row.handling_unit)
        if unit is None:
            raise DutyCallRefused(f"no duty phone for handling unit '{row.handling_unit}' (units: in the dialplan)")
        state = (await self._agents.agents()).get(phone)  # the ACD's agents: the directory's active ones
        if state is None and phone not in {sup.id for sup in self._plan.supervisors}:
            raise DutyCallRefused(f"no phone {phone} among the agents and supervisors")
        if state is not None and state.get("state") not in FREE_STATES:
            raise DutyCallRefused(f"phone {phone} is {state.get('state')}; try when the call has ended")
        await self._dialout.check("duty_call", unit.duty_number, agent=phone)  # nothing rings when refused
        task = asyncio.create_task(self._call(ticket, unit.name, unit.duty_number, phone, by, state))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"ticket": row.number, "unit": unit.name, "duty_number": unit.duty_number, "phone": phone}

    async def _call(self, ticket: TicketView, unit: str, duty_number: str, phone: str, by: str,
                    agent_state: dict[str, str] | None) -> None:
        row, key = ticket.row, uuid.uuid4().hex[:12]
        ended: asyncio.Future[AmiMessage] = asyncio.get_running_loop().create_future()
        sub = self._ami.subscribe("UserEvent", _catch_end(row.number, ended))
        try:
            if agent_state is not None:
                await self._agents.set_agent_state(phone, "paused", reason=f"紧急工单 {row.number} 联系承办单位")
            template = self._plan.prompts.get("duty_call_opening", "您好，我是12345市民服务热线的{agent}号。")
            text = template.replace("{agent}", phone).replace("{title}", row.title)
            await self._renderer.render_all({f"duty-{key}": text}, self._places.prompts_host)
            started = datetime.now(UTC)
            day = started.astimezone(CHINA).strftime("%Y/%m/%d")
            name = f"duty/{day}/ticket-{row.number}-{key}.wav"
            recording = f"{self._places.recordings_inner}/{name}"
            await self._tickets.note(row.id, "unit_call_started", by, unit=unit, duty_number=duty_number,
                                     phone=phone)
            origination = await self._ami.originate(
                f"PJSIP/{phone}", context=CONTEXT, exten=duty_number, caller_id=f"紧急工单 <{row.number}>",
                variables={"HOTLINE_TICKET": row.number, "HOTLINE_DUTY_PROMPT": f"{self._places.prompts_inner}/"
                           f"duty-{key}", "HOTLINE_DUTY_RECORDING": recording}, timeout_s=30)
            result = await origination.result()
            if not result.answered:
                await self._tickets.note(row.id, "unit_call", by, unit=unit, outcome="AGENT_NOANSWER",
                                         reason=result.reason.name, talked_s=0, phone=phone)
                return
            await origination.hangup(timeout=3600)
            event = await asyncio.wait_for(ended, 10)
            talked = event.get("Talked", "") or "0"
            outcome = event.get("Status", "") or "UNKNOWN"
            call_id = await self._archive(ticket, key, phone, duty_number, self._places.recordings_host / name,
                                          started, outcome, by)
            await self._tickets.note(row.id, "unit_call", by, unit=unit, outcome=outcome,
                                     talked_s=int(talked) if talked.isdigit() else 0, recording=recording,
                                     phone=phone, call_id=call_id)
        except Exception:
            log.exception("duty call for ticket %s failed", row.number)
            with logged(log, "noting the failed duty call on ticket %s", row.number):
                await self._tickets.note(row.id, "unit_call", by, unit=unit, outcome="FAILED", talked_s=0)
        finally:
            sub.cancel()
            if agent_state is not None:
                previous = agent_state.get("state", "ready")
                await self._agents.set_agent_state(phone, "paused" if previous == "paused" else "ready",
                                                   reason=agent_state.get("reason", ""))

    async def _archive(self, ticket: TicketView, key: str, phone: str, duty_number: str, wav: Path,
                       started: datetime, outcome: str, by: str) -> str:
        """The duty call as a call record of its own, linked to the ticket, its recording handed to the
        recording worker like any other call's (R-REC-1)."""
        call_id = f"duty-{key}"
        await self._calls.start(call_id, sip_call_id=None, caller=phone, dialled=duty_number, started_at=started,
                                route_mode="duty_call")
        await self._calls.assign_agent(call_id, phone, started)
        if wav.exists():
            await self._calls.add_recording(call_id, str(wav), "wav")
        await self._tickets.link_call(ticket.id, call_id, by)
        await self._calls.end(call_id, outcome.lower(), datetime.now(UTC))
        return call_id

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _catch_end(ticket: str, ended: asyncio.Future[AmiMessage]) -> Callable[[AmiMessage], None]:
    def on_event(event: AmiMessage) -> None:
        if event.get("UserEvent") == "HotlineDutyCall" and event.get("Ticket") == ticket and not ended.done():
            ended.set_result(event)

    return on_event
