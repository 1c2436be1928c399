"""Health of the stack's parts: each registers a check; one slow check cannot hang the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PartHealth:
    ok: bool
    detail: str


Check = Callable[[], Awaitable[PartHealth]]


class HealthRegistry:
    def __init__(self, timeout: float = 2.0) -> None:
        self._checks: dict[str, Check] = {}
        self._timeout = timeout

    def register(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def _one(self, check: Check) -> PartHealth:
        try:
            return await asyncio.wait_for(check(), self._timeout)
        except TimeoutError:
            return PartHealth(False, f"no answer within {self._timeout:.0f}s")
        except Exception as exc:
            return PartHealth(False, f"{type(exc).__name__}: {exc}"[:200])

    async def report(self) -> dict[str, PartHealth]:
        names = list(self._checks)
        results = await asyncio.gather(*(self._one(self._checks[n]) for n in names))
        return dict(zip(names, results, strict=True))
