"""What callers hear now: the announcements in force for a line, read by the inbound flow on every call.

The list is kept in memory for at most `ttl_s` (1 s) and dropped at once when the API changes an
announcement, so a change takes effect on the next call (≤ 2 s even from another process), without an
engineer or a reload. A database that fails or stalls (past `timeout_s`) never stops a call: the failure is
logged and the call goes on with the list last read (still cut by each announcement's hours), or none.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)

MAX_PER_CALL = 3  # the oldest first: the greeting's part must stay short (see the README)


@dataclass(frozen=True)
class Playing:
    """An announcement as the flow plays it."""

    id: int
    title: str
    audio: str  # synthesised | recorded
    sound: str  # as Asterisk plays it (no extension)
    seconds: float
    lines: frozenset[str]  # empty: every line
    starts_at: datetime
    ends_at: datetime
    entry_id: int | None = None  # the knowledge-base entry it points to: listed first on the phone (key 3)

    def plays_on(self, line: str, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at and (not self.lines or line in self.lines)


Loader = Callable[[datetime], Awaitable[Sequence[Playing]]]


class ActiveAnnouncements:
    """The announcements not ended (scheduled or playing), cached briefly; `for_line` never raises."""

    def __init__(self, load: Loader, *, ttl_s: float = 1.0, timeout_s: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._load, self._ttl, self._timeout, self._clock = load, ttl_s, timeout_s, clock
        self._known: Sequence[Playing] = ()
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    def changed(self) -> None:
        """An announcement was published, re-recorded or ended: the next call reads them afresh."""
        self._read_at = None

    async def for_line(self, line: str, now: datetime) -> list[Playing]:
        """The announcements callers of `line` hear at `now`, oldest first, at most MAX_PER_CALL."""
        known = await self._current(now)
        return [p for p in known if p.plays_on(line, now)][:MAX_PER_CALL]

    def _fresh(self) -> bool:
        return self._read_at is not None and self._clock() - self._read_at < self._ttl

    async def _current(self, now: datetime) -> Sequence[Playing]:
        if self._fresh():
            return self._known
        async with self._lock:  # one read for all the calls arriving together
            if self._fresh():
                return self._known
            try:
                self._known = tuple(await asyncio.wait_for(self._load(now), self._timeout))
            except Exception as exc:  # the call goes on: with what was read last (or nothing)
                log.warning("announcements not read (%s: %s); calls go on with the %d known",
                            type(exc).__name__, str(exc)[:200], len(self._known))
            self._read_at = self._clock()  # a failing database is asked again after ttl_s, not on every call
            return self._known
