"""Self-service while waiting (R-ACC-9): ticket progress by number, or a callback instead of waiting; on
numbers with `knowledge: true` also the knowledge base's answers read aloud (key 3, ivr/flows/knowledge.py).

Offered in the queue announcement ("查询工单办理进度请按1，不想等待请按2"), so nobody's way to a
person gets longer: the caller keeps their place in the queue during a lookup, and an agent who
becomes free takes the call even mid-sentence. A ticket's status is told only to the number that
registered it (the petitioner's phone); anything else hears the same "not found" a wrong number gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from dialplans.dialout import DialOutPolicy
from hotline.calls.caller_lists import NUMBER as CALLABLE
from hotline.calls.records import CallRecords
from hotline.core.asterisk.agi import AgiCall
from hotline.core.privacy import mask_number
from ivr.flows.knowledge import PhoneKnowledge

TICKET_KEY, CALLBACK_KEY, KNOWLEDGE_KEY = "1", "2", "3"
MAX_TICKET_DIGITS = 20
# what the caller hears for each ticket status (prompt keys in the dialplan file)
STATUS_PROMPTS = {
    "draft": "ticket_status_accepted", "submitted": "ticket_status_accepted", "received": "ticket_status_accepted",
    "dispatched": "ticket_status_dispatched", "signed": "ticket_status_signed",
    "feedback": "ticket_status_feedback", "closed": "ticket_status_closed", "overdue": "ticket_status_overdue",
}


class TicketProgress(Protocol):
    async def progress(self, number: str, caller: str) -> str | None:
        """The status of ticket `number` if `caller` registered it, else None."""


class CallbackBook(Protocol):
    async def request_callback(self, call_id: str, number: str) -> None:
        """Note that this caller wants to be called back."""


class QueueExit(Protocol):
    async def leave_queue(self, call_id: str) -> bool: ...


@dataclass(frozen=True)
class SelfService:
    """Runs the caller's choice from the queue announcement; returns True if the call should end."""

    calls: CallRecords
    sounds_dir: str
    tickets: TicketProgress
    callbacks: CallbackBook
    queue: QueueExit
    dial_out: DialOutPolicy  # a callback is booked only to a number the centre may call back (toll fraud)
    knowledge: PhoneKnowledge | None = None  # key 3 on the lines in `knowledge_lines`
    knowledge_lines: frozenset[str] = frozenset()

    def _prompt(self, key: str) -> str:
        return f"{self.sounds_dir}/{key}"

    def keys(self, line: str | None) -> str:
        """The keys the offer names on this line."""
        return TICKET_KEY + CALLBACK_KEY + (KNOWLEDGE_KEY if self.reads_knowledge(line) else "")

    def offer(self, line: str | None) -> str:
        """The offer's prompt key on this line."""
        return "self_service_offer_knowledge" if self.reads_knowledge(line) else "self_service_offer"

    def reads_knowledge(self, line: str | None) -> bool:
        return self.knowledge is not None and line in self.knowledge_lines

    async def __call__(self, call: AgiCall, call_id: str, key: str, line: str | None = None) -> bool:
        if key == KNOWLEDGE_KEY and self.knowledge is not None and line is not None and self.reads_knowledge(line):
            await self.knowledge(call, call_id, line)
            return False
        if key == TICKET_KEY:
            await self._ticket_progress(call, call_id)
            return False
        if key == CALLBACK_KEY:
            return await self._callback(call, call_id)
        return False

    async def _ticket_progress(self, call: AgiCall, call_id: str) -> None:
        caller = call.env.get("agi_callerid", "")
        for attempt in (1, 2):
            await self.calls.step(call_id, "ticket_enter", {"attempt": attempt})
            digits, _ = await call.get_data(self._prompt("ticket_enter"), 8000, MAX_TICKET_DIGITS)
            digits = digits.strip("#")
            status = await self.tickets.progress(digits, caller) if digits.isdigit() else None
            await self.calls.step(call_id, "ticket_lookup", {"digits": len(digits), "found": status is not None,
                                                             "status": status, "attempt": attempt})
            if status is not None:
                await call.stream_file(self._prompt(STATUS_PROMPTS.get(status, "ticket_status_accepted")))
                await call.stream_file(self._prompt("back_to_waiting"))
                return
            await call.stream_file(self._prompt("ticket_not_found"))

    async def _callback(self, call: AgiCall, call_id: str) -> bool:
        caller = call.env.get("agi_callerid", "")
        # withheld, odd or forged caller id (international, premium): we could not, or may not, call back
        if not CALLABLE.match(caller) or self.dial_out.refusal("callback", caller.removeprefix("+86")) is not None:
            await self.calls.step(call_id, "callback_refused", {"number": mask_number(caller)})
            await call.stream_file(self._prompt("callback_unavailable"))
            return False
        if not await self.queue.leave_queue(call_id):
            return False  # an agent is already on the way: let them take the call
        await self.callbacks.request_callback(call_id, caller)
        await self.calls.step(call_id, "callback_requested", {"number": mask_number(caller)})
        await self.calls.end(call_id, "callback_requested", datetime.now(UTC))
        await call.stream_file(self._prompt("callback_booked"))
        await call.hangup()
        return True
