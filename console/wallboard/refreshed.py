"""A value read in the background: the last reading at once, a new one started when it is older than `every_s`
(one at a time). Only the very first reading is waited for, so a slow database or health check never holds a
wallboard request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Refreshed(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]], every_s: float) -> None:
        self._read, self.every_s = read, every_s
        self._last: T | None = None
        self._at = 0.0
        self._task: asyncio.Task[T] | None = None

    async def _run(self) -> T:
        value = await self._read()
        self._last, self._at = value, time.monotonic()
        return value

    def _start(self) -> asyncio.Task[T]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
            self._task.add_done_callback(_logged)
        return self._task

    async def get(self) -> T:
        if self._last is None:
            return await asyncio.shield(self._start())
        if time.monotonic() - self._at >= self.every_s:
            _ = self._start()  # in the background: this request gets the last reading
        return self._last


def _logged(task: asyncio.Task[object]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        if (exc := task.exception()) is not None:
            log.warning("wallboard: a background reading failed: %s", exc)
