"""Tickets in the database: drafts, submission with its outbox message, the timeline, case-system events.

Submitting writes the ticket, its time limits, a timeline line and the message to the case system in
one transaction: the message exists if and only if the submission does (transactional outbox). Other
domains hear of a closure through `on_closed` listeners, run in the closing transaction (the revisit
robot plans its call there), and may show a ticket's revisits through `revisits_of`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dialplans.calendar import CHINA
from hotline.calls.models import CallRecord
from hotline.core.clock import now as _now
from hotline.core.db.engine import SessionFactory
from hotline.core.errors import Conflict, NotFound
from integration.casesystem.outbox import enqueue
from integration.casesystem.receipts import EventRefused, EventSeen, receive_once
from tickets.catalogue import Catalogue
from tickets.form import BadTicket, FieldError, TicketForm, missing_for_submit
from tickets.models import Ticket, TicketCall, TicketEvent
from tickets.timelimits import TimeLimits
from tickets.timeline import add_event, events

# Case-system statuses in the order a ticket goes through them (overdue can come at any point).
CASE_STATUSES = ("received", "dispatched", "signed", "feedback", "closed", "overdue")

Publish = Callable[[dict[str, Any]], Awaitable[None]]
ClosedListener = Callable[[AsyncSession, Ticket], Awaitable[None]]  # runs in the closing transaction
RevisitsOf = Callable[[int], Awaitable[list[dict[str, Any]]]]  # a ticket's revisit tasks (the revisit robot's)


class TicketNotFound(NotFound):
    """No ticket with that id or number."""


class TicketLocked(Conflict):
    """Only a draft can be changed or submitted."""

    error_id = "not_a_draft"


class StaleEvent(Conflict):
    """A case-system event already seen (replay) or for a ticket we do not know."""

    error_id = "stale_event"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class TicketView:
    """A ticket as the API shows it (and as the outbox carries it)."""

    row: Ticket
    category_label: str | None

    @property
    def id(self) -> int:
        return self.row.id

    def to_json(self) -> dict[str, Any]:
        t = self.row
        return {
            "id": t.id, "number": t.number, "status": t.status, "channel": t.channel,
            "request_type": t.request_type, "category": t.category, "category_label": self.category_label,
            "urgency": t.urgency, "complex": t.complex_case, "title": t.title, "content": dict(t.content or {}),
            "petitioner": {"name": t.petitioner_name, "phone": t.petitioner_phone, "address": t.petitioner_address,
                           "confidential": t.confidential, "revisit_consent": t.revisit_consent,
                           "enterprise": t.petitioner_enterprise},
            "handling_unit": t.handling_unit, "region": t.region or "", "created_by": t.created_by,
            "created_at": _iso(t.created_at),
            "updated_at": _iso(t.updated_at), "submitted_at": _iso(t.submitted_at),
            "deadlines": dict(t.deadlines or {}), "case_number": t.case_number,
            "calls": [c.call_id for c in t.calls],
        }


class Tickets:
    """The ticket service; each method is one transaction."""

    def __init__(self, sessions: SessionFactory, catalogue: Catalogue, limits: TimeLimits,
                 publish: Publish | None = None) -> None:
        self.sessions, self.catalogue, self.limits = sessions, catalogue, limits
        self._publish = publish
        self.on_closed: list[ClosedListener] = []
        self.revisits_of: RevisitsOf | None = None

    def _view(self, row: Ticket) -> TicketView:
        category = self.catalogue.get(row.category) if row.category else None
        return TicketView(row, category.label if category else None)

    async def _load(self, s: AsyncSession, ticket_id: int, *, for_update: bool = False) -> Ticket:
        row = await s.get(Ticket, ticket_id, with_for_update=for_update)
        if row is None:
            raise TicketNotFound(f"no ticket {ticket_id}")
        return row

    async def _link_calls(self, s: AsyncSession, row: Ticket, call_ids: list[str], at: datetime) -> None:
        known = set((await s.scalars(select(CallRecord.call_id).where(CallRecord.call_id.in_(call_ids)))).all())
        unknown = [c for c in call_ids if c not in known]
        if unknown:
            raise BadTicket([FieldError("calls", f"no call {', '.join(unknown)}")])
        have = {c.call_id for c in row.calls}
        for call_id in call_ids:
            if call_id not in have:
                row.calls.append(TicketCall(call_id=call_id, linked_at=at))

    async def create(self, form: TicketForm, created_by: str) -> TicketView:
        """A new draft (the number is the local date and the id: digits only, so a citizen can key it in)."""
        at = _now()
        values = {k: v for k, v in form.values.items() if v is not None}
        async with self.sessions.begin() as s:
            row = Ticket(number=uuid.uuid4().hex[:32], status="draft", channel=values.pop("channel", "电话"),
                         urgency=values.pop("urgency", "一般"), content=values.pop("content", {}),
                         created_by=created_by, created_at=at, updated_at=at, deadlines={}, calls=[], **values)
            s.add(row)
            await s.flush()
            row.number = f"{at.astimezone(CHINA):%Y%m%d}{row.id:06d}"
            await self._link_calls(s, row, form.calls or [], at)
            add_event(s, row.id, "created", created_by, "draft")
        return self._view(row)

    async def update(self, ticket_id: int, form: TicketForm, by: str) -> TicketView:
        async with self.sessions.begin() as s:
            row = await self._load(s, ticket_id, for_update=True)
            if row.status != "draft":
                raise TicketLocked(f"ticket {row.number} is {row.status}; only a draft can be changed")
            for key, value in form.values.items():
                if value is not None or key in ("category", "petitioner_phone"):
                    setattr(row, key, value)
            row.updated_at = _now()
            if form.calls is not None:
                await self._link_calls(s, row, form.calls, row.updated_at)
            add_event(s, row.id, "updated", by, "draft", fields=sorted(form.values))
        return self._view(row)

    async def link_call(self, ticket_id: int, call_id: str, by: str) -> TicketView:
        """A repeat call about the same issue joins the ticket (any status)."""
        async with self.sessions.begin() as s:
            row = await self._load(s, ticket_id, for_update=True)
            await self._link_calls(s, row, [call_id], _now())
            add_event(s, row.id, "call_linked", by, None, call_id=call_id)
        return self._view(row)

    async def submit(self, ticket_id: int, by: str) -> TicketView:
        """Validate completeness, fix the time limits, queue the ticket for the case system."""
        async with self.sessions.begin() as s:
            row = await self._load(s, ticket_id, for_update=True)
            if row.status != "draft":
                raise TicketLocked(f"ticket {row.number} is already {row.status}")
            errors = missing_for_submit(
                {"request_type": row.request_type, "category": row.category, "title": row.title,
                 "content": row.content, "petitioner_phone": row.petitioner_phone,
                 "petitioner_name": row.petitioner_name, "channel": row.channel},
                self.catalogue, len(row.calls))
            if errors:
                raise BadTicket(errors)
            at = _now()
            deadlines = self.limits.deadlines(at, row.urgency, row.request_type or "", row.complex_case)
            row.status, row.submitted_at, row.updated_at = "submitted", at, at
            row.deadlines = deadlines.to_json()
            add_event(s, row.id, "submitted", by, "submitted", at, deadlines=row.deadlines)
            payload = self._view(row).to_json()
            payload["call_details"] = await self._call_details(s, [c.call_id for c in row.calls])
            enqueue(s, row.id, "ticket.submitted", payload, f"ticket-{row.number}-submit", at)
        view = self._view(row)
        await self._announce({"kind": "submitted", "ticket": row.number, "id": row.id, "urgency": row.urgency,
                              "title": row.title, "handling_unit": row.handling_unit, "by": by})
        return view

    @staticmethod
    async def _call_details(s: AsyncSession, call_ids: list[str]) -> list[dict[str, Any]]:
        calls = (await s.scalars(select(CallRecord).where(CallRecord.call_id.in_(call_ids)))).all()
        return [{"call_id": c.call_id, "caller": c.caller, "dialled": c.dialled, "agent": c.agent,
                 "started_at": _iso(c.started_at), "ended_at": _iso(c.ended_at), "rating": c.rating,
                 "recordings": [r.path for r in c.recordings]} for c in calls]

    async def call_details(self, ticket: TicketView) -> list[dict[str, Any]]:
        """The ticket's calls with their agent, rating and recordings (R-TKT-1, R-RATE-1)."""
        async with self.sessions() as s:
            return await self._call_details(s, [c.call_id for c in ticket.row.calls])

    async def get(self, ticket_id: int) -> TicketView:
        async with self.sessions() as s:
            return self._view(await self._load(s, ticket_id))

    async def by_number(self, number: str) -> TicketView:
        async with self.sessions() as s:
            row = await s.scalar(select(Ticket).where(Ticket.number == number))
            if row is None:
                raise TicketNotFound(f"no ticket {number}")
            return self._view(row)

    async def note(self, ticket_id: int, kind: str, source: str, **detail: Any) -> None:
        """A line on the ticket's timeline (e.g. the call to the handling unit)."""
        async with self.sessions.begin() as s:
            await self._load(s, ticket_id)
            add_event(s, ticket_id, kind, source, None, **detail)

    async def legal_hold(self, ticket_id: int, hold: bool, reason: str, by: str) -> TicketView:
        """Keep (or release) the ticket's call recordings past the retention period; on the timeline."""
        async with self.sessions.begin() as s:
            row = await self._load(s, ticket_id, for_update=True)
            row.legal_hold, row.legal_hold_reason = hold, reason if hold else ""
            add_event(s, ticket_id, "legal_hold" if hold else "legal_hold_released", by, None, reason=reason)
        return await self.get(ticket_id)

    async def progress(self, number: str, caller: str) -> str | None:
        """For the IVR: the status of ticket `number`, told only to the phone that registered it."""
        async with self.sessions() as s:
            row = await s.scalar(select(Ticket).where(Ticket.number == number))
        if row is None or not row.petitioner_phone or not caller:
            return None
        return row.status if caller.removeprefix("+86") == row.petitioner_phone else None

    async def timeline(self, ticket_id: int) -> list[dict[str, Any]]:
        async with self.sessions() as s:
            await self._load(s, ticket_id)
            return await events(s, ticket_id)

    async def revisits(self, ticket_id: int) -> list[dict[str, Any]]:
        """The ticket's revisit tasks, as the revisit robot tells them (none without it)."""
        return await self.revisits_of(ticket_id) if self.revisits_of is not None else []

    async def numbers(self, ticket_ids: Iterable[int]) -> dict[int, str]:
        """Ticket numbers by id."""
        async with self.sessions() as s:
            rows = await s.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(set(ticket_ids))))
            return {ticket_id: number for ticket_id, number in rows}

    async def call_agents(self, call_ids: Iterable[str]) -> dict[str, str | None]:
        """The agent of each of these calls that exists, by call id."""
        async with self.sessions() as s:
            rows = await s.execute(select(CallRecord.call_id, CallRecord.agent)
                                   .where(CallRecord.call_id.in_(set(call_ids))))
            return {call_id: agent for call_id, agent in rows}

    async def handled(self, number: str, agents: Collection[str]) -> bool:
        """Whether one of `agents` has taken (or is taking) a call from `number`."""
        async with self.sessions() as s:
            return await s.scalar(select(CallRecord.call_id).where(
                CallRecord.caller == number, CallRecord.agent.in_(agents)).limit(1)) is not None

    async def of_caller(self, number: str, limit: int = 20) -> dict[str, Any]:
        """The repeat-caller view for a screen pop: recent calls and tickets of one number (indexed)."""
        async with self.sessions() as s:
            calls = (await s.scalars(select(CallRecord).where(CallRecord.caller == number)
                                     .order_by(CallRecord.started_at.desc()).limit(limit))).all()
            tickets = (await s.scalars(select(Ticket).where(Ticket.petitioner_phone == number)
                                       .order_by(Ticket.created_at.desc()).limit(limit))).all()
            return {
                "number": number,
                "calls": [{"call_id": c.call_id, "started_at": _iso(c.started_at), "dialled": c.dialled,
                           "agent": c.agent, "outcome": c.outcome, "rating": c.rating} for c in calls],
                "tickets": [{"id": t.id, "number": t.number, "status": t.status, "title": t.title,
                             "request_type": t.request_type, "created_at": _iso(t.created_at),
                             "confidential": t.confidential} for t in tickets],
            }

    async def case_event(self, event_id: str, ticket_ref: str, status: str, at: datetime | None,
                         detail: dict[str, Any]) -> TicketView:
        """A status change from the case system's webhook; a replayed event id is refused."""
        if status not in CASE_STATUSES:
            raise ValueError(f"unknown status '{status}'; one of {', '.join(CASE_STATUSES)}")
        try:
            async with self.sessions.begin() as s:
                await receive_once(s, event_id)
                row = await s.scalar(select(Ticket).where(
                    (Ticket.number == ticket_ref) | (Ticket.case_number == ticket_ref)).with_for_update())
                if row is None:
                    raise StaleEvent(f"no ticket {ticket_ref}")
                await self._apply_status(s, row, event_id, status, at, detail)
        except EventSeen as exc:
            raise StaleEvent(str(exc)) from exc
        except IntegrityError as exc:  # the event's own rows refused at commit: not a replay
            raise EventRefused.of(event_id, exc) from exc
        await self._announce({"kind": "status", "ticket": row.number, "status": status})
        return self._view(row)

    async def _apply_status(self, s: AsyncSession, row: Ticket, event_id: str, status: str, at: datetime | None,
                            detail: dict[str, Any]) -> None:
        """The status on the ticket and its timeline; a closure goes to the listeners."""
        last = await s.scalar(select(func.max(TicketEvent.at)).where(
            TicketEvent.ticket_id == row.id, TicketEvent.kind == "status"))
        if at is None or last is None or at >= last:  # a late, older event joins the timeline only
            row.status = status
        row.updated_at = _now()
        if detail.get("case_number") and row.case_number is None:
            row.case_number = str(detail["case_number"])
        add_event(s, row.id, "status", "case-system", status, at or _now(), event_id=event_id, **detail)
        if status == "closed":
            for listener in self.on_closed:
                await listener(s, row)

    async def _announce(self, event: dict[str, Any]) -> None:
        if self._publish is not None:
            await self._publish(event)
