"""The worker base: steps, backoff after failures (logged with their traceback), wake-ups, close, health."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from hotline.core.web.health import PartHealth
from hotline.core.workers import LoopWorker


class Steps(LoopWorker):
    """Fails its first `failing` steps, then waits `every_s` between steps."""

    name = "steps"
    base_backoff_s = 0.01
    max_backoff_s = 0.04

    def __init__(self, failing: int = 0, every_s: float = 0.01) -> None:
        super().__init__()
        self.failing, self.every_s = failing, every_s
        self.done = 0
        self.stepped = asyncio.Event()

    async def step(self) -> float:
        self.stepped.set()
        if self.failing:
            self.failing -= 1
            raise RuntimeError("database away")
        self.done += 1
        return self.every_s


async def until(check: Callable[[], bool], timeout: float = 2.0) -> None:
    for _ in range(int(timeout / 0.005)):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"not within {timeout} s")


async def test_a_worker_steps_until_closed() -> None:
    worker = Steps()
    worker.start()
    await until(lambda: worker.done >= 3)
    assert worker.health() == PartHealth(True, "running")
    await worker.close()
    done = worker.done
    await asyncio.sleep(0.05)
    assert worker.done == done and not worker.running
    assert worker.health().detail == "not running"
    await worker.close()  # safe twice


def test_backoff_doubles_and_is_capped() -> None:
    worker = Steps()
    delays = []
    for failures in range(1, 6):
        worker.failures = failures
        delays.append(worker.backoff_s())
    assert delays == [0.01, 0.02, 0.04, 0.04, 0.04]


async def test_failed_steps_are_logged_retried_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    worker = Steps(failing=3, every_s=10.0)
    caplog.set_level(logging.ERROR, "hotline.core.workers")
    worker.start()
    await until(lambda: worker.failures == 2)
    health = worker.health()
    assert not health.ok and "2 in a row" in health.detail and "RuntimeError: database away" in health.detail
    assert not (await worker.check()).ok
    await until(lambda: worker.done == 1)
    assert worker.failures == 0 and worker.failed_total == 3 and worker.last_error is None
    assert worker.health().ok
    failures = [r for r in caplog.records if r.name == "hotline.core.workers"]
    assert len(failures) == 3
    assert "steps: step failed (1 in a row)" in failures[0].getMessage()
    assert failures[0].exc_info is not None and "database away" in caplog.text
    await worker.close()


async def test_wake_runs_the_next_step_at_once() -> None:
    worker = Steps(every_s=60.0)
    worker.start()
    await until(lambda: worker.done == 1)
    worker.wake()
    await until(lambda: worker.done == 2, timeout=1.0)
    await worker.close()


async def test_a_wake_during_a_step_is_not_lost() -> None:
    class Slow(Steps):
        async def step(self) -> float:
            delay = await super().step()
            if self.done == 1:
                self.wake()  # as if a caller queued while this step ran
            return delay

    worker = Slow(every_s=60.0)
    worker.start()
    await until(lambda: worker.done == 2, timeout=1.0)
    await worker.close()


async def test_a_wake_does_not_cut_a_backoff_short() -> None:
    worker = Steps(failing=1)
    worker.base_backoff_s = worker.max_backoff_s = 0.3
    worker.start()
    await until(lambda: worker.failures == 1)
    worker.wake()
    await asyncio.sleep(0.1)
    assert worker.done == 0
    await until(lambda: worker.done == 1)
    await worker.close()


async def test_run_is_the_loop_for_a_process_of_its_own() -> None:
    worker = Steps()
    running = asyncio.create_task(worker.run())
    await until(lambda: worker.done >= 2)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
