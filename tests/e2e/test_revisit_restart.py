"""A restart mid-campaign (issue 8): the service is killed with SIGKILL while the revisit robot is
calling; after the restart no finished revisit is called again and no pending one is skipped."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.service import Service, world_of
from tests.e2e.test_revisit import ANSWERS, fast_dialplan

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio]

PETITIONERS = [f"1370010{i:04d}" for i in range(9)]


async def robot_tasks(service: Service) -> dict[str, dict[str, Any]]:
    body = await service.api("GET", "/api/revisits/tasks?limit=1000")
    return {t["number"]: t for t in body["tasks"] if t["mode"] == "robot"}


async def until(service: Service, done: int, timeout: float, calling: int = 0) -> dict[str, dict[str, Any]]:
    """The tasks, once at least `done` of them are done and `calling` are being called."""
    deadline = time.monotonic() + timeout
    while True:
        tasks = await robot_tasks(service)
        statuses = [t["status"] for t in tasks.values()]
        if (statuses.count("done") >= done and statuses.count("calling") >= calling) or time.monotonic() > deadline:
            return tasks
        await asyncio.sleep(0.3)


@pytest.mark.timeout(420)
async def test_a_restart_mid_campaign_neither_repeats_a_finished_revisit_nor_skips_a_pending_one(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    plan = fast_dialplan(home)  # three at a time, so the campaign is still going when the service dies
    plan.write_text(plan.read_text().replace("max_concurrent: 16", "max_concurrent: 3"))
    service = Service(home, DIALPLAN=str(plan), REVISIT_DIALER="1")
    state = await service.start()
    try:
        async with world_of(state) as (_, ami):
            for number in PETITIONERS:
                await ami.action("Setvar", {"Variable": f"WORLD_PETITIONER_{number}", "Value": ANSWERS})
            rows = [{"number": n, "salutation": "李先生", "topic": "道路积水"} for n in PETITIONERS]
            assert (await service.api("POST", "/api/revisits/tasks", {"tasks": rows}))["imported"] == len(rows)

            before = await until(service, 1, timeout=150, calling=1)  # some finished, some in the middle
            finished = {n: t for n, t in before.items() if t["status"] == "done"}
            assert finished and any(t["status"] == "calling" for t in before.values()), before
            service.kill()
            await asyncio.wait_for(service.proc.wait(), 10)  # type: ignore[union-attr]
            await service.start()

            after = await until(service, len(PETITIONERS), timeout=240)
            assert {n: f"{t['status']}/{t['result']}" for n, t in after.items()} == {
                n: "done/completed" for n in PETITIONERS}, "every pending revisit was made"
            for number, task in finished.items():
                assert after[number]["attempts"] == task["attempts"] == 1, "a finished revisit is not called again"
                assert after[number]["answers"] == task["answers"]
            assert all(t["attempts"] <= 2 for t in after.values()), after  # a call cut by the kill is made once more
    finally:
        await service.stop()
