"""Retention beyond audio (issue 15, data at rest): call records, callers' numbers, tickets' personal fields,
audit rows and rotated logs past their periods are deleted, pseudonymised or blanked — exactly those, not
the ones a legal hold keeps, not the new ones; a dry run changes nothing; every run is audited per kind.

The clock is put in 1990 so that on the shared PostgreSQL database no other test's rows are ever "old"."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import delete, func, select

from callback.models import RevisitTask
from hotline.app.plugins import upgrade_database
from hotline.app.retention.coordinator import Periods, Retention
from hotline.app.retention.worker import RetentionWorker
from hotline.calls.models import CallRecord, Recording
from hotline.core.asterisk.ami import AmiClient
from hotline.core.db.base import Base
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.logfiles import is_rotated
from hotline.core.pseudonym import Pseudonyms
from hotline.core.retention import AUDIT_MIN_DAYS, KindReport, RetentionSettings
from hotline.core.web.models import AuditEntry
from integration.casesystem.models import OutboxMessage
from integration.casesystem.retention import REDACTED
from tests.postgres_server import BOTH_DATABASES
from tickets.models import Ticket, TicketCall

NOW = datetime(1990, 6, 1, tzinfo=UTC)
PERIODS = Periods(calls=365, numbers=90, tickets=180, audit=365, logs=30)
NUMBER = "13800138000"


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture(params=BOTH_DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    await upgrade_database(database_url)
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@dataclass
class Seeded:
    """The ids of the rows each case made (unique per test: the PostgreSQL database is shared)."""

    tag: str
    tickets: dict[str, int]
    tasks: dict[str, int]
    outbox: dict[str, int]
    audit: dict[str, int]

    def call(self, name: str) -> str:
        return f"{self.tag}-{name}"


def _ticket(tag: str, name: str, status: str, changed: datetime, held: bool = False) -> Ticket:
    return Ticket(number=f"{tag}-{name}", status=status, channel="phone", urgency="一般", category="C01",
                  title="小区噪音扰民", content={"诉求内容": "楼下夜间施工"}, petitioner_name="李女士",
                  petitioner_phone=NUMBER, petitioner_address="幸福路1号", legal_hold=held,
                  legal_hold_reason="诉讼" if held else "", created_by="8001", created_at=changed, updated_at=changed)


@pytest.fixture
async def seeded(sessions: SessionFactory) -> AsyncIterator[Seeded]:
    """The rows of every case; removed afterwards, so the next test on the shared database starts clean."""
    rows = await seed(sessions)
    yield rows
    async with sessions.begin() as s:
        await s.execute(delete(Ticket).where(Ticket.id.in_(rows.tickets.values())))
        await s.execute(delete(RevisitTask).where(RevisitTask.id.in_(rows.tasks.values())))
        await s.execute(delete(CallRecord).where(CallRecord.call_id.startswith(rows.tag)))
        await s.execute(delete(AuditEntry).where(AuditEntry.id.in_(rows.audit.values())))


async def seed(sessions: SessionFactory) -> Seeded:
    tag = uuid.uuid4().hex[:8]
    call_ages = {"free": 400, "audio": 400, "expired_audio": 400, "linked": 400, "held": 400, "mid": 100, "new": 1}
    tickets = {"closed_old": _ticket(tag, "closed_old", "closed", ago(400)),
               "held": _ticket(tag, "held", "closed", ago(400), held=True),
               "closed_new": _ticket(tag, "closed_new", "closed", ago(10)),
               "open_old": _ticket(tag, "open_old", "submitted", ago(400))}
    async with sessions.begin() as s:
        s.add_all([CallRecord(call_id=f"{tag}-{n}", caller=NUMBER, dialled="12345", started_at=ago(d), ended_at=ago(d))
                   for n, d in call_ages.items()])
        s.add_all(list(tickets.values()))
        await s.flush()
        s.add_all([Recording(call_id=f"{tag}-audio", path="/x/a.opus", format="opus", started_at=ago(400),
                             status="stored"),
                   Recording(call_id=f"{tag}-expired_audio", path="/x/b.opus", format="opus", started_at=ago(400),
                             status="expired", expired_at=ago(30)),
                   TicketCall(ticket_id=tickets["closed_old"].id, call_id=f"{tag}-linked", linked_at=ago(400)),
                   TicketCall(ticket_id=tickets["held"].id, call_id=f"{tag}-held", linked_at=ago(400))])
        tasks = {"done_old": RevisitTask(ticket_id=tickets["closed_old"].id, number=NUMBER, reason="closed",
                                         status="done", created_at=ago(100), finished_at=ago(100), salutation="李女士",
                                         topic="噪音"),
                 "done_held": RevisitTask(ticket_id=tickets["held"].id, number=NUMBER, reason="closed",
                                          status="done", created_at=ago(100), finished_at=ago(100),
                                          salutation="李女士"),
                 "pending_old": RevisitTask(call_id=f"{tag}-free", number=NUMBER, reason="not_rated", status="pending",
                                            created_at=ago(100)),
                 "done_new": RevisitTask(call_id=f"{tag}-new", number=NUMBER, reason="not_rated", status="done",
                                         created_at=ago(10), finished_at=ago(10))}
        outbox = {name: OutboxMessage(ticket_id=tickets["closed_old"].id, kind="ticket",
                                      idempotency_key=f"{tag}-{name}",
                                      payload={"petitioner_name": "李女士"}, created_at=ago(400),
                                      next_attempt_at=ago(400), delivered_at=ago(400) if name == "delivered" else None)
                  for name in ("delivered", "pending")}
        audit = {name: AuditEntry(at=ago(d), actor=f"{tag}-tester", role="admin", action="tickets.read",
                                  resource=f"tickets/{name}", allowed=True, remote=None, detail={})
                 for name, d in (("old", 400), ("new", 10))}
        s.add_all([*tasks.values(), *outbox.values(), *audit.values()])
    return Seeded(tag, {k: v.id for k, v in tickets.items()}, {k: v.id for k, v in tasks.items()},
                  {k: v.id for k, v in outbox.items()}, {k: v.id for k, v in audit.items()})


def seed_logs(tmp: Path) -> tuple[Path, Path]:
    """An Asterisk log folder and a service log folder, with rotated and live files of several ages."""
    asterisk, own = tmp / "asterisk-log", tmp / "run"
    ages = {asterisk / "messages.631152000": 400, asterisk / "full.631152001": 31, asterisk / "messages.643000000": 5,
            asterisk / "messages": 400, own / "recordings.log.631152002": 60, own / "recordings.log": 400,
            own / "hotline.db": 400}
    for path, days in ages.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text("call from 13800138000\n")
        stamp = ago(days).timestamp()
        os.utime(path, (stamp, stamp))
    return asterisk, own


async def snapshot(sessions: SessionFactory, seeded: Seeded) -> dict[str, list[Any]]:
    """Every seeded row's columns, to show a dry run changed nothing."""
    out: dict[str, list[Any]] = {}
    async with sessions() as s:
        for model, where in ((CallRecord, CallRecord.call_id.startswith(seeded.tag)),
                             (Ticket, Ticket.id.in_(seeded.tickets.values())),
                             (RevisitTask, RevisitTask.id.in_(seeded.tasks.values())),
                             (OutboxMessage, OutboxMessage.id.in_(seeded.outbox.values())),
                             (AuditEntry, AuditEntry.id.in_(seeded.audit.values())),
                             (Recording, Recording.call_id.startswith(seeded.tag))):
            rows: Any = (await s.scalars(select(model).where(where))).all()
            out[model.__tablename__] = sorted(repr(_columns(r)) for r in rows)
    return out


def _columns(row: Base) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs}


def by_kind(reports: list[KindReport]) -> dict[str, tuple[int, int, int]]:
    return {r.kind: (r.changed, r.held, r.kept) for r in reports}


EXPECTED = {
    "tickets": (1, 1, 0),  # the old closed ticket; the held one kept; new and open ones not due
    "caller_numbers": (5, 1, 0),  # every call older than 90 days but the held one's
    "revisit_numbers": (1, 1, 0),  # the finished old task; the held ticket's kept; pending and new not due
    "calls": (2, 1, 2),  # the free and the expired-audio calls; held kept; stored audio and ticket link kept
    "audit": (1, 0, 0),
    "logs": (3, 0, 0),  # the rotated files past 30 days; live logs and other files never
}


async def retention_entries(sessions: SessionFactory, after: int) -> list[AuditEntry]:
    async with sessions() as s:
        return list((await s.scalars(select(AuditEntry).where(AuditEntry.id > after,
                                                              AuditEntry.action.startswith("retention."))
                                     .order_by(AuditEntry.id))).all())


async def last_audit_id(sessions: SessionFactory) -> int:
    async with sessions() as s:
        return await s.scalar(select(func.max(AuditEntry.id))) or 0


async def test_a_dry_run_counts_and_changes_nothing(sessions: SessionFactory, seeded: Seeded, tmp_path: Path) -> None:
    asterisk, own = seed_logs(tmp_path)
    before, files, mark = await snapshot(sessions, seeded), sorted(tmp_path.rglob("*")), await last_audit_id(sessions)
    retention = Retention(sessions, PERIODS, tmp_path / "pseudonym.key", [asterisk, own])
    reports = await retention.run(dry_run=True, now=NOW)
    assert by_kind(reports) == EXPECTED
    assert all(r.dry_run for r in reports)
    assert await snapshot(sessions, seeded) == before
    assert sorted(p for p in tmp_path.rglob("*") if p.name != "pseudonym.key") == files
    entries = await retention_entries(sessions, mark)
    assert [(e.action, e.detail["dry_run"], e.detail["changed"]) for e in entries] == [
        (f"retention.{kind}", True, counts[0]) for kind, counts in EXPECTED.items()]


async def test_a_run_changes_exactly_the_rows_past_their_period_and_not_held(sessions: SessionFactory, seeded: Seeded,
                                                                             tmp_path: Path) -> None:
    asterisk, own = seed_logs(tmp_path)
    mark = await last_audit_id(sessions)
    key = tmp_path / "pseudonym.key"
    progress: list[tuple[str, int]] = []
    reports = await Retention(sessions, PERIODS, key, [asterisk, own]).run(
        now=NOW, progress=lambda kind, done: progress.append((kind, done)))
    assert by_kind(reports) == EXPECTED
    assert ("calls", 2) in progress and ("caller_numbers", 5) in progress
    assert key.stat().st_mode & 0o077 == 0, "the pseudonym key is the service's only"
    pseudonym = Pseudonyms.load_or_create(key).of(NUMBER)

    async with sessions() as s:
        calls = {c.call_id.removeprefix(f"{seeded.tag}-"): c.caller for c in
                 (await s.scalars(select(CallRecord).where(CallRecord.call_id.startswith(seeded.tag)))).all()}
        recordings = (await s.scalars(select(Recording.call_id).where(Recording.call_id.startswith(seeded.tag)))).all()
        tickets = {name: await s.get(Ticket, i) for name, i in seeded.tickets.items()}
        tasks = {name: await s.get(RevisitTask, i) for name, i in seeded.tasks.items()}
        outbox = {name: await s.get(OutboxMessage, i) for name, i in seeded.outbox.items()}
        audit = {name: await s.get(AuditEntry, i) for name, i in seeded.audit.items()}
    # call records: deleted when free; kept with stored audio, a ticket link, or a hold
    assert calls == {"audio": pseudonym, "linked": pseudonym, "held": NUMBER, "mid": pseudonym, "new": NUMBER}
    assert recordings == [f"{seeded.tag}-audio"], "the expired recording row went with its call"
    # tickets: the old closed one blanked, keeping its row, number, category; the others untouched
    old = tickets["closed_old"]
    assert old is not None and old.redacted_at is not None
    assert (old.petitioner_name, old.petitioner_address, old.title, old.content, old.petitioner_phone) == (
        "", "", "", {}, pseudonym)
    assert (old.number, old.category, old.status) == (f"{seeded.tag}-closed_old", "C01", "closed")
    for name in ("held", "closed_new", "open_old"):
        t = tickets[name]
        assert t is not None, name
        assert (t.petitioner_name, t.petitioner_phone, t.redacted_at) == ("李女士", NUMBER, None), name
    # what the outbox delivered about it is blanked; what is still to go is not
    assert outbox["delivered"] is not None and outbox["delivered"].payload == REDACTED
    assert outbox["pending"] is not None and outbox["pending"].payload == {"petitioner_name": "李女士"}
    # revisit tasks
    done = tasks["done_old"]
    assert done is not None and (done.number, done.salutation, done.topic, done.status) == (pseudonym, "", "", "done")
    for name in ("done_held", "pending_old", "done_new"):
        task = tasks[name]
        assert task is not None and task.number == NUMBER, name
    # audit rows
    assert audit["old"] is None and audit["new"] is not None
    # logs: rotated ones older than 30 days gone; live logs and other files stay whatever their age
    assert sorted(p.name for p in (*asterisk.iterdir(), *own.iterdir())) == [
        "hotline.db", "messages", "messages.643000000", "recordings.log"]
    # one audit entry per kind, with its counts
    entries = await retention_entries(sessions, mark)
    assert [(e.action, e.actor, e.role, e.detail["changed"], e.detail["held"]) for e in entries] == [
        (f"retention.{k}", "retention", "system", c[0], c[1]) for k, c in EXPECTED.items()]

    again = await Retention(sessions, PERIODS, key, [asterisk, own]).run(now=NOW)
    assert all(r.changed == 0 for r in again), "a second run finds nothing left to do"


async def test_periods_of_zero_keep_everything(sessions: SessionFactory, seeded: Seeded, tmp_path: Path) -> None:
    before = await snapshot(sessions, seeded)
    reports = await Retention(sessions, Periods(), tmp_path / "k", [tmp_path]).run(now=NOW)
    assert all(r.days == 0 and r.changed == 0 for r in reports)
    assert await snapshot(sessions, seeded) == before
    assert not (tmp_path / "k").exists(), "no pseudonym key is made when no number is ever pseudonymised"


def test_audit_rows_are_kept_at_least_six_months() -> None:
    with pytest.raises(ValueError, match="网络安全法"):
        RetentionSettings(audit_days=AUDIT_MIN_DAYS - 1)
    assert RetentionSettings(audit_days=0).audit_days == 0
    assert RetentionSettings(audit_days=AUDIT_MIN_DAYS).audit_days == AUDIT_MIN_DAYS
    with pytest.raises(ValueError, match="days ≥ 0"):
        RetentionSettings(logs_days=-1)


def test_the_same_number_gets_the_same_pseudonym_and_a_pseudonym_stays(tmp_path: Path) -> None:
    names = Pseudonyms.load_or_create(tmp_path / "key")
    assert names.of(NUMBER) == Pseudonyms.load_or_create(tmp_path / "key").of(NUMBER) != names.of("13900139000")
    assert names.of(names.of(NUMBER)) == names.of(NUMBER) and NUMBER not in names.of(NUMBER)
    assert len(names.of(NUMBER)) <= 32
    assert Pseudonyms.load_or_create(tmp_path / "other").of(NUMBER) != names.of(NUMBER), "keyed per deployment"


def test_the_command_reports_every_kind_and_audits_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from hotline.app.cli import main

    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    asyncio.run(upgrade_database(url))
    for name, value in {"HOME_DIR": str(tmp_path), "RETENTION_CALLS_DAYS": "365", "RETENTION_NUMBERS_DAYS": "90",
                        "RETENTION_TICKETS_DAYS": "180", "RETENTION_AUDIT_DAYS": "365"}.items():
        monkeypatch.setenv(f"HOTLINE_{name}", value)
    assert main(["retention", "run", "--dry-run", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["dry_run"]) for r in reports] == [(k, True) for k in EXPECTED]
    assert main(["retention", "run"]) == 0
    out = capsys.readouterr()
    assert "caller_numbers   older than 90 days: changed 0, kept by legal hold 0" in out.out
    assert "logs             older than 180 days" in out.out

    async def actions() -> list[str]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as s:
                return list((await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())
        finally:
            await engine.dispose()

    assert asyncio.run(actions()) == [f"retention.{k}" for k in EXPECTED] * 2

    monkeypatch.setenv("HOTLINE_RETENTION_AUDIT_DAYS", "30")
    assert main(["retention", "run"]) == 2
    assert "audit rows are kept at least 180 days" in capsys.readouterr().err


class FakeAmi:
    """Records the actions sent (the real `logger rotate` is in test_files_at_rest)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    async def action(self, action: str, fields: dict[str, str]) -> dict[str, str]:
        self.sent.append((action, fields))
        return {"Response": "Success"}


async def test_the_worker_rotates_once_a_day_and_sweeps(sqlite_sessions: SessionFactory, tmp_path: Path) -> None:
    own = tmp_path / "run"
    own.mkdir()
    (own / "recordings.log").write_text("stored call 1\n")
    ami = FakeAmi()
    worker = RetentionWorker(Retention(sqlite_sessions, Periods(logs=30), tmp_path / "k", [own]),
                             cast(AmiClient, ami), [own])
    assert await worker.step() == worker.every_s
    assert await worker.step() == worker.every_s
    assert ami.sent == [("Command", {"Command": "logger rotate"})], "rotated once, not at every step"
    rotated = [p for p in own.iterdir() if is_rotated(p)]
    assert len(rotated) == 1 and rotated[0].read_text() == "stored call 1\n"
    assert (own / "recordings.log").read_text() == "", "the live log is truncated; its writer appends"
    assert rotated[0].stat().st_mode & 0o077 == 0
    async with sqlite_sessions() as s:
        assert (await s.scalars(select(AuditEntry.action))).all() == ["retention.logs", "retention.logs"]
