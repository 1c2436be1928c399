"""The ticket service on a real SQLite database: no partial writes, the outbox with the submission,
case-system events once each, and which closures plan a revisit (Tangshan 7.7.1, Beijing 5.5.2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from callback.models import RevisitTask
from dialplans.calendar import WorkCalendar
from hotline.core.db.engine import create_engine, session_factory
from hotline.core.db.migrate import upgrade
from integration.casesystem.models import OutboxMessage
from tickets.catalogue import Catalogue
from tickets.form import BadTicket, read_form
from tickets.models import Ticket
from tickets.service import StaleEvent, Tickets
from tickets.timelimits import TimeLimits


@pytest.fixture
async def tickets(tmp_path: Path) -> AsyncIterator[Tickets]:
    url = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield Tickets(session_factory(engine), Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    await engine.dispose()


def web_ticket(**petitioner: Any) -> dict[str, Any]:
    return {"channel": petitioner.pop("channel", "网站"), "request_type": "咨询", "category": "010101",
            "title": "护照", "content": {"description": "如何办理护照"},
            "petitioner": {"name": "李", "phone": "13800138000", "revisit_consent": True, **petitioner}}


async def count(tickets: Tickets, model: Any) -> int:
    async with tickets.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_ticket_linking_an_unknown_call_writes_nothing(tickets: Tickets) -> None:
    with pytest.raises(BadTicket, match="no call nope"):
        await tickets.create(read_form({**web_ticket(), "calls": ["nope"]}, tickets.catalogue), "8001")
    assert await count(tickets, Ticket) == 0


async def test_submission_writes_the_outbox_message_once(tickets: Tickets) -> None:
    draft = await tickets.create(read_form(web_ticket(), tickets.catalogue), "8001")
    submitted = await tickets.submit(draft.id, "8001")
    assert submitted.row.status == "submitted" and set(submitted.row.deadlines) >= {"dispatch", "sign"}
    assert await count(tickets, OutboxMessage) == 1
    with pytest.raises(ValueError, match="already submitted"):
        await tickets.submit(draft.id, "8001")
    assert await count(tickets, OutboxMessage) == 1


@pytest.mark.parametrize(("petitioner", "planned", "skipped"), [
    ({}, "robot", None),
    ({"enterprise": True}, "human", None),
    ({"confidential": True}, None, "confidential"),
    ({"revisit_consent": False}, None, "no_consent"),
    ({"channel": "网格"}, None, "grid_report"),
])
async def test_which_closures_plan_a_revisit(tickets: Tickets, petitioner: dict[str, Any], planned: str | None,
                                             skipped: str | None) -> None:
    draft = await tickets.create(read_form(web_ticket(**petitioner), tickets.catalogue), "8001")
    await tickets.submit(draft.id, "8001")
    at = datetime.now(UTC)
    await tickets.case_event("e1", draft.row.number, "closed", at, {"note": "办结"})
    with pytest.raises(StaleEvent, match="already received"):
        await tickets.case_event("e1", draft.row.number, "closed", at, {})
    with pytest.raises(StaleEvent, match="no ticket"):
        await tickets.case_event("e2", "404", "closed", at, {})
    async with tickets.sessions() as s:
        modes = (await s.scalars(select(RevisitTask.mode))).all()
    assert modes == ([planned] if planned else [])
    line = await tickets.timeline(draft.id)
    assert [e["detail"].get("reason") for e in line if e["kind"] == "revisit_skipped"] == ([skipped] if skipped
                                                                                           else [])


async def test_a_late_older_status_goes_on_the_timeline_but_does_not_turn_the_ticket_back(tickets: Tickets) -> None:
    draft = await tickets.create(read_form(web_ticket(), tickets.catalogue), "8001")
    await tickets.submit(draft.id, "8001")
    later = datetime.now(UTC)
    await tickets.case_event("s1", draft.row.number, "signed", later, {})
    shown = await tickets.case_event("s0", draft.row.number, "dispatched", later - timedelta(minutes=5), {})
    assert shown.row.status == "signed"
    assert [e["status"] for e in await tickets.timeline(draft.id) if e["kind"] == "status"] == ["dispatched", "signed"]
