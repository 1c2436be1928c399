"""What the inbound flow reads on every call: announcements by line and hour, read at most once a second for
all calls together, re-read at once after a change, and a failing or stalled database never holding a call."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from ivr.announcements.active import MAX_PER_CALL, ActiveAnnouncements, Playing

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def playing(n: int, lines: tuple[str, ...] = (), start_h: float = -1, end_h: float = 1) -> Playing:
    return Playing(n, f"第{n}条", "synthesised", f"/srv/a/tts-{n}", 5.0, frozenset(lines),
                   NOW + timedelta(hours=start_h), NOW + timedelta(hours=end_h))


class Table:
    """The database as the cache sees it: what it holds, how often it is read, and whether it fails."""

    def __init__(self, *rows: Playing) -> None:
        self.rows = list(rows)
        self.reads = 0
        self.failing: Exception | None = None
        self.stall_s = 0.0

    async def load(self, now: datetime) -> Sequence[Playing]:
        self.reads += 1
        if self.stall_s:
            await asyncio.sleep(self.stall_s)
        if self.failing is not None:
            raise self.failing
        return list(self.rows)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


async def test_each_line_hears_its_own_and_those_for_every_line_within_their_hours() -> None:
    table = Table(playing(1, ("12345",)), playing(2), playing(3, ("12319",)), playing(4, start_h=1, end_h=2),
                  playing(5, end_h=0))
    active = ActiveAnnouncements(table.load)
    assert [p.id for p in await active.for_line("12345", NOW)] == [1, 2]
    assert [p.id for p in await active.for_line("12319", NOW)] == [2, 3]
    assert [p.id for p in await active.for_line("12345", NOW + timedelta(hours=1))] == [4]  # 1, 2 over; 4 begins


async def test_a_call_hears_at_most_three() -> None:
    active = ActiveAnnouncements(Table(*(playing(n) for n in range(1, 6))).load)
    assert [p.id for p in await active.for_line("12345", NOW)] == list(range(1, MAX_PER_CALL + 1))


async def test_calls_together_read_once_a_second_and_a_change_is_read_at_once() -> None:
    table, clock = Table(playing(1)), Clock()
    active = ActiveAnnouncements(table.load, ttl_s=1.0, clock=clock)
    heard = await asyncio.gather(*(active.for_line("12345", NOW) for _ in range(50)))
    assert table.reads == 1 and all([p.id for p in h] == [1] for h in heard)
    table.rows.append(playing(2))
    clock.t += 0.5
    assert [p.id for p in await active.for_line("12345", NOW)] == [1]  # cached: at most a second old
    clock.t += 0.6
    assert [p.id for p in await active.for_line("12345", NOW)] == [1, 2]
    table.rows.pop(0)
    active.changed()  # the API ended one: the next call reads afresh
    assert [p.id for p in await active.for_line("12345", NOW)] == [2] and table.reads == 3


async def test_a_failing_database_is_logged_and_calls_go_on_with_what_was_known(
        caplog: pytest.LogCaptureFixture) -> None:
    table, clock = Table(playing(1)), Clock()
    active = ActiveAnnouncements(table.load, clock=clock)
    assert [p.id for p in await active.for_line("12345", NOW)] == [1]
    table.failing = ConnectionError("database is locked")
    clock.t += 2
    with caplog.at_level(logging.WARNING):
        assert [p.id for p in await active.for_line("12345", NOW)] == [1]
    assert "announcements not read (ConnectionError" in caplog.text
    assert [p.id for p in await active.for_line("12345", NOW)] == [1] and table.reads == 2  # not on every call
    assert await active.for_line("12345", NOW + timedelta(hours=2)) == []  # the known ones still end on time


async def test_a_stalled_database_holds_no_call_longer_than_the_timeout() -> None:
    table = Table(playing(1))
    table.stall_s = 5.0
    active = ActiveAnnouncements(table.load, timeout_s=0.2)
    started = time.monotonic()
    assert await active.for_line("12345", NOW) == []  # nothing known yet: none
    assert time.monotonic() - started < 1.0
