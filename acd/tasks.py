"""The background work an ACD part starts (offers, followed conversations, three-way and consult legs):
kept while it runs, cancelled together when the part closes."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[object, object, None], name: str | None = None) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def running(self) -> list[asyncio.Task[None]]:
        return list(self._tasks)

    async def close(self) -> None:
        """Cancel what still runs and wait for it to end; errors were the tasks' own to log."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
