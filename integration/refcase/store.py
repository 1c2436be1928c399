"""The reference case system's own SQLite: cases, the idempotency keys it has seen, events to report."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
  case_no TEXT PRIMARY KEY, external_id TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE,
  body_sha256 TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, received_at TEXT NOT NULL,
  status_at TEXT NOT NULL, posts INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, case_no TEXT NOT NULL,
  status TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL, sent_at TEXT, attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS revisits (
  idempotency_key TEXT PRIMARY KEY, external_id TEXT NOT NULL, body_sha256 TEXT NOT NULL, body TEXT NOT NULL,
  received_at TEXT NOT NULL, posts INTEGER NOT NULL DEFAULT 1);
"""
FLOW = ("received", "dispatched", "signed", "feedback", "closed")


class IdempotencyConflict(ValueError):
    """The same idempotency key came with a different body."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class CaseStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self._db = await aiosqlite.connect(self._path)
        self._db.row_factory = aiosqlite.Row
        await self._db.executescript(SCHEMA)
        await self._db.commit()

    @property
    def db(self) -> aiosqlite.Connection:
        assert self._db is not None, "open() first"
        return self._db

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def _count(self, table: str) -> int:
        rows = list(await self.db.execute_fetchall(f"SELECT COUNT(*) FROM {table}"))
        return int(rows[0][0])

    async def accept(self, key: str, body: bytes, ticket: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store a new case, or return the one this key already made; (case, created)."""
        digest = hashlib.sha256(body).hexdigest()
        rows = list(await self.db.execute_fetchall("SELECT * FROM cases WHERE idempotency_key = ?", (key,)))
        if rows:
            case = dict(rows[0])
            if case["body_sha256"] != digest:
                raise IdempotencyConflict(f"key {key} was used for a different ticket")
            await self.db.execute("UPDATE cases SET posts = posts + 1 WHERE case_no = ?", (case["case_no"],))
            await self.db.commit()
            return case, False
        count = await self._count("cases")
        case_no = f"CS{datetime.now(UTC):%Y%m%d}{count + 1:05d}"
        now = _now()
        await self.db.execute(
            "INSERT INTO cases (case_no, external_id, idempotency_key, body_sha256, body, status, received_at,"
            " status_at) VALUES (?, ?, ?, ?, ?, 'received', ?, ?)",
            (case_no, str(ticket.get("externalId", "")), key, digest, body.decode(), now, now))
        await self._event(case_no, "received", "已受理")
        await self.db.commit()
        return {"case_no": case_no, "external_id": ticket.get("externalId"), "status": "received"}, True

    async def accept_revisit(self, key: str, body: bytes, revisit: dict[str, Any]) -> bool:
        """Store a revisit result once per key; True when it is new."""
        digest = hashlib.sha256(body).hexdigest()
        rows = list(await self.db.execute_fetchall("SELECT body_sha256 FROM revisits WHERE idempotency_key = ?",
                                                   (key,)))
        if rows:
            if rows[0][0] != digest:
                raise IdempotencyConflict(f"key {key} was used for a different revisit")
            await self.db.execute("UPDATE revisits SET posts = posts + 1 WHERE idempotency_key = ?", (key,))
            await self.db.commit()
            return False
        await self.db.execute("INSERT INTO revisits (idempotency_key, external_id, body_sha256, body, received_at)"
                              " VALUES (?, ?, ?, ?, ?)",
                              (key, str(revisit.get("externalId", "")), digest, body.decode(), _now()))
        await self.db.commit()
        return True

    async def revisits(self) -> list[dict[str, Any]]:
        rows = await self.db.execute_fetchall("SELECT * FROM revisits ORDER BY received_at")
        return [{**dict(row), "body": json.loads(row["body"])} for row in rows]

    async def _event(self, case_no: str, status: str, note: str) -> None:
        count = await self._count("events")
        await self.db.execute("INSERT INTO events (event_id, case_no, status, at, note) VALUES (?, ?, ?, ?, ?)",
                              (f"{case_no}-{count + 1}", case_no, status, _now(), note))

    async def set_status(self, case_no: str, status: str, note: str = "") -> bool:
        rows = list(await self.db.execute_fetchall("SELECT status FROM cases WHERE case_no = ?", (case_no,)))
        if not rows:
            return False
        await self.db.execute("UPDATE cases SET status = ?, status_at = ? WHERE case_no = ?",
                              (status, _now(), case_no))
        await self._event(case_no, status, note)
        await self.db.commit()
        return True

    async def advance_all(self) -> int:
        """Move every open case one step along received → … → closed."""
        moved = 0
        for row in await self.db.execute_fetchall("SELECT case_no, status FROM cases WHERE status != 'closed'"):
            status = row["status"]
            if status in FLOW:
                moved += await self.set_status(row["case_no"], FLOW[FLOW.index(status) + 1], "按计划推进")
        return moved

    async def cases(self) -> list[dict[str, Any]]:
        rows = await self.db.execute_fetchall("SELECT * FROM cases ORDER BY received_at")
        return [{**dict(row), "body": json.loads(row["body"])} for row in rows]

    async def unsent_events(self) -> list[dict[str, Any]]:
        rows = await self.db.execute_fetchall(
            "SELECT e.*, c.external_id FROM events e JOIN cases c USING (case_no) WHERE e.sent_at IS NULL"
            " ORDER BY e.id LIMIT 100")
        return [dict(r) for r in rows]

    async def event_sent(self, event_id: str) -> None:
        await self.db.execute("UPDATE events SET sent_at = ?, attempts = attempts + 1 WHERE event_id = ?",
                              (_now(), event_id))
        await self.db.commit()

    async def event_failed(self, event_id: str) -> None:
        await self.db.execute("UPDATE events SET attempts = attempts + 1 WHERE event_id = ?", (event_id,))
        await self.db.commit()
