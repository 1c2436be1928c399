"""Threat: an event or row refused by the database for a reason other than a repeat is taken for "already
received" and silently acknowledged (issue 15; lost status changes, a lost call record). On SQLite and on
PostgreSQL (their messages and constraint names differ): a duplicate key is told from a missing value, a
dangling reference and a failed check; a webhook receipt refused for such a reason is a 422 with its
reason, never `EventSeen`; the call records, caller lists and revisit planner only swallow their own
duplicate."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from hotline.app.plugins import upgrade_database as upgrade
from hotline.calls.models import CallerListEntry, CallRecord, Rating
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.db.integrity import Violation, is_duplicate, violation
from hotline.core.netutil import free_port
from integration.casesystem.receipts import EventRefused, EventSeen, receive_once
from tests.postgres_server import BOTH_DATABASES, PostgresServer
from tickets.models import TicketEvent

AT = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=BOTH_DATABASES)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A migrated database per kind for this module (one PostgreSQL server of its own)."""
    import asyncio

    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('integrity') / 'h.db'}"
        asyncio.run(upgrade(url))
        yield url
        return
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port())
    asyncio.run(server.start())
    try:
        asyncio.run(upgrade(server.url))
        yield server.url
    finally:
        asyncio.run(server.stop())


@pytest.fixture
async def sessions(database: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(database)
    yield session_factory(engine)
    await engine.dispose()


async def refused(sessions: SessionFactory, row: Any) -> IntegrityError:
    async def add() -> None:
        async with sessions.begin() as s:
            s.add(row)

    with pytest.raises(IntegrityError) as caught:
        await add()
    return caught.value


async def test_each_kind_of_violation_is_named_without_values(sessions: SessionFactory, request: Any) -> None:
    tag = request.node.callspec.id
    number = f"1390000{abs(hash(tag)) % 10000:04d}"
    entry = {"number": number, "kind": "vip", "note": "", "added_by": "t", "added_at": AT}
    async with sessions.begin() as s:
        s.add(CallerListEntry(**entry))
    duplicate = await refused(sessions, CallerListEntry(**entry))
    assert violation(duplicate) == Violation("unique", "caller_lists", ("number", "kind"),
                                             violation(duplicate).constraint)
    assert is_duplicate(duplicate, "caller_lists", "kind", "number")
    assert not is_duplicate(duplicate, "caller_lists", "number") and not is_duplicate(duplicate, "ratings", "call_id")
    assert number not in violation(duplicate).describe(), "no values in what is logged"

    missing = await refused(sessions, CallerListEntry(**{**entry, "number": None, "kind": "elderly"}))
    assert (violation(missing).kind, violation(missing).table in (None, "caller_lists")) == ("not_null", True)
    assert not is_duplicate(missing, "caller_lists", "number", "kind")

    dangling = await refused(sessions, TicketEvent(ticket_id=987654, at=AT, kind="status", source="t", detail={}))
    assert violation(dangling).kind == "foreign_key" and "reference to nothing" in violation(dangling).describe()

    call_id = f"call-check-{tag}"
    async with sessions.begin() as s:
        s.add(CallRecord(call_id=call_id, caller="13800138000", dialled="12345", started_at=AT, steps=[]))
    checked = await refused(sessions, Rating(call_id=call_id, rating=9, label="x", rated_at=AT))
    assert violation(checked).kind == "check" and "ck_ratings_level" in violation(checked).describe()


@pytest.mark.filterwarnings("ignore:Column 'case_webhook_receipts.event_id':sqlalchemy.exc.SAWarning")
async def test_a_replayed_event_is_seen_and_a_broken_one_is_refused_with_its_reason(
        sessions: SessionFactory, request: Any) -> None:
    event_id = f"evt-{request.node.callspec.id}"
    async with sessions.begin() as s:
        await receive_once(s, event_id)
    with pytest.raises(EventSeen):
        async with sessions.begin() as s:
            await receive_once(s, event_id)
    with pytest.raises(EventRefused) as broken:
        async with sessions.begin() as s:
            await receive_once(s, None)  # type: ignore[arg-type]  # a missing id is not "received before"
    assert broken.value.code == 422 and broken.value.id == "event_refused"
    assert "missing value" in broken.value.message


async def test_call_records_swallow_only_their_own_duplicate(sessions: SessionFactory, request: Any) -> None:
    records = CallRecords(sessions)
    call_id = f"call-dup-{request.node.callspec.id}"
    for _ in range(2):  # AMI and the flow both open it: the second is ignored
        await records.start(call_id, sip_call_id=None, caller="13800138000", dialled="12345", started_at=AT)
    with pytest.raises(IntegrityError):  # a missing caller is a fault, not "the other writer was first"
        await records.start(f"{call_id}-2", sip_call_id=None, caller=None,  # type: ignore[arg-type]
                            dialled="12345", started_at=AT)
