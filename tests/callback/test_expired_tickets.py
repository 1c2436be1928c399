"""Tickets past their time limit, and the share of closed tickets, on a real SQLite database (R-REV-1,
Beijing 5.5.1 办理时限期满后全部或抽样回访): one revisit per expired open ticket, the exclusions kept; closed
tickets revisited by the configured rate."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callback.closure import closed_listener
from callback.expiry import ExpiredTickets, expired
from callback.models import RevisitTask
from dialplans.calendar import WorkCalendar
from dialplans.loader import check_dialplan, load_dialplan
from hotline.app.plugins import upgrade_database as upgrade
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.netutil import free_port
from tests.postgres_server import BOTH_DATABASES, PostgresServer
from tickets.catalogue import Catalogue
from tickets.form import read_form
from tickets.service import Tickets, TicketView
from tickets.timelimits import TimeLimits

LATER = datetime.now(UTC) + timedelta(days=30)  # every Beijing time limit has passed by then


@pytest.fixture
def tickets(sqlite_sessions: SessionFactory) -> Tickets:
    return Tickets(sqlite_sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))


@pytest.fixture(params=BOTH_DATABASES)
async def on_both(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Tickets]:
    """Tickets on a migrated SQLite or PostgreSQL database of the test's own (the scan's query runs on both)."""
    server = None
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    if request.param == "postgres":
        server = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port())
        await server.start()
        url = server.url
    await upgrade(url)
    engine = create_engine(url)
    try:
        yield Tickets(session_factory(engine), Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    finally:
        await engine.dispose()
        if server is not None:
            await server.stop()


async def submitted(tickets: Tickets, **petitioner: Any) -> TicketView:
    form = {"channel": petitioner.pop("channel", "网站"), "request_type": "咨询", "category": "010101",
            "title": "护照", "content": {"description": "如何办理护照"},
            "petitioner": {"name": "李女士", "phone": "13800138000", "revisit_consent": True, **petitioner}}
    draft = await tickets.create(read_form(form, tickets.catalogue), "8001")
    return await tickets.submit(draft.id, "8001")


async def revisits(tickets: Tickets) -> list[tuple[int | None, str, str]]:
    async with tickets.sessions() as s:
        return [(t.ticket_id, t.reason, t.mode) for t in (await s.scalars(select(RevisitTask))).all()]


async def kinds(tickets: Tickets, ticket_id: int) -> list[str]:
    return [e["kind"] for e in await tickets.timeline(ticket_id)]


async def test_an_open_ticket_past_its_time_limit_is_revisited_once(on_both: Tickets) -> None:
    tickets = on_both
    ticket = await submitted(tickets)
    worker = ExpiredTickets(tickets.sessions)
    assert await worker.scan() == 0, "not expired yet"
    assert await worker.scan(LATER) == 1
    assert await worker.scan(LATER + timedelta(days=1)) == 0, "once per ticket"
    assert await revisits(tickets) == [(ticket.id, "time_limit_expired", "robot")]
    line = await kinds(tickets, ticket.id)
    assert line.count("time_limit_expired") == 1 and line[-1] == "revisit_planned"


async def test_closed_and_draft_tickets_do_not_expire(on_both: Tickets) -> None:
    tickets = on_both
    done = await submitted(tickets)
    await tickets.case_event("c1", done.row.number, "closed", datetime.now(UTC), {})
    await tickets.create(read_form({"title": "草稿"}, tickets.catalogue), "8001")
    assert await ExpiredTickets(tickets.sessions).scan(LATER) == 0
    assert "time_limit_expired" not in await kinds(tickets, done.id)


async def test_the_exclusions_stay_and_are_written_once(on_both: Tickets) -> None:
    tickets = on_both
    secret = await submitted(tickets, confidential=True)
    grid = await submitted(tickets, channel="网格")
    firm = await submitted(tickets, enterprise=True)
    worker = ExpiredTickets(tickets.sessions)
    assert await worker.scan(LATER) == 1
    assert await worker.scan(LATER) == 0
    assert await revisits(tickets) == [(firm.id, "time_limit_expired", "human")], "enterprises: a person"
    for ticket, why in ((secret, "confidential"), (grid, "grid_report")):
        line = await tickets.timeline(ticket.id)
        assert [e["detail"]["reason"] for e in line if e["kind"] == "revisit_skipped"] == [why]


async def test_the_case_systems_overdue_counts_before_our_deadline(on_both: Tickets) -> None:
    tickets = on_both
    ticket = await submitted(tickets)
    await tickets.case_event("o1", ticket.row.number, "overdue", datetime.now(UTC), {})
    assert await ExpiredTickets(tickets.sessions).scan() == 1


def test_expiry_reads_the_feedback_deadline() -> None:
    now = datetime(2026, 5, 6, 8, tzinfo=UTC)
    assert expired("signed", {"feedback": "2026-05-06T07:59:00+00:00"}, now)
    assert not expired("signed", {"feedback": "2026-05-06T08:01:00+00:00"}, now)
    assert not expired("signed", {}, now) and expired("overdue", {}, now)


@pytest.mark.parametrize(("rate", "low", "high"), [(1.0, 40, 40), (0.0, 0, 0), (0.5, 10, 30)])
async def test_closed_tickets_are_revisited_by_the_configured_share(tickets: Tickets, rate: float, low: int,
                                                                    high: int) -> None:
    tickets.on_closed.append(closed_listener(rate))
    ids = []
    for i in range(40):
        ticket = await submitted(tickets)
        await tickets.case_event(f"e{i}", ticket.row.number, "closed", datetime.now(UTC), {})
        ids.append(ticket.id)
    planned = len(await revisits(tickets))
    assert low <= planned <= high
    left_out = [i for i in ids if any(e["kind"] == "revisit_skipped" and e["detail"]["reason"] == "not_sampled"
                                      for e in await tickets.timeline(i))]
    assert len(left_out) == 40 - planned, "each ticket left out says why"


def test_the_share_of_closed_tickets_is_read_and_checked(tmp_path: Path) -> None:
    file = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"
    assert load_dialplan(file).revisit.tickets_sample_rate == 1.0, "Tangshan 7.7.1: all"
    shipped = file.read_text()
    for value, errors in (("0.3", 0), ("1.5", 1)):
        path = tmp_path / f"{value}.yaml"
        path.write_text(shipped.replace("tickets_sample_rate: 1.0", f"tickets_sample_rate: {value}"))
        found = check_dialplan(path)
        assert len(found) == errors and all("tickets_sample_rate" in e.message for e in found)
    assert load_dialplan(tmp_path / "0.3.yaml").revisit.tickets_sample_rate == 0.3
