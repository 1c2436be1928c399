"""Health of the stack's parts: each registers a check; one slow check cannot hang the rest. Requests read the
last report: the checks run at most once per `interval` (single-flight), so a burst of health requests makes no
round trips to Redis, AMI or the database of its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class PartHealth:
    ok: bool
    detail: str


Check = Callable[[], Awaitable[PartHealth]]


class HealthRegistry:
    def __init__(self, timeout: float = 2.0, interval: float = 3.0) -> None:
        self._checks: dict[str, Check] = {}
        self._timeout = timeout
        self.interval = interval
        self.runs = 0  # how many times the checks ran (metrics, tests)
        self._last: dict[str, PartHealth] | None = None
        self._at = 0.0
        self._running: asyncio.Task[dict[str, PartHealth]] | None = None

    def register(self, name: str, check: Check) -> None:
        self._checks[name] = check
        self._last = None  # a new part: the next report runs the checks

    async def _one(self, check: Check) -> PartHealth:
        try:
            return await asyncio.wait_for(check(), self._timeout)
        except TimeoutError:
            return PartHealth(False, f"no answer within {self._timeout:.0f}s")
        except Exception as exc:
            return PartHealth(False, f"{type(exc).__name__}: {exc}"[:200])

    async def _run(self) -> dict[str, PartHealth]:
        self.runs += 1
        names = list(self._checks)
        results = await asyncio.gather(*(self._one(self._checks[n]) for n in names))
        self._last, self._at = dict(zip(names, results, strict=True)), time.monotonic()
        return self._last

    async def report(self) -> dict[str, PartHealth]:
        """The last report if younger than the interval, else a fresh one (callers arriving meanwhile wait
        for the same run)."""
        if self._last is not None and time.monotonic() - self._at < self.interval:
            return self._last
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._run())
        return await asyncio.shield(self._running)


HEALTH = web.AppKey("health", HealthRegistry)  # the app's registry: domains read the parts' health through it
