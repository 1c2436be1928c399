"""Background workers: one way to start, stop, retry with backoff and report health.

A `Worker` is anything with `start()` and `close()`. `LoopWorker` is the usual kind: it
runs `step()` again and again; a step that raises is logged with its traceback and retried after an
exponential backoff (capped), so a database or network outage slows a worker down but never ends it.
`wake()` runs the next step at once instead of at the end of the wait the last step asked for.

With several service instances, `Leased` runs a singleton worker on one instance only: the one holding its
lease in Redis (hotline.core.lease); the others stand by and take over when the holder dies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis

from hotline.core.lease import Lease, LeaseKeeper
from hotline.core.web.health import PartHealth

log = logging.getLogger(__name__)


class Worker(Protocol):
    """What the app starts once Asterisk is up and stops first on the way out."""

    def start(self) -> None: ...

    async def close(self) -> None: ...


class LoopWorker(ABC):
    """A background loop of `step()`s: `step()` returns the seconds to wait before the next one."""

    name: str = "worker"
    standby: bool = False  # another service instance runs it (see `Leased`): healthy while not running
    base_backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.failures = 0  # consecutive failed steps
        self.failed_total = 0
        self.last_error: str | None = None
        self.last_step_at: float | None = None

    @abstractmethod
    async def step(self) -> float:
        """One round of work; the seconds to wait before the next."""

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name=self.name)

    def wake(self) -> None:
        """Something to do: the next step runs now (or right after the current one); a backoff is kept."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def close(self) -> None:
        """Stop the loop; a cancellation swallowed by a step is repeated until the loop has ended."""
        task, self._task = self._task, None
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        if task is not None and not task.cancelled() and task.exception() is not None:
            log.warning("%s ended with %r", self.name, task.exception())

    def backoff_s(self) -> float:
        return min(self.max_backoff_s, self.base_backoff_s * 2 ** max(0, self.failures - 1))

    async def run(self) -> None:
        """The loop itself, until cancelled: `start()` runs it in a task; a process with no other work awaits it."""
        while True:
            self._wake.clear()  # a wake-up during the step runs the next one at once
            try:
                delay = await self.step()
                self.failures, self.last_error = 0, None
            except Exception as exc:
                self.failures += 1
                self.failed_total += 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                self.last_step_at = time.monotonic()
                backoff = self.backoff_s()
                log.exception("%s: step failed (%d in a row); next try in %.1f s", self.name, self.failures, backoff)
                await asyncio.sleep(backoff)
                continue
            self.last_step_at = time.monotonic()
            await self._rest(delay)

    async def _rest(self, delay: float) -> None:
        """Wait `delay` seconds, or less if woken. (asyncio.wait, not a timeout: on Python 3.11 a timeout that
        expires as the task is cancelled may swallow the cancellation, and `close()` would wait for ever.)"""
        if delay <= 0:
            await asyncio.sleep(0)
            return
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({woken}, timeout=delay)
        finally:
            woken.cancel()

    def health(self) -> PartHealth:
        if self.standby and not self.running:
            return PartHealth(True, "standby: another instance runs it")
        if not self.running:
            return PartHealth(False, "not running")
        if self.failures:
            return PartHealth(False, f"failing ({self.failures} in a row): {self.last_error}")
        return PartHealth(True, "running")

    async def check(self) -> PartHealth:
        """`health()` as a check for a plugin's `Brought.health`."""
        return self.health()


class ChildWorker:
    """A child process (started and stopped by coroutines) as a `Worker`, so a lease can run it on one instance."""

    def __init__(self, name: str, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self._start, self._stop = start, stop
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._start())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        await self._stop()


class Leased:
    """A singleton worker under a lease: started on the instance that holds `lease`, closed at once when it
    is lost; on the others it stands by (`standby` set, when the worker has the attribute)."""

    def __init__(self, worker: Worker, lease: Lease) -> None:
        self.worker = worker
        self._keeper = LeaseKeeper(lease, self._gained, self._lost)
        self._set_standby(True)

    @classmethod
    def of(cls, worker: Worker, redis: aioredis.Redis, instance: str) -> Leased:
        """`worker` under the lease named after it (its `name`, else its class)."""
        name = getattr(worker, "name", "") or type(worker).__name__
        return cls(worker, Lease(redis, f"worker:{name}", instance))

    @property
    def active(self) -> bool:
        return self._keeper.lease.held

    def _set_standby(self, standby: bool) -> None:
        if hasattr(self.worker, "standby"):
            self.worker.standby = standby

    async def _gained(self) -> None:
        log.info("%s: this instance runs it now", self._keeper.lease.name)
        self._set_standby(False)
        self.worker.start()

    async def _lost(self) -> None:
        self._set_standby(True)
        await self.worker.close()

    def start(self) -> None:
        self._keeper.start()

    async def close(self) -> None:
        await self._keeper.close()
        await self.worker.close()
