"""`logged`: work that must not break the caller's flow fails with a warning and its traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hotline.core.logged import logged

log = logging.getLogger("tests.logged")


def test_an_exception_is_logged_with_its_traceback_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "tests.logged")
    went_on = False
    with logged(log, "writing the outcome of call %s", "c1"):
        raise LookupError("no such row")
    went_on = True
    assert went_on
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "writing the outcome of call c1 failed; going on"
    assert record.exc_info is not None and "no such row" in caplog.text


def test_nothing_is_logged_when_the_block_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    with logged(log, "100% plain text"):
        pass
    assert not caplog.records


async def test_cancellation_passes_through() -> None:
    async def cancelled() -> None:
        with logged(log, "waiting"):
            await asyncio.sleep(10)

    task = asyncio.create_task(cancelled())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
